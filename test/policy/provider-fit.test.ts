/**
 * What makes a request fit its provider (DESIGN §10), as pure decisions: `betas.allow` on the
 * `anthropic-beta` header (with the OAuth flag following its token, §5), `query.remove` on the
 * request target, and the relay-made answers of the plan (unavailable provider, count_tokens).
 */
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/resolve.js";
import { decideHeaders, OAUTH_BETA } from "../../src/policy/headers.js";
import { planRequest, removeQueryParams, type RequestPlan } from "../../src/relay/plan.js";
import { INJECTED_KEY, OAUTH_TOKEN } from "../fixtures/tokens.js";

const config = resolveConfig(
  {
    providers: {
      zai: { preset: "zai" },
      picky: { kind: "anthropic", baseUrl: "https://llm.example.com", betas: { allow: ["context-1m-2025-08-07", "fine-grained-tool-streaming-2025-05-14"] } },
      pickyTrusted: { kind: "anthropic", baseUrl: "https://gateway.example.com", oauth: "forward", betas: { allow: ["context-1m-2025-08-07"] } },
      allowAndRemove: { kind: "anthropic", baseUrl: "https://llm.example.com", betas: { allow: ["a-1", "b-2"], remove: ["b-2"] } },
      open: { kind: "anthropic", baseUrl: "https://llm.example.com" },
      ds: { preset: "deepseek" },
      local: { preset: "ollama" },
      counter: { preset: "llamacpp" },
    },
  },
  { source: { via: "inline" }, env: { ZAI_API_KEY: INJECTED_KEY } },
);

function beta(providerName: string, headers: Record<string, string>) {
  const plan = decideHeaders({ headers, provider: config.providers.get(providerName)! });
  return { sent: plan.headers["anthropic-beta"], decision: plan.decisions.find((d) => d.header === "anthropic-beta") };
}

const CLAUDE_CODE_BETAS = "claude-code-20250219,interleaved-thinking-2025-05-14,fine-grained-tool-streaming-2025-05-14";

describe("betas.allow", () => {
  it.each([
    // [title, provider, incoming anthropic-beta (+ authorization), sent, action, reason]
    ["allow: [] removes the header", "zai", { "anthropic-beta": CLAUDE_CODE_BETAS }, undefined, "strip",
      "betas.allow of zai (allows none): removed claude-code-20250219, interleaved-thinking-2025-05-14, fine-grained-tool-streaming-2025-05-14"],
    ["only listed values pass", "picky", { "anthropic-beta": CLAUDE_CODE_BETAS }, "fine-grained-tool-streaming-2025-05-14", "rewrite",
      "betas.allow of picky (allows context-1m-2025-08-07, fine-grained-tool-streaming-2025-05-14): removed claude-code-20250219, interleaved-thinking-2025-05-14"],
    ["every value listed: passed through", "picky", { "anthropic-beta": "context-1m-2025-08-07" }, "context-1m-2025-08-07", "forward", "passed through"],
    ["no allow list: every value passes", "open", { "anthropic-beta": CLAUDE_CODE_BETAS }, CLAUDE_CODE_BETAS, "forward", "passed through"],
    ["betas.remove still applies after allow", "allowAndRemove", { "anthropic-beta": "a-1,b-2,c-3" }, "a-1", "rewrite",
      "betas.allow of allowAndRemove (allows a-1, b-2): removed c-3; betas.remove of provider allowAndRemove: b-2"],
    ["the OAuth beta is added for a forwarded token even though not allowed", "pickyTrusted",
      { authorization: `Bearer ${OAUTH_TOKEN}`, "anthropic-beta": "claude-code-20250219,context-1m-2025-08-07" },
      `context-1m-2025-08-07,${OAUTH_BETA}`, "rewrite",
      `added ${OAUTH_BETA} for the OAuth token; betas.allow of pickyTrusted (allows context-1m-2025-08-07): removed claude-code-20250219`],
    ["the client's OAuth beta stays with its forwarded token", "pickyTrusted",
      { authorization: `Bearer ${OAUTH_TOKEN}`, "anthropic-beta": OAUTH_BETA }, OAUTH_BETA, "forward", "passed through"],
    ["a withheld token takes its OAuth beta along, whatever allow says", "zai",
      { authorization: `Bearer ${OAUTH_TOKEN}`, "anthropic-beta": `${OAUTH_BETA},claude-code-20250219` }, undefined, "strip",
      `removed ${OAUTH_BETA}: the OAuth token was not sent; betas.allow of zai (allows none): removed claude-code-20250219`],
  ] as const)("%s", (_title, provider, headers, sent, action, reason) => {
    const { sent: out, decision } = beta(provider, headers);
    expect(out).toBe(sent);
    expect(decision?.action).toBe(action);
    expect(decision?.reason).toBe(reason);
  });

  it("no anthropic-beta from the client and nothing to add: no decision at all", () => {
    expect(beta("zai", {}).decision).toBeUndefined();
  });
});

describe("query.remove", () => {
  it.each([
    ["?beta=true", ["beta"], "", ["?beta"]],
    ["?beta=true&x=1", ["beta"], "?x=1", ["?beta"]],
    ["?x=1&beta=true&y=%20a", ["beta"], "?x=1&y=%20a", ["?beta"]],
    ["?beta", ["beta"], "", ["?beta"]],
    ["?be%74a=true", ["beta"], "", ["?beta"]],
    ["?betas=true", ["beta"], "?betas=true", []],
    ["?beta=1&beta=2", ["beta"], "", ["?beta", "?beta"]],
    ["", ["beta"], "", []],
    ["?", ["beta"], "?", []],
    ["?beta=true", [], "?beta=true", []],
    ["?a=1&&b=2", ["beta"], "?a=1&&b=2", []],
  ] as const)("%s minus %j → %j", (query, names, expected, removed) => {
    const result = removeQueryParams(query, new Set(names), "zai");
    expect(result.query).toBe(expected);
    expect(result.decisions.map((d) => d.header)).toEqual(removed);
    for (const d of result.decisions) expect(d).toMatchObject({ action: "strip", reason: "query.remove of zai" });
  });

  it("a secret-looking parameter value is redacted in the decision", () => {
    const { decisions } = removeQueryParams(`?key=${INJECTED_KEY}`, new Set(["key"]), "p");
    expect(decisions[0]!.value).not.toContain(INJECTED_KEY);
  });

  it("planRequest sends the preset's query without ?beta and records why", () => {
    const plan = planRequest({ path: "/zai/v1/messages", query: "?beta=true", headers: {}, config }) as RequestPlan;
    expect(plan.upstreamPath).toBe("/api/anthropic/v1/messages");
    expect(plan.query).toEqual([{ header: "?beta", action: "strip", value: "true", reason: "query.remove of zai" }]);
    const open = planRequest({ path: "/open/v1/messages", query: "?beta=true", headers: {}, config }) as RequestPlan;
    expect(open.upstreamPath).toBe("/v1/messages?beta=true");
    expect(open.query).toEqual([]);
  });
});

describe("relay-made answers in the plan", () => {
  const planFor = (path: string, method = "POST") => planRequest({ path, query: "", method, headers: {}, config }) as RequestPlan;

  it("a provider whose key variable is unset: 503 provider_unavailable naming the variable", () => {
    expect(planFor("/ds/v1/messages").relayAnswer).toEqual({
      status: 503,
      code: "provider_unavailable",
      message: "provider ds is unavailable: set DEEPSEEK_API_KEY (its apiKey names that environment variable, which is not set)",
    });
  });

  it.each([
    ["/zai/v1/messages/count_tokens", "POST", 404],
    ["/local/v1/messages/count_tokens", "POST", 404],
    ["/local/v1/messages/count_tokens/", "POST", 404],
    ["/local/v1/messages/count_tokens", "GET", undefined],
    ["/local/v1/messages", "POST", undefined],
    ["/counter/v1/messages/count_tokens", "POST", undefined],
    ["/open/v1/messages/count_tokens", "POST", undefined],
  ] as const)("%s %s → %s", (path, method, status) => {
    const answer = planFor(path, method).relayAnswer;
    expect(answer?.status).toBe(status);
    if (status !== undefined) {
      expect(answer).toMatchObject({ code: "not_found", shape: "anthropic" });
      expect(answer!.message).toMatch(/^provider (zai|local) has no count_tokens endpoint \(countTokens: false\)/);
    }
  });
});
