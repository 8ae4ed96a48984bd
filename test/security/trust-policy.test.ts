/**
 * The pure half of config trust (DESIGN §8) and of crash-output hygiene, as tables: which
 * origins need approval, which sources are trusted without it, hash pinning, literal-secret
 * detection, and `printError` scrubbing secrets from whatever an error message quotes.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { resolveConfig, type ConfigSource } from "../../src/config/resolve.js";
import type { RelayConfig } from "../../src/config/schema.js";
import {
  approvalState,
  EMPTY_STORE,
  isTrusted,
  parseTrustStore,
  withoutApproval,
  literalSecretPaths,
  needsApproval,
  readableByOthers,
  untrustedOrigins,
  withApproval,
} from "../../src/config/trust.js";
import { knownSecrets, printError } from "../../src/cli/errors.js";
import { findLeaks, INJECTED_KEY, OPENROUTER_KEY, RELAY_TOKEN } from "../fixtures/tokens.js";

const SEARCHED: ConfigSource = { file: "/repo/.llm-relayrc.json", via: "search" };
const env = { KEY: OPENROUTER_KEY };
const resolve = (raw: RelayConfig, source: ConfigSource = SEARCHED) => resolveConfig(raw, { source, env });
const provider = (baseUrl: string, extra: object = {}) => ({ providers: { p: { kind: "anthropic" as const, baseUrl, ...extra } } });

describe("untrustedOrigins", () => {
  it.each([
    ["the embedded default", {}, []],
    ["the official Anthropic origin with a path prefix", provider("https://api.anthropic.com/v1beta"), []],
    ["the official OpenAI origin with a key", provider("https://api.openai.com", { apiKey: { env: "KEY" } }), []],
    ["the official Gemini origin", provider("https://generativelanguage.googleapis.com"), []],
    ["loopback 127.0.0.1", provider("http://127.0.0.1:11434", { apiKey: { env: "KEY" } }), []],
    ["loopback localhost", provider("http://localhost:4000"), []],
    ["loopback [::1]", provider("http://[::1]:4000"), []],
    ["clientKeys: forward on the official Anthropic origin", provider("https://api.anthropic.com", { clientKeys: "forward" }), []],
    ["clientKeys: forward on loopback (issue 12 class 9)", provider("http://127.0.0.1:11434", { clientKeys: "forward" }), [{ origin: "http://127.0.0.1:11434", carries: ['your vendor API keys via clientKeys: "forward"'] }]],
    ["clientKeys: forward on a gateway", provider("https://gw.example", { clientKeys: "forward" }), [{ origin: "https://gw.example", carries: ["unrecognised client tokens", 'your vendor API keys via clientKeys: "forward"'] }]],
    ["clientKeys: strip on loopback", provider("http://127.0.0.1:11434", { clientKeys: "strip" }), []],
    ["a gateway with an apiKey", provider("https://gw.example/api", { apiKey: { env: "KEY" } }), [{ origin: "https://gw.example", carries: ["apiKey"] }]],
    ["a gateway receiving client credentials", provider("https://gw.example"), [{ origin: "https://gw.example", carries: ["unrecognised client tokens"] }]],
    ["OpenRouter (not an official origin)", provider("https://openrouter.ai/api"), [{ origin: "https://openrouter.ai", carries: ["unrecognised client tokens"] }]],
    ["plain http to the official host", provider("http://api.anthropic.com"), [{ origin: "http://api.anthropic.com", carries: ["unrecognised client tokens"] }]],
    ["a look-alike host", provider("https://api.anthropic.com.evil.example"), [{ origin: "https://api.anthropic.com.evil.example", carries: ["unrecognised client tokens"] }]],
    ["a LAN address", provider("http://192.168.1.20:8080"), [{ origin: "http://192.168.1.20:8080", carries: ["unrecognised client tokens"] }]],
    ["a *.localhost name (not loopback)", provider("http://llm.localhost:11434"), [{ origin: "http://llm.localhost:11434", carries: ["unrecognised client tokens"] }]],
    // §8: oauth: "forward" anywhere but Anthropic's official origin needs approval.
    ["oauth forward on the official Anthropic origin", provider("https://api.anthropic.com", { oauth: "forward" }), []],
    ["oauth forward on OpenAI's official origin", provider("https://api.openai.com", { oauth: "forward" }), [{ origin: "https://api.openai.com", carries: ['your Claude OAuth token via oauth: "forward"'] }]],
    ["oauth forward on Gemini's official origin", provider("https://generativelanguage.googleapis.com", { oauth: "forward" }), [{ origin: "https://generativelanguage.googleapis.com", carries: ['your Claude OAuth token via oauth: "forward"'] }]],
    ["oauth forward on loopback", provider("http://127.0.0.1:4000", { oauth: "forward" }), [{ origin: "http://127.0.0.1:4000", carries: ['your Claude OAuth token via oauth: "forward"', 'your vendor API keys via clientKeys: "forward"'] }]],
    ["oauth forward on plain http to the official host", provider("http://api.anthropic.com", { oauth: "forward" }), [{ origin: "http://api.anthropic.com", carries: ["unrecognised client tokens", 'your Claude OAuth token via oauth: "forward"', 'your vendor API keys via clientKeys: "forward"'] }]],
    ["oauth forward on a gateway", provider("https://gw.example", { oauth: "forward" }), [{ origin: "https://gw.example", carries: ["unrecognised client tokens", 'your Claude OAuth token via oauth: "forward"', 'your vendor API keys via clientKeys: "forward"'] }]],
    ["oauth strip on loopback", provider("http://127.0.0.1:4000", { oauth: "strip" }), []],
    [
      "oauth forward on an openai-kind provider at OpenAI's origin",
      { providers: { o: { kind: "openai" as const, baseUrl: "https://api.openai.com", oauth: "forward" as const } } },
      [{ origin: "https://api.openai.com", carries: ['your Claude OAuth token via oauth: "forward"'] }],
    ],
    [
      "the built-in anthropic redefined",
      { providers: { anthropic: { kind: "anthropic" as const, baseUrl: "https://gw.example" } } },
      [{ origin: "https://gw.example", carries: ["unrecognised client tokens"] }],
    ],
  ])("%s", (_name, raw, expected) => {
    const found = untrustedOrigins(resolve(raw)).map(({ origin, carries }) => ({ origin, carries }));
    expect(found).toEqual(expected);
  });
});

describe("needsApproval", () => {
  const offsite = provider("https://gw.example", { apiKey: { env: "KEY" } });
  it.each([
    ["found by search, off-site", true, offsite, SEARCHED],
    ["found by search, official only", false, {}, SEARCHED],
    ["found by search, listening beyond loopback", true, { host: "0.0.0.0" }, SEARCHED],
    ["found by search, listening on a *.localhost name", true, { host: "app.localhost" }, SEARCHED],
    ["found by search, oauth forward to OpenAI's origin", true, provider("https://api.openai.com", { oauth: "forward" }), SEARCHED],
    ["found by search, oauth forward to loopback", true, provider("http://localhost:4000", { oauth: "forward" }), SEARCHED],
    ["--config, oauth forward to OpenAI's origin", false, provider("https://api.openai.com", { oauth: "forward" }), { file: "/repo/x.json", via: "flag" }],
    ["--config, off-site", false, offsite, { file: "/repo/x.json", via: "flag" }],
    ["LLM_RELAY_CONFIG, off-site", false, offsite, { file: "/repo/x.json", via: "env" }],
    ["the user config folder, off-site", false, offsite, { file: "/home/u/.config/llm-relay/config.json", via: "user" }],
    ["an inline config (startRelay API), off-site", false, offsite, { via: "inline" }],
  ] as const)("%s → needs approval: %s", (_name, expected, raw, source) => {
    expect(needsApproval(resolve(raw, source))).toBe(expected);
  });
});

describe("approval binding (path and hash)", () => {
  const a = "a".repeat(64);
  const b = "b".repeat(64);
  const A = "/work/a/llm-relay.config.mjs";
  const B = "/work/b/llm-relay.config.mjs";
  const once = withApproval(EMPTY_STORE, A, a, new Date(0));
  const edited = withApproval(once, A, b, new Date(0));
  const v1 = parseTrustStore(JSON.stringify({ version: 1, files: { [A]: { sha256: a, approvedAt: "2026-01-01T00:00:00.000Z" } } }));
  it.each([
    ["nothing approved", EMPTY_STORE, A, a, false],
    ["the approved path and hash", once, A, a, true],
    ["the same bytes at another path", once, B, a, false],
    ["the approved path with other bytes", once, A, b, false],
    ["re-approved after an edit: the new hash", edited, A, b, true],
    ["re-approved after an edit: the old hash", edited, A, a, false],
    ["a version-1 entry (hash alone), same path and hash", v1, A, a, false],
    ["a version-1 entry, another path", v1, B, a, false],
    ["a path that only differs by a trailing slash segment", once, `${A}/`, a, false],
  ] as const)("%s → trusted: %s", (_name, store, file, sha, expected) => {
    expect(isTrusted(file, sha, store)).toBe(expected);
  });

  it("a version-1 store is read as stale entries only; approving that path replaces the stale entry", () => {
    expect(v1.files).toEqual([]);
    expect(v1.stale).toEqual([{ path: A, sha256: a, approvedAt: "2026-01-01T00:00:00.000Z" }]);
    const reapproved = withApproval(v1, A, a, new Date(0));
    expect(reapproved.stale).toEqual([]);
    expect(isTrusted(A, a, reapproved)).toBe(true);
  });

  it.each([
    ["not JSON", "{"],
    ["null", "null"],
    ["an array", "[]"],
    ["version 2 with a non-list", JSON.stringify({ version: 2, files: { [A]: { sha256: a } } })],
    ["version 2 entry without a path", JSON.stringify({ version: 2, files: [{ sha256: a }] })],
  ])("a store that is %s approves nothing", (_name, text) => {
    expect(isTrusted(A, a, parseTrustStore(text))).toBe(false);
  });

  it("revoking drops the path from approvals and stale entries, and reports when nothing matched", () => {
    const both = withApproval(withApproval(EMPTY_STORE, A, a, new Date(0)), B, a, new Date(0));
    const revoked = withoutApproval(both, [A]);
    expect(revoked && isTrusted(A, a, revoked)).toBe(false);
    expect(revoked && isTrusted(B, a, revoked)).toBe(true);
    expect(withoutApproval(both, ["/elsewhere"])).toBeUndefined();
    expect(withoutApproval(v1, [A])).toEqual(EMPTY_STORE);
  });

  it.each([
    ["same hash", false, a, "ok"],
    ["other hash", false, b, "changed"],
    ["file gone", false, undefined, "missing"],
    ["version-1 entry", true, a, "stale-v1-entry"],
  ] as const)("list state: %s → %s", (_name, stale, current, expected) => {
    expect(approvalState({ path: A, sha256: a, approvedAt: "" }, stale, current)).toBe(expected);
  });
});

describe("literal secrets", () => {
  it.each([
    ["an env reference", { ...provider("https://gw.example", { apiKey: { env: "KEY" } }), token: { env: "KEY" } }, []],
    ["a literal apiKey", provider("https://gw.example", { apiKey: INJECTED_KEY }), ["providers.p.apiKey"]],
    ["a literal token", { token: RELAY_TOKEN }, ["token"]],
  ])("%s", (_name, raw, expected) => {
    expect(literalSecretPaths(resolve(raw as RelayConfig))).toEqual(expected);
  });

  it.each([
    ["0600", false],
    ["0400", false],
    ["0640", true],
    ["0604", true],
    ["0644", true],
  ])("mode %s readable by others: %s", (mode, expected) => {
    expect(readableByOthers(0o100000 | parseInt(mode, 8))).toBe(expected);
  });
});

describe("crash output", () => {
  afterEach(() => {
    vi.restoreAllMocks();
    knownSecrets.clear();
  });

  it.each([
    ["raw", (s: string) => `request failed with header x-api-key: ${s}`],
    ["base64 (Basic auth)", (s: string) => `Authorization: Basic ${Buffer.from(s).toString("base64")}`],
    ["URL-encoded", (s: string) => `GET /v1?token=x&other=${encodeURIComponent(s)}`],
    ["in a proxy URL's userinfo", (s: string) => `connect ECONNREFUSED via http://user:${s}@127.0.0.1:1`],
    ["in a key= query of a URL", (s: string) => `fetch https://gw.example/v1?key=${s} failed`],
  ])("an internal error quoting a secret %s prints it redacted", (_name, message) => {
    knownSecrets.add(INJECTED_KEY);
    const writes: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    printError(new TypeError(message(INJECTED_KEY)));
    const out = writes.join("");
    expect(out).toMatch(/^llm-relay: internal error: /);
    expect(findLeaks(out, [INJECTED_KEY])).toEqual([]);
    expect(out).not.toMatch(/\n\s+at /);
  });

  it("a URL with userinfo or key= is redacted even when the secret was never registered", () => {
    const writes: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      writes.push(String(chunk));
      return true;
    });
    printError(new Error(`proxy http://proxyuser:${OPENROUTER_KEY}@10.0.0.1:3128 and https://gw.example/x?key=${INJECTED_KEY}`));
    expect(findLeaks(writes.join(""), [OPENROUTER_KEY, INJECTED_KEY])).toEqual([]);
  });
});
