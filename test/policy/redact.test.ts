/**
 * Redaction (DESIGN §8): `sk-ant-oat01-…[len=108 #3fa91c]` — a known vendor prefix, the length,
 * the first 6 hex of SHA-256 (computed here independently), never trailing characters; and the
 * URL and free-text forms.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { knownSecrets, redact, redactCredentialValue, redactText, redactToken, redactUrl, secretsIn } from "../../src/policy/redact.js";
import {
  ALL_TEST_SECRETS,
  ANTHROPIC_API_KEY,
  findLeaks,
  GATEWAY_TOKEN,
  GOOGLE_API_KEY,
  GOOGLE_OAUTH,
  OAUTH_TOKEN,
  OPENAI_KEY,
  OPENROUTER_KEY,
  RELAY_TOKEN,
} from "../fixtures/tokens.js";
import { b64, encodeDashes, SHAPES } from "../fixtures/shapes.js";

const sha6 = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 6);
const expected = (prefix: string, token: string) => `${prefix}…[len=${token.length} #${sha6(token)}]`;

describe("redactToken", () => {
  it.each([
    ["Anthropic OAuth", OAUTH_TOKEN, "sk-ant-oat01-"],
    ["Anthropic API key", ANTHROPIC_API_KEY, "sk-ant-api03-"],
    ["OpenAI project key", OPENAI_KEY, "sk-proj-"],
    ["OpenRouter key", OPENROUTER_KEY, "sk-or-v1-"],
    ["Google API key", GOOGLE_API_KEY, "AIza"],
    ["Google OAuth", GOOGLE_OAUTH, "ya29."],
    ["OpenAI service account", "sk-svcacct-0123456789abcdef", "sk-svcacct-"],
    ["OpenAI legacy", "sk-0123456789abcdefghij", "sk-"],
    ["unknown gateway token: no prefix", GATEWAY_TOKEN, ""],
    ["relay token: no prefix", RELAY_TOKEN, ""],
    ["upper-case lookalike: not a known prefix", "SK-ANT-OAT01-0123456789abcdef", ""],
    ["short secret after a prefix: prefix hidden too", "sk-ant-oat01-abc", ""],
    ["short unknown", "abc", ""],
  ])("%s", (_label, token, prefix) => {
    const redacted = redactToken(token);
    expect(redacted).toBe(expected(prefix, token));
    // never trailing characters: the last 4 of the secret are not in the output
    expect(redacted.includes(token.slice(-4))).toBe(false);
  });

  it("matches the documented format for a 108-character OAuth token", () => {
    expect(OAUTH_TOKEN).toHaveLength(108);
    expect(redactToken(OAUTH_TOKEN)).toMatch(/^sk-ant-oat01-…\[len=108 #[0-9a-f]{6}\]$/);
  });

  it("is stable (same token, same form) and distinguishes tokens", () => {
    expect(redactToken(OAUTH_TOKEN)).toBe(redactToken(OAUTH_TOKEN));
    expect(redactToken(OAUTH_TOKEN)).not.toBe(redactToken(`${OAUTH_TOKEN.slice(0, -1)}x`));
  });

  it("no test secret survives in any form", () => {
    expect(findLeaks(ALL_TEST_SECRETS.map(redactToken).join("\n"))).toEqual([]);
  });
});

describe("redactCredentialValue", () => {
  it.each([
    ["Bearer scheme kept", `Bearer ${OAUTH_TOKEN}`, `Bearer ${expected("sk-ant-oat01-", OAUTH_TOKEN)}`],
    ["scheme case kept", `bearer ${OPENAI_KEY}`, `bearer ${expected("sk-proj-", OPENAI_KEY)}`],
    ["Basic scheme kept", "Basic dXNlcjpzZWNyZXRwYXNz", `Basic ${expected("", "dXNlcjpzZWNyZXRwYXNz")}`],
    ["raw key", ANTHROPIC_API_KEY, expected("sk-ant-api03-", ANTHROPIC_API_KEY)],
    ["unknown scheme: whole value", `Weird ${GATEWAY_TOKEN}`, expected("", `Weird ${GATEWAY_TOKEN}`)],
  ])("%s", (_label, value, out) => {
    expect(redactCredentialValue(value)).toBe(out);
  });
});

describe("redactUrl", () => {
  it.each([
    ["userinfo", "https://user:hunter2pass@example.com/v1", `https://${expected("", "user:hunter2pass")}@example.com/v1`],
    ["key= query param", `/v1beta/models/gemini:generate?key=${GOOGLE_API_KEY}&alt=sse`, `/v1beta/models/gemini:generate?key=${expected("AIza", GOOGLE_API_KEY)}&alt=sse`],
    ["api_key and token params, others kept", `/x?beta=true&api_key=${GATEWAY_TOKEN}&token=${RELAY_TOKEN}`, `/x?beta=true&api_key=${expected("", GATEWAY_TOKEN)}&token=${expected("", RELAY_TOKEN)}`],
    ["URL-encoded param name", `/x?%6Bey=${GOOGLE_API_KEY}`, `/x?%6Bey=${expected("AIza", GOOGLE_API_KEY)}`],
    ["relay token path prefix", `/_t/${RELAY_TOKEN}/v1/messages?beta=true`, `/_t/${expected("", RELAY_TOKEN)}/v1/messages?beta=true`],
    ["relay token path prefix in an absolute URL", `http://127.0.0.1:8742/_t/${RELAY_TOKEN}/v1/messages`, `http://127.0.0.1:8742/_t/${expected("", RELAY_TOKEN)}/v1/messages`],
    ["a key pasted into the path", `/mock/v1/${OAUTH_TOKEN}/messages?beta=true`, `/mock/v1/${expected("sk-ant-oat01-", OAUTH_TOKEN)}/messages?beta=true`],
    ["nothing secret: unchanged", "/v1/messages?beta=true", "/v1/messages?beta=true"],
    ["empty key= unchanged", "/x?key=", "/x?key="],
  ])("%s", (_label, url, out) => {
    expect(redactUrl(url)).toBe(out);
  });
});

describe("redactText", () => {
  const secrets = [OAUTH_TOKEN, RELAY_TOKEN, GATEWAY_TOKEN];
  it.each([
    ["raw", `request failed: Bearer ${OAUTH_TOKEN} rejected`, `request failed: Bearer ${expected("sk-ant-oat01-", OAUTH_TOKEN)} rejected`],
    ["URL-encoded", `GET /?t=${encodeURIComponent(`a/${GATEWAY_TOKEN}+`)} and ${encodeURIComponent(OAUTH_TOKEN)}`, undefined],
    ["base64", `header: ${Buffer.from(RELAY_TOKEN).toString("base64")}`, `header: ${expected("", RELAY_TOKEN)}`],
    ["inside a URL", `connect ECONNREFUSED http://127.0.0.1:1/_t/${RELAY_TOKEN}/v1`, `connect ECONNREFUSED http://127.0.0.1:1/_t/${expected("", RELAY_TOKEN)}/v1`],
    ["an unknown secret in a URL query", `fetch https://g.example/v1?key=zzUnknownSecret123 failed`, `fetch https://g.example/v1?key=${expected("", "zzUnknownSecret123")} failed`],
  ])("%s", (_label, text, out) => {
    const redacted = redactText(text, secrets);
    expect(findLeaks(redacted)).toEqual([]);
    if (out !== undefined) expect(redacted).toBe(out);
  });

  it("an OAuth token URL-encoded is replaced by its redacted form", () => {
    const tokenWithReserved = `${OAUTH_TOKEN}/+=`;
    const text = `q=${encodeURIComponent(tokenWithReserved)}`;
    expect(redactText(text, [tokenWithReserved])).toBe(`q=${expected("sk-ant-oat01-", tokenWithReserved)}`);
  });
});

const VENDOR_SECRETS = [OAUTH_TOKEN, ANTHROPIC_API_KEY, OPENAI_KEY, OPENROUTER_KEY, GOOGLE_API_KEY, GOOGLE_OAUTH];

describe("redact: secrets by their own shape", () => {
  const known = knownSecrets([RELAY_TOKEN, GATEWAY_TOKEN]);
  const cases = SHAPES.flatMap(([shape, make]) =>
    [...VENDOR_SECRETS, RELAY_TOKEN, GATEWAY_TOKEN].map((secret) => [shape, secret.slice(0, 10), make, secret] as const),
  );
  it.each(cases)("%s: %s…", (_shape, _prefix, make, secret) => {
    const text = make(secret);
    const out = redact(text, known);
    expect(findLeaks(out), out).toEqual([]);
    expect(out).toMatch(/…\[len=\d+ #[0-9a-f]{6}\]/);
    // Idempotent: printing a redacted string again changes nothing.
    expect(redact(out, known)).toBe(out);
  });

  it("the redacted form names the secret itself, wherever and however it sat", () => {
    expect(redact(`/v1/messages;${OAUTH_TOKEN}`)).toBe(`/v1/messages;${expected("sk-ant-oat01-", OAUTH_TOKEN)}`);
    expect(redact(`?q=${encodeDashes(OAUTH_TOKEN)}`)).toBe(`?q=${expected("sk-ant-oat01-", OAUTH_TOKEN)}`);
    expect(redact(`x ${b64(OPENAI_KEY)} y`)).toBe(`x ${expected("sk-proj-", OPENAI_KEY)} y`);
    expect(redact(`/_t/${RELAY_TOKEN}/_t/${RELAY_TOKEN}/v1`, knownSecrets([RELAY_TOKEN]))).toBe(
      `/_t/${expected("", RELAY_TOKEN)}/_t/${expected("", RELAY_TOKEN)}/v1`,
    );
    expect(redact(`/v1?session=${RELAY_TOKEN}`, knownSecrets([RELAY_TOKEN]))).toBe(`/v1?session=${expected("", RELAY_TOKEN)}`);
  });

  it.each([
    ["no secret at all", "claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14"],
    ["a word containing sk-", "task-force-2025-reports"],
    ["an upper-case lookalike (§4 prefixes are case-sensitive)", "SK-ANT-OAT01-0123456789abcdef"],
    ["a prefix with too little after it", "sk-abc"],
    ["a plain query", "/v1/messages?beta=true"],
    ["a percent-encoded space", "/v1/files/my%20file.txt"],
    ["an email", "dev@example.com"],
  ])("leaves text without secrets alone: %s", (_label, text) => {
    expect(redact(text, known)).toBe(text);
  });

  it("known secrets shorter than the minimum are ignored (they would redact ordinary words)", () => {
    expect(redact("the cat sat", knownSecrets(["cat"]))).toBe("the cat sat");
  });
});

describe("secretsIn: what the policies see", () => {
  it.each(SHAPES)("finds the OAuth token %s", (_shape, make) => {
    expect(secretsIn(make(OAUTH_TOKEN))).toContain(OAUTH_TOKEN);
  });
  it("finds known values and nothing in clean text", () => {
    expect(secretsIn(`a/${RELAY_TOKEN}/b`, knownSecrets([RELAY_TOKEN]))).toEqual([RELAY_TOKEN]);
    expect(secretsIn("/v1/messages?beta=true")).toEqual([]);
  });
});
