/**
 * The request target as policy (DESIGN §8, issue 12 class 4): `readTarget` (before routing:
 * relay token prefixes and copies, RFC 3986 dot segments, encoded separators) and `decideTarget`
 * (for the chosen provider: a credential in the query removed, in the path refused), as tables
 * over providers built by the real resolver; and `planRequest`, which `explain` and the relay share.
 */
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/resolve.js";
import { decideTarget, readTarget, type Target, type TargetRefusal } from "../../src/policy/target.js";
import { isRefusal, planRequest } from "../../src/relay/plan.js";
import { ANTHROPIC_API_KEY, findLeaks, GOOGLE_API_KEY, OAUTH_TOKEN, OPENAI_KEY, RELAY_TOKEN } from "../fixtures/tokens.js";
import { b64, encodeAll, encodeDashes } from "../fixtures/shapes.js";

const T = RELAY_TOKEN;
const config = resolveConfig(
  {
    providers: {
      anthropic: { kind: "anthropic", baseUrl: "https://api.anthropic.com" },
      gw: { kind: "anthropic", baseUrl: "https://gw.example/base", oauth: "forward" },
      third: { kind: "anthropic", baseUrl: "https://third.example/api" },
      gemini: { kind: "gemini", baseUrl: "https://generativelanguage.googleapis.com" },
    },
  },
  { source: { via: "inline" }, env: {} },
);
const provider = (name: string) => config.providers.get(name)!;

function read(rawPath: string, query = "", token: string | undefined = T): Target {
  const target = readTarget(rawPath, query, token);
  if ("refused" in target) throw new Error(`refused: ${target.refused.message}`);
  return target;
}

describe("readTarget: before routing", () => {
  it.each([
    ["plain", "/v1/messages", "/v1/messages"],
    ["dot segment", "/v1/./messages", "/v1/messages"],
    ["dot-dot into another provider's prefix", "/gw/../third/v1/messages", "/third/v1/messages"],
    ["percent-encoded dot-dot", "/gw/%2e%2e/third/v1/messages", "/third/v1/messages"],
    ["mixed-case, half-encoded dot-dot", "/gw/.%2E/third/v1/messages", "/third/v1/messages"],
    ["a trailing dot-dot names the folder", "/gw/v1/..", "/gw/"],
    ["a trailing dot", "/gw/v1/.", "/gw/v1/"],
    ["the relay token prefix", `/_t/${T}/v1/messages`, "/v1/messages"],
    ["the relay token prefix twice (start --token and exec)", `/_t/${T}/_t/${T}/v1/messages`, "/v1/messages"],
    ["the relay token prefix deeper in the path", `/gw/_t/${T}/v1/messages`, "/gw/v1/messages"],
    ["the bare relay token as a segment", `/v1/${T}/messages`, "/v1/messages"],
    ["the relay token percent-encoded as a segment", `/v1/${encodeAll(T)}/messages`, "/v1/messages"],
    ["dots that look like dot segments but are not", "/v1/...", "/v1/..."],
    ["a file name with dots", "/v1/files/a..b.txt", "/v1/files/a..b.txt"],
  ])("%s: %s → %s", (_label, rawPath, expected) => {
    expect(read(rawPath).path).toBe(expected);
  });

  it.each([
    ["dot-dot above the root", "/../v1/messages"],
    ["encoded dot-dot above the root", "/v1/%2e%2e/%2E%2E/../x"],
    ["an encoded /", "/gw/..%2fthird/v1/messages"],
    ["an encoded / (upper case)", "/gw%2F..%2Fthird/v1"],
    ["an encoded backslash", "/gw/..%5cthird/v1"],
    ["a backslash", "/gw/..\\third/v1"],
    ["the relay token inside a segment", `/v1/x${T}x/messages`],
  ])("refused (400): %s", (_label, rawPath) => {
    const target = readTarget(rawPath, "", T) as TargetRefusal;
    expect(target.refused).toMatchObject({ status: 400, code: "bad_request" });
    expect(findLeaks(target.refused.message)).toEqual([]);
  });

  it("records what it changed as :path and ?name decisions, redacted", () => {
    const target = read(`/_t/${T}/gw/%2e%2e/v1/${T}/messages`, `?beta=true&session=${T}&x=${encodeDashes(T)}`);
    expect(target.presented).toEqual([T]);
    expect(target.path).toBe("/v1/messages");
    expect(target.query).toBe("?beta=true");
    expect(target.decisions.map((d) => [d.header, d.action])).toEqual([
      [":path", "rewrite"],
      ["?session", "strip"],
      ["?x", "strip"],
    ]);
    expect(target.decisions[0]!.reason).toBe("dot segments resolved (RFC 3986 §5.2.4); the relay token removed");
    expect(findLeaks(JSON.stringify(target.decisions))).toEqual([]);
  });

  it.each([
    ["as ?session=", `?session=${T}`],
    ["as any query value", `?a=1&q=${T}`],
    ["percent-encoded", `?q=${encodeAll(T)}`],
    ["base64", `?q=${b64(T)}`],
    ["as a parameter name", `?${T}`],
  ])("the relay token in the query is stripped: %s", (_label, query) => {
    const target = read("/v1/messages", query);
    expect(findLeaks(target.query, [T])).toEqual([]);
    expect(target.decisions.every((d) => d.action === "strip")).toBe(true);
  });

  it("nothing to do: no decision, the same strings", () => {
    expect(read("/v1/messages", "?beta=true")).toEqual({ path: "/v1/messages", query: "?beta=true", presented: [], decisions: [] });
  });
});

describe("decideTarget: for the chosen provider", () => {
  it.each([
    ["OAuth in ?key= to an untrusted third party: removed", "third", `?beta=true&key=${OAUTH_TOKEN}`, "?beta=true", "withhold"],
    ["OAuth in ?access_token= to an untrusted third party: removed", "third", `?access_token=${OAUTH_TOKEN}`, "", "withhold"],
    ["OAuth percent-encoded: removed", "third", `?q=${encodeDashes(OAUTH_TOKEN)}`, "", "withhold"],
    ["OAuth base64'd: removed", "third", `?q=${b64(OAUTH_TOKEN)}`, "", "withhold"],
    ["OAuth to the trusted origin: kept", "anthropic", `?key=${OAUTH_TOKEN}`, `?key=${OAUTH_TOKEN}`, undefined],
    ["OAuth to a gateway with oauth: forward: kept", "gw", `?key=${OAUTH_TOKEN}`, `?key=${OAUTH_TOKEN}`, undefined],
    ["OAuth to a gemini provider: removed", "gemini", `?key=${OAUTH_TOKEN}`, "", "withhold"],
    ["an Anthropic key to a third party (clientKeys strip): removed", "third", `?x-api-key=${ANTHROPIC_API_KEY}`, "", "withhold"],
    ["an OpenAI key to an anthropic-kind provider: removed", "anthropic", `?k=${OPENAI_KEY}`, "", "withhold"],
    ["Gemini's own ?key= to Gemini: kept", "gemini", `?key=${GOOGLE_API_KEY}&alt=sse`, `?key=${GOOGLE_API_KEY}&alt=sse`, undefined],
    ["a Google key to Anthropic: removed", "anthropic", `?key=${GOOGLE_API_KEY}&alt=sse`, "?alt=sse", "withhold"],
  ] as const)("%s", (_label, name, query, expectedQuery, action) => {
    const out = decideTarget("/v1/messages", query, provider(name));
    if ("refused" in out) throw new Error(out.refused.message);
    expect(`${out.path}${out.query}`).toBe(`${provider(name).pathPrefix}/v1/messages${expectedQuery}`);
    expect(out.decisions[0]?.action).toBe(action);
    expect(findLeaks(JSON.stringify(out.decisions))).toEqual([]);
  });

  it.each([
    ["an OAuth segment, untrusted", "third", `/v1/${OAUTH_TOKEN}/messages`, true],
    ["an OAuth ;segment, untrusted", "third", `/v1/messages;${OAUTH_TOKEN}`, true],
    ["a key= segment with an Anthropic key, off-vendor", "third", `/v1/key=${ANTHROPIC_API_KEY}/messages`, true],
    ["an OAuth segment percent-encoded", "third", `/v1/${encodeAll(OAUTH_TOKEN)}/messages`, true],
    ["an OAuth segment to its trusted origin", "anthropic", `/v1/${OAUTH_TOKEN}/messages`, false],
  ] as const)("a credential in the path: %s → refused %s", (_label, name, path, refused) => {
    const out = decideTarget(path, "", provider(name));
    expect("refused" in out).toBe(refused);
    if ("refused" in out) {
      expect(out.refused.status).toBe(400);
      expect(findLeaks(out.refused.message)).toEqual([]);
      expect(out.refused.message).toContain("send credentials in headers");
    }
  });
});

describe("planRequest: the target is normalised before routing", () => {
  const plan = (rawPath: string, query = "") => planRequest({ path: rawPath, query, headers: {}, config, relayToken: T });

  it.each([
    ["/gw/../third/v1/messages"],
    ["/gw/%2e%2e/third/v1/messages"],
    ["/gw/.%2e/third/v1/messages"],
  ])("%s is routed and trusted as third, and third receives the normalised path under its prefix", (rawPath) => {
    const p = plan(rawPath);
    if (!p || isRefusal(p)) throw new Error("expected a plan");
    expect(p.route.provider.name).toBe("third");
    expect(p.upstreamPath).toBe("/api/v1/messages");
    expect(p.targetDecisions[0]).toMatchObject({ header: ":path", action: "rewrite", value: "/third/v1/messages" });
  });

  it("/gw/..%2fthird/… is refused", () => {
    expect(isRefusal(plan("/gw/..%2fthird/v1/messages"))).toBe(true);
  });

  it("a doubled relay token prefix reaches the upstream nowhere", () => {
    const p = plan(`/_t/${T}/_t/${T}/v1/messages`, `?beta=true&session=${T}`);
    if (!p || isRefusal(p)) throw new Error("expected a plan");
    expect(p.upstreamPath).toBe("/v1/messages?beta=true");
    expect(findLeaks(`${p.upstreamPath}${p.upstreamDisplay}${JSON.stringify(p.targetDecisions)}`, [T])).toEqual([]);
  });
});
