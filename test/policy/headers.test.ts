/**
 * `decideHeaders` (DESIGN §5): every rule as a table row over providers built by the real config
 * resolver, plus invariants checked on every row (one decision per header, no raw secret in a
 * decision, outgoing headers agree with the decisions). Also response hop-by-hop stripping.
 */
import { describe, expect, it } from "vitest";
import { resolveConfig, type ResolvedProvider } from "../../src/config/resolve.js";
import { decideHeaders, OAUTH_BETA, type DecisionAction, type HeaderPlan } from "../../src/policy/headers.js";
import { responseHeadersToRelay, type HeaderMap } from "../../src/policy/hop-by-hop.js";
import {
  ALL_TEST_SECRETS,
  ANTHROPIC_API_KEY,
  findLeaks,
  GATEWAY_TOKEN,
  GOOGLE_API_KEY,
  GOOGLE_OAUTH,
  INJECTED_KEY,
  OAUTH_TOKEN,
  OAUTH_TOKEN_2,
  OPENAI_KEY,
  OPENROUTER_KEY,
  RELAY_TOKEN,
} from "../fixtures/tokens.js";
import { SHAPES } from "../fixtures/shapes.js";

const config = resolveConfig(
  {
    providers: {
      // an Anthropic-compatible third party: not trusted with a subscription token by default
      thirdparty: { kind: "anthropic", baseUrl: "https://llm.example.com/api" },
      trusted: { kind: "anthropic", baseUrl: "https://gateway.example.com", oauth: "forward" },
      // the same third party, trusted with the client's own vendor keys (not with OAuth)
      thirdpartyKeys: { kind: "anthropic", baseUrl: "https://llm.example.com/api", clientKeys: "forward" },
      // Anthropic-compatible endpoints that share the anthropic kind but are not Anthropic (issue 12 class 9)
      deepseek: { kind: "anthropic", baseUrl: "https://api.deepseek.com/anthropic" },
      localAnthropic: { kind: "anthropic", baseUrl: "http://127.0.0.1:8080" },
      ollamaKeys: { kind: "openai", baseUrl: "http://127.0.0.1:11434", clientKeys: "forward" },
      officialNoKeys: { kind: "anthropic", baseUrl: "https://api.anthropic.com", clientKeys: "strip" },
      openrouterNoKeys: { kind: "anthropic", baseUrl: "https://openrouter.ai/api", clientKeys: "strip" },
      openrouter: { kind: "anthropic", baseUrl: "https://openrouter.ai/api" },
      ollama: { kind: "openai", baseUrl: "http://127.0.0.1:11434" },
      gemini: { kind: "gemini", baseUrl: "https://generativelanguage.googleapis.com" },
      generic: { kind: "generic", baseUrl: "https://gw.example.com" },
      genericTrusting: { kind: "generic", baseUrl: "https://gw.example.com", oauth: "forward" },
      injectAnthropic: { kind: "anthropic", baseUrl: "https://llm.example.com", apiKey: { env: "INJECTED" } },
      injectAnthropicBearer: { kind: "anthropic", baseUrl: "https://llm.example.com", apiKey: { env: "INJECTED" }, auth: "bearer" },
      injectOpenai: { kind: "openai", baseUrl: "https://api.openai.com", apiKey: { env: "INJECTED" } },
      injectGemini: { kind: "gemini", baseUrl: "https://generativelanguage.googleapis.com", apiKey: { env: "INJECTED" } },
      injectGeneric: { kind: "generic", baseUrl: "https://gw.example.com", apiKey: { env: "INJECTED" } },
      tuned: {
        kind: "anthropic",
        baseUrl: "https://api.anthropic.com",
        headers: { set: { "X-Team": "blue", "user-agent": "relay-ua/1" }, remove: ["X-Stainless-OS", "anthropic-dangerous-direct-browser-access"] },
        betas: { remove: ["interleaved-thinking-2025-05-14", "context-1m-2025-08-07"] },
      },
    },
  },
  { source: { via: "inline" }, env: { INJECTED: INJECTED_KEY } },
);

function provider(name: string): ResolvedProvider {
  const p = config.providers.get(name);
  if (!p) throw new Error(`no provider ${name}`);
  return p;
}

function plan(providerName: string, headers: HeaderMap, relayToken?: string): HeaderPlan {
  return decideHeaders({ headers, provider: provider(providerName), relayToken });
}

/** Outgoing headers expected (undefined = must not be sent) and the action per header. */
type Row = [
  label: string,
  provider: string,
  incoming: Record<string, string>,
  out: Record<string, string | undefined>,
  actions: Record<string, DecisionAction>,
];

const B = (token: string) => `Bearer ${token}`;
const CREDENTIAL_HEADER_NAMES = new Set(["authorization", "x-api-key", "api-key", "x-goog-api-key"]);
const CC_BETA = "claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14";

const oauthRows: Row[] = [
  ["OAuth to the official origin, beta absent → set", "anthropic",
    { authorization: B(OAUTH_TOKEN) },
    { authorization: B(OAUTH_TOKEN), "anthropic-beta": OAUTH_BETA, "x-api-key": undefined },
    { authorization: "forward", "anthropic-beta": "set" }],
  ["OAuth to the official origin, beta merged at the end, order kept", "anthropic",
    { authorization: B(OAUTH_TOKEN), "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14" },
    { authorization: B(OAUTH_TOKEN), "anthropic-beta": `claude-code-20250219,interleaved-thinking-2025-05-14,${OAUTH_BETA}` },
    { authorization: "forward", "anthropic-beta": "rewrite" }],
  ["OAuth to the official origin, beta already there → unchanged, no duplicate", "anthropic",
    { authorization: B(OAUTH_TOKEN), "anthropic-beta": CC_BETA },
    { authorization: B(OAUTH_TOKEN), "anthropic-beta": CC_BETA },
    { authorization: "forward", "anthropic-beta": "forward" }],
  ["OAuth to the official origin, duplicated betas collapsed when merging", "anthropic",
    { authorization: B(OAUTH_TOKEN), "anthropic-beta": "a-1, b-2,a-1" },
    { "anthropic-beta": `a-1,b-2,${OAUTH_BETA}` },
    { "anthropic-beta": "rewrite" }],
  ["OAuth with a lower-case scheme is normalised to Bearer", "anthropic",
    { authorization: `bearer ${OAUTH_TOKEN}` },
    { authorization: B(OAUTH_TOKEN) },
    { authorization: "rewrite" }],
  ["OAuth misplaced in x-api-key → authorization: Bearer", "anthropic",
    { "x-api-key": OAUTH_TOKEN },
    { authorization: B(OAUTH_TOKEN), "x-api-key": undefined, "anthropic-beta": OAUTH_BETA },
    { "x-api-key": "strip", authorization: "set", "anthropic-beta": "set" }],
  ["OAuth plus an API key in x-api-key → only the OAuth header leaves", "anthropic",
    { authorization: B(OAUTH_TOKEN), "x-api-key": ANTHROPIC_API_KEY },
    { authorization: B(OAUTH_TOKEN), "x-api-key": undefined },
    { authorization: "forward", "x-api-key": "strip" }],
  ["OAuth in x-api-key plus an API key in authorization → only the OAuth token leaves, as Bearer", "anthropic",
    { authorization: B(ANTHROPIC_API_KEY), "x-api-key": OAUTH_TOKEN },
    { authorization: B(OAUTH_TOKEN), "x-api-key": undefined },
    { authorization: "set", "x-api-key": "strip" }],
  ["two OAuth tokens → only the one in authorization leaves", "anthropic",
    { authorization: B(OAUTH_TOKEN), "x-api-key": OAUTH_TOKEN_2 },
    { authorization: B(OAUTH_TOKEN), "x-api-key": undefined },
    { authorization: "forward", "x-api-key": "strip" }],
  ["OAuth withheld from an anthropic-kind third-party origin; its beta removed", "thirdparty",
    { authorization: B(OAUTH_TOKEN), "anthropic-beta": CC_BETA },
    { authorization: undefined, "x-api-key": undefined, "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14" },
    { authorization: "withhold", "anthropic-beta": "rewrite" }],
  ["OAuth withheld; a beta header holding only the OAuth beta is dropped", "thirdparty",
    { authorization: B(OAUTH_TOKEN), "anthropic-beta": OAUTH_BETA },
    { authorization: undefined, "anthropic-beta": undefined },
    { authorization: "withhold", "anthropic-beta": "strip" }],
  ["OAuth misplaced in x-api-key withheld from a third party, not moved", "thirdparty",
    { "x-api-key": OAUTH_TOKEN },
    { authorization: undefined, "x-api-key": undefined },
    { "x-api-key": "withhold" }],
  ["OAuth withheld, and the API key beside it too: the third party takes no client keys", "thirdparty",
    { authorization: B(OAUTH_TOKEN), "x-api-key": ANTHROPIC_API_KEY },
    { authorization: undefined, "x-api-key": undefined },
    { authorization: "withhold", "x-api-key": "withhold" }],
  ["OAuth withheld, the API key beside it goes where clientKeys: forward", "thirdpartyKeys",
    { authorization: B(OAUTH_TOKEN), "x-api-key": ANTHROPIC_API_KEY },
    { authorization: undefined, "x-api-key": ANTHROPIC_API_KEY },
    { authorization: "withhold", "x-api-key": "forward" }],
  ["OAuth forwarded to another origin that sets oauth: forward", "trusted",
    { authorization: B(OAUTH_TOKEN), "anthropic-beta": CC_BETA },
    { authorization: B(OAUTH_TOKEN), "anthropic-beta": CC_BETA },
    { authorization: "forward", "anthropic-beta": "forward" }],
  ["OAuth withheld from an openai-kind provider", "openai",
    { authorization: B(OAUTH_TOKEN), "anthropic-beta": CC_BETA },
    { authorization: undefined, "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14" },
    { authorization: "withhold", "anthropic-beta": "rewrite" }],
  ["OAuth withheld from a local openai-kind provider", "ollama",
    { authorization: B(OAUTH_TOKEN) }, { authorization: undefined }, { authorization: "withhold" }],
  ["OAuth withheld from a gemini-kind provider", "gemini",
    { authorization: B(OAUTH_TOKEN) }, { authorization: undefined }, { authorization: "withhold" }],
  ["OAuth withheld from a generic provider", "generic",
    { authorization: B(OAUTH_TOKEN) }, { authorization: undefined }, { authorization: "withhold" }],
  ["OAuth withheld from a generic provider even with oauth: forward (only anthropic kinds)", "genericTrusting",
    { authorization: B(OAUTH_TOKEN) }, { authorization: undefined }, { authorization: "withhold" }],
  ["OAuth withheld from openrouter (anthropic kind, not trusted)", "openrouter",
    { authorization: B(OAUTH_TOKEN) }, { authorization: undefined }, { authorization: "withhold" }],
  ["OAuth inside an odd x-api-key value (a URL) never travels in x-api-key, even to the official origin", "anthropic",
    { "x-api-key": `https://x.example/a?k=${OAUTH_TOKEN}` }, { "x-api-key": undefined }, { "x-api-key": "strip" }],
  ["OAuth under another scheme is still OAuth: withheld from a third party", "thirdparty",
    { authorization: `Token ${OAUTH_TOKEN}` }, { authorization: undefined }, { authorization: "withhold" }],
  ["OAuth under a tab-separated Bearer is still OAuth: withheld from a third party", "generic",
    { authorization: `Bearer\t${OAUTH_TOKEN}` }, { authorization: undefined }, { authorization: "withhold" }],
];

/** [credential kind, header, provider, expected action, value] — each API key only to its vendor. */
const vendorRows: Array<[string, string, string, DecisionAction, string]> = [
  ["anthropic-api-key", "x-api-key", "anthropic", "forward", ANTHROPIC_API_KEY],
  ["anthropic-api-key", "x-api-key", "thirdparty", "withhold", ANTHROPIC_API_KEY],
  ["anthropic-api-key", "x-api-key", "thirdpartyKeys", "forward", ANTHROPIC_API_KEY],
  ["anthropic-api-key", "x-api-key", "trusted", "forward", ANTHROPIC_API_KEY],
  ["anthropic-api-key", "x-api-key", "deepseek", "withhold", ANTHROPIC_API_KEY],
  ["anthropic-api-key", "authorization", "deepseek", "withhold", B(ANTHROPIC_API_KEY)],
  ["anthropic-api-key", "x-api-key", "localAnthropic", "withhold", ANTHROPIC_API_KEY],
  ["anthropic-api-key", "x-api-key", "officialNoKeys", "withhold", ANTHROPIC_API_KEY],
  ["anthropic-api-key", "x-api-key", "openrouter", "withhold", ANTHROPIC_API_KEY],
  ["anthropic-api-key", "authorization", "anthropic", "forward", B(ANTHROPIC_API_KEY)],
  ["anthropic-api-key", "x-api-key", "openai", "withhold", ANTHROPIC_API_KEY],
  ["anthropic-api-key", "x-api-key", "gemini", "withhold", ANTHROPIC_API_KEY],
  ["anthropic-api-key", "x-api-key", "generic", "withhold", ANTHROPIC_API_KEY],
  ["openai-key", "authorization", "openai", "forward", B(OPENAI_KEY)],
  ["openai-key", "authorization", "ollama", "withhold", B(OPENAI_KEY)],
  ["openai-key", "authorization", "ollamaKeys", "forward", B(OPENAI_KEY)],
  ["openai-key", "authorization", "deepseek", "withhold", B(OPENAI_KEY)],
  ["openai-key", "api-key", "openai", "forward", OPENAI_KEY],
  ["openai-key", "authorization", "anthropic", "withhold", B(OPENAI_KEY)],
  ["openai-key", "authorization", "thirdparty", "withhold", B(OPENAI_KEY)],
  ["openai-key", "authorization", "generic", "withhold", B(OPENAI_KEY)],
  ["openrouter-key", "authorization", "openrouter", "forward", B(OPENROUTER_KEY)],
  ["openrouter-key", "authorization", "openrouterNoKeys", "withhold", B(OPENROUTER_KEY)],
  ["openrouter-key", "authorization", "deepseek", "withhold", B(OPENROUTER_KEY)],
  ["openrouter-key", "authorization", "anthropic", "withhold", B(OPENROUTER_KEY)],
  ["openrouter-key", "authorization", "openai", "withhold", B(OPENROUTER_KEY)],
  ["openrouter-key", "authorization", "thirdparty", "withhold", B(OPENROUTER_KEY)],
  ["google-api-key", "x-goog-api-key", "gemini", "forward", GOOGLE_API_KEY],
  ["google-api-key", "x-goog-api-key", "openai", "withhold", GOOGLE_API_KEY],
  ["google-api-key", "x-goog-api-key", "anthropic", "withhold", GOOGLE_API_KEY],
  ["google-oauth", "authorization", "gemini", "forward", B(GOOGLE_OAUTH)],
  ["google-api-key", "x-goog-api-key", "localAnthropic", "withhold", GOOGLE_API_KEY],
  ["google-oauth", "authorization", "anthropic", "withhold", B(GOOGLE_OAUTH)],
  ["google-oauth", "authorization", "generic", "withhold", B(GOOGLE_OAUTH)],
  ["unknown", "authorization", "generic", "forward", B(GATEWAY_TOKEN)],
  ["unknown", "authorization", "thirdparty", "forward", B(GATEWAY_TOKEN)],
  ["unknown", "authorization", "anthropic", "forward", B(GATEWAY_TOKEN)],
  ["unknown", "authorization", "ollama", "forward", B(GATEWAY_TOKEN)],
  ["unknown", "x-api-key", "openrouter", "forward", GATEWAY_TOKEN],
];

const injectionRows: Row[] = [
  ["apiKey injected in x-api-key (anthropic default) replaces OAuth and key; OAuth beta removed", "injectAnthropic",
    { authorization: B(OAUTH_TOKEN), "x-api-key": ANTHROPIC_API_KEY, "anthropic-beta": CC_BETA },
    { "x-api-key": INJECTED_KEY, authorization: undefined, "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14" },
    { "x-api-key": "set", authorization: "strip", "anthropic-beta": "rewrite" }],
  ["apiKey injected as Bearer (auth: bearer) replaces the client's x-api-key", "injectAnthropicBearer",
    { "x-api-key": ANTHROPIC_API_KEY },
    { authorization: B(INJECTED_KEY), "x-api-key": undefined },
    { authorization: "set", "x-api-key": "strip" }],
  ["apiKey injected as Bearer (openai default) replaces every client credential", "injectOpenai",
    { authorization: B(OPENAI_KEY), "api-key": OPENAI_KEY, "x-goog-api-key": GOOGLE_API_KEY },
    { authorization: B(INJECTED_KEY), "api-key": undefined, "x-goog-api-key": undefined },
    { authorization: "set", "api-key": "strip", "x-goog-api-key": "strip" }],
  ["apiKey injected in x-goog-api-key (gemini default)", "injectGemini",
    { "x-goog-api-key": GOOGLE_API_KEY, authorization: B(GOOGLE_OAUTH) },
    { "x-goog-api-key": INJECTED_KEY, authorization: undefined },
    { "x-goog-api-key": "set", authorization: "strip" }],
  ["apiKey injected as Bearer (generic default), unknown client token dropped", "injectGeneric",
    { authorization: B(GATEWAY_TOKEN) },
    { authorization: B(INJECTED_KEY) },
    { authorization: "set" }],
  ["apiKey injected with no client credential at all", "injectAnthropic",
    { "anthropic-version": "2023-06-01" },
    { "x-api-key": INJECTED_KEY, "anthropic-version": "2023-06-01" },
    { "x-api-key": "set", "anthropic-version": "forward" }],
  ["Connection: x-api-key does not remove the injected key", "injectAnthropic",
    { connection: "x-api-key", "x-api-key": ANTHROPIC_API_KEY },
    { "x-api-key": INJECTED_KEY, connection: undefined },
    { "x-api-key": "set", connection: "strip" }],
];

const otherRows: Row[] = [
  ["headers.set adds and replaces, headers.remove strips (names case-insensitive)", "tuned",
    { "user-agent": "claude-cli/2.0.14", "x-stainless-os": "Linux", "anthropic-dangerous-direct-browser-access": "true", "x-app": "cli" },
    { "user-agent": "relay-ua/1", "x-team": "blue", "x-stainless-os": undefined, "anthropic-dangerous-direct-browser-access": undefined, "x-app": "cli" },
    { "user-agent": "set", "x-team": "set", "x-stainless-os": "strip", "anthropic-dangerous-direct-browser-access": "strip", "x-app": "forward" }],
  ["betas.remove rewrites anthropic-beta", "tuned",
    { "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14,context-1m-2025-08-07" },
    { "anthropic-beta": "claude-code-20250219" },
    { "anthropic-beta": "rewrite" }],
  ["betas.remove with OAuth: merged and removed in one rewrite", "tuned",
    { authorization: B(OAUTH_TOKEN), "anthropic-beta": "interleaved-thinking-2025-05-14,claude-code-20250219" },
    { "anthropic-beta": `claude-code-20250219,${OAUTH_BETA}`, authorization: B(OAUTH_TOKEN) },
    { "anthropic-beta": "rewrite", authorization: "forward" }],
  ["betas.remove of every beta strips the header", "tuned",
    { "anthropic-beta": "interleaved-thinking-2025-05-14" },
    { "anthropic-beta": undefined },
    { "anthropic-beta": "strip" }],
  ["x-llm-relay-* headers stripped", "anthropic",
    { "x-llm-relay-provider": "anthropic", "x-llm-relay-token": RELAY_TOKEN, "x-llm-relay-debug": "1" },
    { "x-llm-relay-provider": undefined, "x-llm-relay-token": undefined, "x-llm-relay-debug": undefined },
    { "x-llm-relay-provider": "strip", "x-llm-relay-token": "strip", "x-llm-relay-debug": "strip" }],
  ["cookie stripped", "anthropic",
    { cookie: "session=abc; theme=dark" }, { cookie: undefined }, { cookie: "strip" }],
  ["everything else forwarded unchanged", "thirdparty",
    { "anthropic-version": "2023-06-01", "x-stainless-lang": "js", "user-agent": "ua/1", "accept-encoding": "gzip, deflate", "x-app": "cli", "content-length": "42", "content-type": "application/json" },
    { "anthropic-version": "2023-06-01", "x-stainless-lang": "js", "user-agent": "ua/1", "accept-encoding": "gzip, deflate", "x-app": "cli", "content-length": "42", "content-type": "application/json" },
    { "anthropic-version": "forward", "x-stainless-lang": "forward", "user-agent": "forward", "accept-encoding": "forward", "x-app": "forward", "content-length": "forward", "content-type": "forward" }],
  ["hop-by-hop headers stripped (RFC 9110 §7.6.1)", "anthropic",
    { connection: "keep-alive", "keep-alive": "timeout=5", "proxy-connection": "keep-alive", "proxy-authorization": "Basic eDp5", "proxy-authenticate": "Basic", te: "trailers", trailer: "x-checksum", "transfer-encoding": "chunked", upgrade: "h2c", expect: "100-continue" },
    { connection: undefined, "keep-alive": undefined, "proxy-connection": undefined, "proxy-authorization": undefined, "proxy-authenticate": undefined, te: undefined, trailer: undefined, "transfer-encoding": undefined, upgrade: undefined, expect: undefined },
    { connection: "strip", "keep-alive": "strip", "proxy-connection": "strip", "proxy-authorization": "strip", "proxy-authenticate": "strip", te: "strip", trailer: "strip", "transfer-encoding": "strip", upgrade: "strip", expect: "strip" }],
  ["headers listed in Connection stripped", "anthropic",
    { connection: "close, X-Trace-Hop", "x-trace-hop": "1", "x-trace": "2" },
    { "x-trace-hop": undefined, "x-trace": "2" },
    { connection: "strip", "x-trace-hop": "strip", "x-trace": "forward" }],
  ["Connection: authorization strips the client's OAuth token (it is hop-by-hop)", "anthropic",
    { connection: "authorization", authorization: B(OAUTH_TOKEN) },
    { authorization: undefined },
    { authorization: "strip" }],
  ["a repeated credential header (joined with \", \") is never sent, OAuth beta removed", "thirdparty",
    { "x-api-key": `${ANTHROPIC_API_KEY}, ${OAUTH_TOKEN}`, "anthropic-beta": CC_BETA },
    { "x-api-key": undefined, "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14" },
    { "x-api-key": "strip", "anthropic-beta": "rewrite" }],
  ["host set to the upstream's (not sent by us: the HTTP client derives it)", "thirdparty",
    { host: "127.0.0.1:8742" }, { host: undefined }, { host: "set" }],
];

const relayTokenRows: Row[] = [
  ["relay token in x-api-key stripped", "anthropic",
    { "x-api-key": RELAY_TOKEN }, { "x-api-key": undefined }, { "x-api-key": "strip" }],
  ["relay token as Bearer stripped", "generic",
    { authorization: B(RELAY_TOKEN) }, { authorization: undefined }, { authorization: "strip" }],
  ["relay token inside any other header stripped", "anthropic",
    { "x-custom": `prefix-${RELAY_TOKEN}` }, { "x-custom": undefined }, { "x-custom": "strip" }],
  ["relay token beside OAuth: OAuth still forwarded", "anthropic",
    { "x-llm-relay-token": RELAY_TOKEN, authorization: B(OAUTH_TOKEN) },
    { "x-llm-relay-token": undefined, authorization: B(OAUTH_TOKEN) },
    { "x-llm-relay-token": "strip", authorization: "forward" }],
];

/** Invariants every plan must hold, whatever the row. */
function checkInvariants(incoming: HeaderMap, result: HeaderPlan): void {
  const names = result.decisions.map((d) => d.header);
  expect(new Set(names).size, "one decision per header").toBe(names.length);
  for (const name of Object.keys(incoming)) expect(names, `decision for ${name}`).toContain(name);
  const leaks = findLeaks(JSON.stringify(result.decisions));
  expect(leaks, "decision values are redacted").toEqual([]);
  for (const d of result.decisions) {
    if (d.header === "host") continue;
    const sent = d.action === "forward" || d.action === "set" || d.action === "rewrite";
    expect(d.header in result.headers, `${d.header} ${d.action} agrees with the outgoing headers`).toBe(sent);
    expect(d.reason.length).toBeGreaterThan(0);
  }
  expect(Object.keys(result.headers).sort()).toEqual(
    result.decisions.filter((d) => d.header !== "host" && d.action !== "strip" && d.action !== "withhold").map((d) => d.header).sort(),
  );
  // An OAuth token never travels in x-api-key (§5).
  if (result.oauthForwarded) expect(result.headers["x-api-key"]).toBeUndefined();
  for (const value of Object.values(result.headers)) {
    if (value.includes("sk-ant-oat")) expect(result.oauthForwarded).toBe(true);
  }
}

describe("decideHeaders", () => {
  describe.each([
    ["OAuth", oauthRows],
    ["apiKey injection", injectionRows],
    ["relay token", relayTokenRows],
    ["other rules", otherRows],
  ] as const)("%s", (_group, rows) => {
    it.each(rows)("%s", (_label, providerName, incoming, out, actions) => {
      const result = plan(providerName, incoming, RELAY_TOKEN);
      for (const [name, value] of Object.entries(out)) expect(result.headers[name], name).toBe(value);
      for (const [name, action] of Object.entries(actions)) {
        expect(result.decisions.find((d) => d.header === name)?.action, name).toBe(action);
      }
      checkInvariants(incoming, result);
    });
  });

  it.each(vendorRows)("%s in %s → provider %s: %s", (_kind, header, providerName, action, value) => {
    const incoming = { [header]: value };
    const result = plan(providerName, incoming, RELAY_TOKEN);
    expect(result.decisions.find((d) => d.header === header)?.action).toBe(action);
    expect(result.headers[header]).toBe(action === "forward" ? value : undefined);
    checkInvariants(incoming, result);
  });

  // Review finding: the token in a custom header (Claude Code's ANTHROPIC_CUSTOM_HEADERS makes
  // such headers) or in a shape the classifier does not recognise still never leaves.
  it.each([
    ["a custom header", "x-custom-auth", B(OAUTH_TOKEN)],
    ["a quoted bearer", "authorization", `Bearer "${OAUTH_TOKEN}"`],
    ["a doubled scheme", "authorization", `Bearer Bearer ${OAUTH_TOKEN}`],
    ["an = instead of a space", "x-api-key", `Bearer=${OAUTH_TOKEN}`],
    ["a header naming nothing secret", "x-note", `token is ${OAUTH_TOKEN}`],
  ])("OAuth token in %s is withheld from an untrusted provider, with its beta", (_label, header, value) => {
    for (const providerName of ["thirdparty", "ollama", "generic", "injectAnthropic"]) {
      const incoming = { [header]: value, "anthropic-beta": CC_BETA };
      const result = plan(providerName, incoming);
      expect(Object.values(result.headers).join("\n"), providerName).not.toContain(OAUTH_TOKEN);
      // A provider injecting its own key strips every client credential header (and may set its own there).
      const injected = providerName === "injectAnthropic" && CREDENTIAL_HEADER_NAMES.has(header);
      expect(result.decisions.find((d) => d.header === header)?.action, providerName).toBe(
        injected ? (header === "x-api-key" ? "set" : "strip") : "withhold",
      );
      expect(result.headers["anthropic-beta"] ?? "", providerName).not.toContain(OAUTH_BETA);
      checkInvariants(incoming, result);
    }
    // The official origin is trusted with it: whatever shape the client chose goes as sent,
    // except in x-api-key, where an OAuth token never travels (§5).
    expect(plan("anthropic", { [header]: value }).headers[header]).toBe(header === "x-api-key" ? undefined : value);
  });

  it("a value the relay sets over the client's says what it replaced", () => {
    const result = plan("injectAnthropicBearer", { authorization: B(OAUTH_TOKEN) });
    const auth = result.decisions.filter((d) => d.header === "authorization");
    expect(auth).toHaveLength(1);
    expect(auth[0]!.action).toBe("set");
    expect(auth[0]!.reason).toMatch(/replaces the client's value \(strip: Bearer sk-ant-oat01-…\[len=108 #[0-9a-f]{6}\]\)$/);
    expect(result.headers.authorization).toBe(B(INJECTED_KEY));
  });

  it("a withheld vendor key names the setting that would allow it (issue 12 class 9)", () => {
    const reason = (providerName: string, headers: Record<string, string>, header: string) =>
      plan(providerName, headers).decisions.find((d) => d.header === header)?.reason;
    expect(reason("deepseek", { "x-api-key": ANTHROPIC_API_KEY }, "x-api-key")).toBe(
      'anthropic-api-key is not trusted to https://api.deepseek.com (set clientKeys: "forward" on deepseek to allow)',
    );
    expect(reason("localAnthropic", { authorization: B(ANTHROPIC_API_KEY) }, "authorization")).toContain('set clientKeys: "forward" on localAnthropic to allow');
    expect(reason("openrouter", { "x-api-key": ANTHROPIC_API_KEY }, "x-api-key")).toContain("another vendor's API");
  });

  it.each([
    ["anthropic", "forward"],
    ["openai", "forward"],
    ["openrouter", "forward"],
    ["gemini", "forward"],
    ["trusted", "forward"],
    ["thirdparty", "strip"],
    ["deepseek", "strip"],
    ["localAnthropic", "strip"],
    ["ollama", "strip"],
    ["generic", "strip"],
    ["thirdpartyKeys", "forward"],
    ["officialNoKeys", "strip"],
  ])("clientKeys of %s defaults to %s (each vendor's official origin, or oauth: forward)", (name, expected) => {
    expect(provider(name).clientKeys).toBe(expected);
  });

  // Issue 12 class 3: the token in a non-credential header, in any shape, is printed redacted
  // (even on a withhold line) and kept from every provider not trusted with it.
  it.each(SHAPES)("OAuth token in a custom header as %s: withheld where untrusted, never printed", (_shape, make) => {
    const value = make(OAUTH_TOKEN);
    for (const providerName of ["anthropic", "thirdparty", "deepseek", "ollama", "generic", "injectAnthropic"]) {
      const incoming = { "x-custom": value, referer: `http://127.0.0.1:9/cb/${value}`, "anthropic-beta": CC_BETA };
      const result = plan(providerName, incoming, RELAY_TOKEN);
      const trusted = providerName === "anthropic";
      expect(result.decisions.find((d) => d.header === "x-custom")?.action, providerName).toBe(trusted ? "forward" : "withhold");
      expect(findLeaks(JSON.stringify(result.decisions)), providerName).toEqual([]);
      if (trusted) continue; // the official origin gets the header as sent (see above)
      expect(JSON.stringify(result.headers), providerName).not.toContain(OAUTH_TOKEN);
      expect(result.headers["anthropic-beta"], providerName).not.toContain(OAUTH_BETA);
      checkInvariants(incoming, result);
    }
  });

  it("oauthForwarded reports whether a subscription token left", () => {
    expect(plan("anthropic", { authorization: B(OAUTH_TOKEN) }).oauthForwarded).toBe(true);
    expect(plan("anthropic", { "x-api-key": OAUTH_TOKEN }).oauthForwarded).toBe(true);
    expect(plan("thirdparty", { authorization: B(OAUTH_TOKEN) }).oauthForwarded).toBe(false);
    expect(plan("injectAnthropic", { authorization: B(OAUTH_TOKEN) }).oauthForwarded).toBe(false);
  });

  it("the official origin is trusted with OAuth by default, every other origin is not (§5)", () => {
    expect(provider("anthropic").origin).toBe("https://api.anthropic.com");
    expect(provider("anthropic").oauth).toBe("forward");
    expect(provider("thirdparty").oauth).toBe("strip");
    expect(provider("openrouter").oauth).toBe("strip");
  });

  it("decision values show the redacted credential, not the raw one", () => {
    const result = plan("anthropic", { authorization: B(OAUTH_TOKEN), "x-api-key": ANTHROPIC_API_KEY });
    const auth = result.decisions.find((d) => d.header === "authorization")!;
    expect(auth.value).toMatch(/^Bearer sk-ant-oat01-…\[len=108 #[0-9a-f]{6}\]$/);
    expect(result.decisions.find((d) => d.header === "x-api-key")!.value).toMatch(/^sk-ant-api03-…\[len=108 #[0-9a-f]{6}\]$/);
    const injected = plan("injectOpenai", {}).decisions.find((d) => d.header === "authorization")!;
    expect(injected.value).toMatch(/^Bearer sk-or-v1-…\[len=\d+ #[0-9a-f]{6}\]$/);
  });

  it.each([
    ["a vendor token inside a custom header's value, to its vendor", "openai", "x-debug", `token=${OPENAI_KEY}`, "forward"],
    ["a vendor token inside a custom header's value, elsewhere", "generic", "x-debug", `token=${OPENAI_KEY}`, "withhold"],
    ["a vendor key in a URL in a custom header, elsewhere", "deepseek", "referer", `http://localhost/cb?k=${ANTHROPIC_API_KEY}`, "withhold"],
    ["an unknown token in a header named like a credential", "generic", "x-portkey-api-key", GATEWAY_TOKEN, "forward"],
    ["an unknown token in a header named like a secret", "generic", "x-session-secret", GATEWAY_TOKEN, "forward"],
  ] as const)("decision value redacted: %s", (_label, providerName, name, value, action) => {
    const result = plan(providerName, { [name]: value });
    const decision = result.decisions.find((d) => d.header === name)!;
    expect(decision.action).toBe(action);
    expect(findLeaks(decision.value)).toEqual([]);
    expect(decision.value).toMatch(/…\[len=\d+ #[0-9a-f]{6}\]$/);
  });

  it("Claude Code's session id is shown as sent: named like a secret, it is a conversation id", () => {
    const id = "5f0c2a4e-9d7b-4c1e-8a3f-2b6d9e1c7a40";
    const decision = plan("anthropic", { "x-claude-code-session-id": id }).decisions.find((d) => d.header === "x-claude-code-session-id")!;
    expect(decision.value).toBe(id);
    // Still redacted by shape if a secret were put there.
    const smuggled = plan("generic", { "x-claude-code-session-id": OPENAI_KEY }).decisions.find((d) => d.header === "x-claude-code-session-id")!;
    expect(findLeaks(smuggled.value)).toEqual([]);
  });

  it("a duplicated header (array value) gets one decision", () => {
    const result = plan("anthropic", { "x-custom": ["a", "b"] });
    expect(result.headers["x-custom"]).toBe("a, b");
    expect(result.decisions.filter((d) => d.header === "x-custom")).toHaveLength(1);
  });

  it("appends this relay's Via entry (RFC 9110 §7.6.3)", () => {
    const fresh = decideHeaders({ headers: {}, provider: provider("anthropic"), via: "1.1 llm-relay-x" });
    expect(fresh.headers.via).toBe("1.1 llm-relay-x");
    const chained = decideHeaders({ headers: { via: "1.1 corp-proxy" }, provider: provider("anthropic"), via: "1.1 llm-relay-x" });
    expect(chained.headers.via).toBe("1.1 corp-proxy, 1.1 llm-relay-x");
    expect(chained.decisions.filter((d) => d.header === "via").map((d) => d.action)).toEqual(["rewrite"]);
  });

  it("every secret in one request: nothing raw in any decision", () => {
    const incoming = {
      authorization: B(OAUTH_TOKEN),
      "x-api-key": ANTHROPIC_API_KEY,
      "api-key": OPENAI_KEY,
      "x-goog-api-key": GOOGLE_API_KEY,
      "x-llm-relay-token": RELAY_TOKEN,
      "x-portkey-api-key": GATEWAY_TOKEN,
    };
    for (const name of config.providers.keys()) {
      const result = plan(name, incoming, RELAY_TOKEN);
      expect(findLeaks(JSON.stringify(result.decisions), ALL_TEST_SECRETS), name).toEqual([]);
    }
  });
});

describe("responseHeadersToRelay", () => {
  it.each([
    ["connection", { connection: "keep-alive" }, {}],
    ["keep-alive", { "keep-alive": "timeout=5" }, {}],
    ["transfer-encoding", { "transfer-encoding": "chunked" }, {}],
    ["proxy-authenticate", { "proxy-authenticate": "Basic" }, {}],
    ["trailer and upgrade", { trailer: "x-sum", upgrade: "h2c" }, {}],
    ["headers listed in Connection", { connection: "close, x-hop", "x-hop": "1", "x-kept": "2" }, { "x-kept": "2" }],
    ["Anthropic response headers pass", { "request-id": "req_1", "retry-after": "3", "anthropic-ratelimit-requests-remaining": "99", "content-encoding": "gzip", "content-type": "text/event-stream" },
      { "request-id": "req_1", "retry-after": "3", "anthropic-ratelimit-requests-remaining": "99", "content-encoding": "gzip", "content-type": "text/event-stream" }],
    ["numbers become strings, arrays stay", { "content-length": 12 as unknown as string, "set-cookie": ["a=1", "b=2"] as unknown as string }, { "content-length": "12", "set-cookie": ["a=1", "b=2"] }],
  ] as Array<[string, HeaderMap, Record<string, string | string[]>]>)("%s", (_label, incoming, expected) => {
    expect(responseHeadersToRelay(incoming)).toEqual(expected);
  });
});
