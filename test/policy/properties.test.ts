/**
 * "Secrets stay where they belong in every place they can sit" (issue 12), as fast-check
 * properties over generated header maps, request targets and providers, with §4 tokens embedded
 * in arbitrary shapes (quotes, brackets, URLs, query parameters, path segments, base64,
 * percent-encoding, repeated headers):
 *
 * 1. an OAuth token reaches the outgoing headers or target only for a trusted anthropic-kind
 *    provider, never in `x-api-key`; a client's vendor key only where §5 lets it go;
 * 2. the outgoing headers agree with the decisions;
 * 3. no printable output of the core (decision values and reasons, redacted URLs and text,
 *    route descriptions, the upstream path shown) holds any 8-character run of a secret.
 *
 * 10,000 cases per property. On failure fast-check prints the seed and the path of the shrunk
 * case in the error (`fc.assert(…, { seed, path })` replays it).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveConfig, type ResolvedConfig, type ResolvedProvider } from "../../src/config/resolve.js";
import type { RelayConfig } from "../../src/config/schema.js";
import { classifyCredential } from "../../src/policy/credentials.js";
import { decideHeaders } from "../../src/policy/headers.js";
import { withholdKeyReason, withholdOAuthReason } from "../../src/policy/reach.js";
import { knownSecrets, redact, secretsIn } from "../../src/policy/redact.js";
import { isRefusal, planRequest } from "../../src/relay/plan.js";
import { routeConditionTexts } from "../../src/routing/route.js";
import { b64, encodeAll, encodeDashes } from "../fixtures/shapes.js";

const RUNS = { numRuns: 10_000, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED), path: process.env.FC_PATH, endOnFailure: true } : {}) };
/** 10,000 cases take a few seconds alone, far longer on a loaded machine: no 30 s per-test timeout. */
const LONG = 180_000;

// --- secrets ----------------------------------------------------------------------------------

const BODY_CHARS = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"];
const body = (min: number, max: number) => fc.array(fc.constantFrom(...BODY_CHARS), { minLength: min, maxLength: max }).map((cs) => cs.join(""));

/** A vendor token of each §4 kind, with its public prefix (everything after it is secret). */
const vendorToken = fc.oneof(
  body(20, 95).map((b) => ({ token: `sk-ant-oat01-${b}`, prefix: "sk-ant-oat01-" })),
  body(20, 95).map((b) => ({ token: `sk-ant-api03-${b}`, prefix: "sk-ant-api03-" })),
  body(20, 80).map((b) => ({ token: `sk-proj-${b}`, prefix: "sk-proj-" })),
  body(20, 48).map((b) => ({ token: `sk-or-v1-${b}`, prefix: "sk-or-v1-" })),
  body(30, 35).map((b) => ({ token: `AIza${b}`, prefix: "AIza" })),
  body(20, 80).map((b) => ({ token: `ya29.${b}`, prefix: "ya29." })),
  body(32, 48).map((b) => ({ token: `sk-${b}`, prefix: "sk-" })),
);
/** Secrets known by value: the relay token, a configured key. No public prefix. */
const knownValue = body(16, 43);

type Shape = (token: string) => string;
const SHAPE_LIST: Shape[] = [
  (t) => t,
  (t) => `Bearer ${t}`,
  (t) => `bearer\t${t}`,
  (t) => `Bearer "${t}"`,
  (t) => `Bearer Bearer ${t}`,
  (t) => `<${t}>`,
  (t) => `id(${t})`,
  (t) => `[${t}]`,
  (t) => `'${t}'`,
  (t) => `token=${t}`,
  (t) => `tok_${t}`,
  (t) => `http://127.0.0.1:9/cb/${t}`,
  (t) => `https://x.example/a?x-api-key=${t}&b=1`,
  (t) => `/v1/messages;${t}`,
  (t) => `key=${t}`,
  (t) => encodeAll(t),
  (t) => encodeDashes(t),
  (t) => encodeAll(t).toLowerCase(),
  (t) => encodeAll(t).replace(/%/g, "%25"),
  (t) => b64(t),
  (t) => `Basic ${b64(`user:${t}`)}`,
  (t) => `Basic ${b64(`u:${t}`)}`,
  (t) => Buffer.from(`{"k":"${t}"}`).toString("base64url"),
  (t) => `${t}, ${t}`,
];
const shape = fc.constantFrom(...SHAPE_LIST);

/** Every 8-character run of the secret part of `token` (runs inside its public prefix are public). */
function secretRuns(token: string, prefix: string): string[] {
  const runs: string[] = [];
  for (let i = Math.max(0, prefix.length - 7); i + 8 <= token.length; i++) runs.push(token.slice(i, i + 8));
  return runs;
}

/** The first 8-character run of a secret found in `text`, if any. */
function leakedRun(text: string, secrets: ReadonlyArray<{ token: string; prefix: string }>): string | undefined {
  const grams = new Set<string>();
  for (let i = 0; i + 8 <= text.length; i++) grams.add(text.slice(i, i + 8));
  for (const { token, prefix } of secrets) for (const run of secretRuns(token, prefix)) if (grams.has(run)) return `${run} of ${prefix}…`;
  return undefined;
}

// --- providers --------------------------------------------------------------------------------

const ORIGINS = [
  "https://api.anthropic.com",
  "https://api.openai.com",
  "https://openrouter.ai/api",
  "https://generativelanguage.googleapis.com",
  "https://api.deepseek.com/anthropic",
  "http://127.0.0.1:11434",
  "https://gw.example/base",
];
const providerConfig = fc.record(
  {
    kind: fc.constantFrom("anthropic", "openai", "gemini", "generic"),
    baseUrl: fc.constantFrom(...ORIGINS),
    oauth: fc.constantFrom("forward", "strip"),
    clientKeys: fc.constantFrom("forward", "strip"),
  },
  { requiredKeys: ["kind", "baseUrl"] },
);

interface World {
  config: ResolvedConfig;
  provider: ResolvedProvider;
  relayToken: string;
  apiKey?: string | undefined;
}

const world = fc
  .record({ p: providerConfig, relayToken: knownValue, apiKey: fc.option(knownValue, { nil: undefined }) })
  .filter(({ relayToken, apiKey }) => apiKey !== relayToken)
  .map(({ p, relayToken, apiKey }): World => {
    const raw: RelayConfig = { providers: { p: { ...p, ...(apiKey !== undefined ? { apiKey } : {}) } } };
    const config = resolveConfig(raw, { source: { via: "inline" }, env: {} });
    return { config, provider: config.providers.get("p")!, relayToken, apiKey };
  });

function oauthTrusted(provider: ResolvedProvider): boolean {
  return withholdOAuthReason(provider) === undefined;
}

/** Every token in `text` (decoded from any shape), classified. */
function tokensIn(text: string): Array<{ token: string; kind: string }> {
  return secretsIn(text).map((token) => ({ token, kind: classifyCredential(token).kind }));
}

// --- headers ----------------------------------------------------------------------------------

const HEADER_NAMES = ["authorization", "x-api-key", "api-key", "x-goog-api-key", "x-custom", "referer", "x-note", "user-agent", "x-trace-id", "anthropic-beta"];
const embedded = fc.record({ secret: vendorToken, shape });
const headerMap = fc.array(
  fc.record({
    name: fc.constantFrom(...HEADER_NAMES),
    parts: fc.array(embedded, { minLength: 1, maxLength: 2 }),
  }),
  { minLength: 1, maxLength: 5 },
);

describe("properties of the header policy (10,000 cases each)", () => {
  it("OAuth only to a trusted anthropic-kind provider and never in x-api-key; vendor keys only where §5 allows; headers agree with decisions; no printable secret", () => {
    fc.assert(
      fc.property(world, headerMap, fc.boolean(), ({ config, provider, relayToken, apiKey }, entries, withRelayToken) => {
        const headers: Record<string, string | string[]> = { "anthropic-beta": "claude-code-20250219,oauth-2025-04-20" };
        const secrets = [...entries.flatMap((e) => e.parts.map((p) => p.secret))];
        for (const { name, parts } of entries) {
          const values = parts.map((p) => p.shape(p.secret.token));
          // a repeated header arrives as an array (Node joins most of them with ", ")
          headers[name] = values.length === 1 ? values[0]! : values;
        }
        if (withRelayToken) headers["x-trace-id"] = `t-${relayToken}`;
        const known = knownSecrets([relayToken, apiKey]);
        const plan = decideHeaders({ headers, provider, relayToken, secrets: known, via: "1.1 llm-relay-prop" });

        // 1. where tokens went
        for (const [name, value] of Object.entries(plan.headers)) {
          for (const { token, kind } of tokensIn(value)) {
            // The configured key as configured, even when a generated one happens to hold a vendor shape (`…-sk-oIhY…`, seed 1826799240).
            if (token === apiKey || (apiKey !== undefined && apiKey.includes(token))) continue;
            if (kind === "anthropic-oauth") {
              expect(oauthTrusted(provider), `OAuth in ${name} to ${provider.origin}`).toBe(true);
              expect(name).not.toBe("x-api-key");
            } else {
              expect(withholdKeyReason(classifyCredential(token).kind, provider), `${kind} in ${name} to ${provider.origin} (${provider.kind})`).toBeUndefined();
            }
          }
          expect(value.includes(relayToken), `relay token in ${name}`).toBe(false);
        }
        // 2. outgoing headers agree with the decisions
        const names = plan.decisions.map((d) => d.header);
        expect(new Set(names).size).toBe(names.length);
        const sent = plan.decisions.filter((d) => d.header !== "host" && (d.action === "forward" || d.action === "set" || d.action === "rewrite"));
        expect(Object.keys(plan.headers).sort()).toEqual(sent.map((d) => d.header).sort());
        // 3. nothing printable holds a run of a secret
        const printable = JSON.stringify(plan.decisions);
        const all = [...secrets, { token: relayToken, prefix: "" }, ...(apiKey ? [{ token: apiKey, prefix: "" }] : [])];
        expect(leakedRun(printable, all)).toBeUndefined();
        // the relay's own config: the injected key never shows up raw either
        expect(config.providers.size).toBeGreaterThan(0);
      }),
      RUNS,
    );
  }, LONG);
});

// --- targets ----------------------------------------------------------------------------------

const plainSegment = fc.constantFrom("v1", "messages", "p", "other", "api", "files", "a.b", "...", "count_tokens");
const dotSegment = fc.constantFrom(".", "..", "%2e%2e", ".%2E", "%2e");
const segment = (relayToken: string) =>
  fc.oneof(
    { weight: 6, arbitrary: plainSegment },
    { weight: 2, arbitrary: dotSegment },
    { weight: 1, arbitrary: fc.constant("_t") },
    { weight: 1, arbitrary: fc.constant(relayToken) },
    { weight: 1, arbitrary: fc.constant(encodeAll(relayToken)) },
    { weight: 1, arbitrary: embedded.map((e) => e.shape(e.secret.token).replace(/[/?#\s"'<>]/g, "")) },
  );
const queryParam = (relayToken: string) =>
  fc.oneof(
    fc.constant("beta=true"),
    fc.constant(`session=${relayToken}`),
    fc.constant(`q=${encodeAll(relayToken)}`),
    fc.record({ name: fc.constantFrom("key", "access_token", "x-api-key", "anthropic_api_key", "q", "authorization"), e: embedded }).map(
      ({ name, e }) => `${name}=${encodeURIComponent(e.shape(e.secret.token))}`,
    ),
    fc.record({ name: fc.constantFrom("key", "q"), e: embedded }).map(({ name, e }) => `${name}=${e.shape(e.secret.token).replace(/[&#\s]/g, "")}`),
  );

/** RFC 3986 §5.2.4: no `.`/`..` segment (encoded or not) is left. */
function hasDotSegment(path: string): boolean {
  return path.split("/").some((s) => /^(?:\.|%2e){1,2}$/i.test(s));
}

describe("properties of the target policy (10,000 cases each)", () => {
  it("normalised under the provider's prefix, the relay token nowhere, OAuth only to a trusted provider, nothing printable holds a secret", () => {
    const arb = world.chain((w) =>
      fc.record({
        w: fc.constant(w),
        prefixes: fc.integer({ min: 0, max: 2 }),
        segments: fc.array(segment(w.relayToken), { minLength: 1, maxLength: 6 }),
        params: fc.array(queryParam(w.relayToken), { maxLength: 4 }),
        secrets: fc.array(vendorToken, { maxLength: 0 }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ w, prefixes, segments, params }) => {
        const { config, relayToken, apiKey } = w;
        const rawPath = `${`/_t/${relayToken}`.repeat(prefixes)}/p/${segments.join("/")}`;
        const query = params.length === 0 ? "" : `?${params.join("&")}`;
        const plan = planRequest({ path: rawPath, query, headers: {}, config, relayToken });
        const secrets = [...secretsIn(`${rawPath}${query}`).filter((t) => t !== relayToken && t !== apiKey).map((t) => ({ token: t, prefix: /^(?:sk-ant-[a-z]+\d*-|sk-or-v\d+-|sk-proj-|sk-|ya29\.|AIza)/.exec(t)?.[0] ?? "" })), { token: relayToken, prefix: "" }];
        if (plan === undefined) return; // 404: nothing relayed
        if (isRefusal(plan)) {
          expect(plan.refused.status).toBe(400);
          expect(leakedRun(plan.refused.message, secrets)).toBeUndefined();
          return;
        }
        const { provider } = plan.route;
        const upstream = plan.upstreamPath;
        const [upath = "", uquery = ""] = upstream.split("?");
        expect(upath.startsWith(`${provider.pathPrefix}/`), upstream).toBe(true);
        expect(hasDotSegment(upath), upstream).toBe(false);
        expect(/%2f|%5c|\\/i.test(upath), upstream).toBe(false);
        expect(secretsIn(upstream, knownSecrets([relayToken])).includes(relayToken), upstream).toBe(false);
        for (const { token, kind } of tokensIn(`${upath}?${uquery}`)) {
          if (kind === "anthropic-oauth") expect(oauthTrusted(provider), `OAuth in the target to ${provider.origin}`).toBe(true);
          else expect(withholdKeyReason(classifyCredential(token).kind, provider), `${kind} in the target`).toBeUndefined();
        }
        const printable = `${plan.upstreamDisplay}\n${plan.route.matchedBy}\n${JSON.stringify(plan.targetDecisions)}\n${JSON.stringify(plan.headers.decisions)}`;
        expect(leakedRun(printable, secrets)).toBeUndefined();
      }),
      RUNS,
    );
  }, LONG);
});

// --- redaction --------------------------------------------------------------------------------

// A bare `sk-` needs a boundary (`task-force-…` is no key), so no filler ends in a letter or digit.
const filler = fc.constantFrom("", " ", "x ", "GET ", "/v1/", "?a=1&", "; ", "\n", "error: ", "=", ",", ":", "(", ")");

describe("properties of redaction (10,000 cases each)", () => {
  it("redact leaves no 8-character run of an embedded secret, in any shape, and is idempotent", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ before: filler, e: embedded, after: filler }), { minLength: 1, maxLength: 4 }),
        knownValue,
        fc.constantFrom(...SHAPE_LIST),
        (pieces, known, knownShape) => {
          // Shapes may end in a digit (`…&b=1`): a space keeps the next token from gluing onto it.
          const text = `${pieces.reduce((acc, { before, e, after }) => {
            const part = `${before}${e.shape(e.secret.token)}${after}`;
            return acc + (/[A-Za-z0-9]$/.test(acc) && /^[A-Za-z0-9]/.test(part) ? " " : "") + part;
          }, "")} ${knownShape(known)}`;
          const secrets = knownSecrets([known]);
          const out = redact(text, secrets);
          expect(leakedRun(out, [...pieces.map((p) => p.e.secret), { token: known, prefix: "" }])).toBeUndefined();
          expect(redact(out, secrets)).toBe(out);
        },
      ),
      RUNS,
    );
  }, LONG);

  it("a route matching on a secret header value is described without it", () => {
    fc.assert(
      fc.property(vendorToken, shape, fc.constantFrom("x-api-key", "x-team", "authorization", "x-custom"), (secret, make, name) => {
        const value = make(secret.token).replace(/[\r\n]/g, "");
        const config = resolveConfig({ routes: [{ header: { [name]: value }, provider: "anthropic" }] }, { source: { via: "inline" }, env: {} });
        expect(leakedRun(routeConditionTexts(config.routes[0]!).join(" "), [secret])).toBeUndefined();
      }),
      RUNS,
    );
  }, LONG);
});
