/**
 * The header policy end to end: what the mock upstream actually received through the live relay
 * for each case of DESIGN §5, and the Claude Code fixture against the real official origin
 * through `decideHeaders` (no network).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/resolve.js";
import { decideHeaders, OAUTH_BETA } from "../../src/policy/headers.js";
import { CLAUDE_CODE_BODY, CLAUDE_CODE_PATH, claudeCodeHeaders } from "../fixtures/claude-code.js";
import { ANTHROPIC_API_KEY, findLeaks, INJECTED_KEY, OAUTH_TOKEN, OPENAI_KEY, RELAY_TOKEN } from "../fixtures/tokens.js";
import { send } from "../helpers/client.js";
import { anthropicMessage, startMockUpstream, type MockUpstream, type ReceivedRequest } from "../helpers/mock-upstream.js";
import { startTestRelay, type TestRelay } from "../helpers/relay.js";

const HOP_BY_HOP_IN_FIXTURE = ["connection"];

let upstream: MockUpstream;
let relay: TestRelay;

beforeAll(async () => {
  upstream = await startMockUpstream();
  relay = await startTestRelay(
    {
      providers: {
        // the mock stands in for the official origin: trusted with OAuth explicitly
        anthropic: { kind: "anthropic", baseUrl: upstream.url, oauth: "forward" },
        // the mock stands in for the official OpenAI origin: trusted with the client's key explicitly
        openai: { kind: "openai", baseUrl: upstream.url, clientKeys: "forward" },
        // an Anthropic-compatible third party: not trusted by default
        thirdparty: { kind: "anthropic", baseUrl: `${upstream.url}/thirdparty` },
        injected: { kind: "anthropic", baseUrl: `${upstream.url}/injected`, apiKey: { env: "TEST_INJECTED_KEY" } },
      },
    },
    { token: RELAY_TOKEN, env: { TEST_INJECTED_KEY: INJECTED_KEY } },
  );
});
afterAll(async () => {
  await relay?.close();
  await upstream?.close();
});

const body = JSON.stringify({ model: "claude-test", max_tokens: 8, messages: [{ role: "user", content: "hi" }] });

/** Send through the relay (token in the path) and return what the upstream received. */
async function through(path: string, headers: Record<string, string>, payload = body): Promise<ReceivedRequest> {
  const before = upstream.received.length;
  const res = await send(`${relay.url}/_t/${RELAY_TOKEN}${path}`, { method: "POST", headers, body: payload });
  expect(res.status, res.text).toBe(200);
  await upstream.waitForRequests(before + 1);
  return upstream.received[before]!;
}

function betas(got: ReceivedRequest): string[] {
  const value = got.headers["anthropic-beta"];
  return value === undefined ? [] : String(value).split(",");
}

/** The relay token must reach the upstream nowhere: not in a header, not in the URL. */
function expectNoRelayToken(got: ReceivedRequest): void {
  expect(findLeaks(`${got.url}\n${got.rawHeaders.join("\n")}`, [RELAY_TOKEN])).toEqual([]);
  for (const name of Object.keys(got.headers)) expect(name.startsWith("x-llm-relay-"), name).toBe(false);
}

describe("headers the upstream received", () => {
  it("Claude Code with a subscription login, to the trusted origin: every header unchanged but hop-by-hop ones", async () => {
    const fixture = claudeCodeHeaders();
    const got = await through(CLAUDE_CODE_PATH, fixture, CLAUDE_CODE_BODY);
    expect(got.url).toBe(CLAUDE_CODE_PATH);
    for (const [name, value] of Object.entries(fixture)) {
      if (HOP_BY_HOP_IN_FIXTURE.includes(name)) continue;
      expect(got.headers[name], name).toBe(value);
    }
    expect(got.headers["content-length"]).toBe(String(Buffer.byteLength(CLAUDE_CODE_BODY)));
    expect(got.body.toString()).toBe(CLAUDE_CODE_BODY);
    // Nothing added but what HTTP itself needs (host, framing, the connection to our own pool) and Via.
    const added = Object.keys(got.headers).filter((name) => !(name in fixture));
    expect(added.sort()).toEqual(["content-length", "host", "via"]);
    expect(got.headers.host).toBe(new URL(upstream.url).host);
    expect(got.headers["x-api-key"]).toBeUndefined();
    expectNoRelayToken(got);
  });

  it("third-party Anthropic-compatible origin: the OAuth token is withheld and its beta removed", async () => {
    const got = await through("/thirdparty/v1/messages", claudeCodeHeaders());
    expect(got.url).toBe("/thirdparty/v1/messages");
    expect(got.headers.authorization).toBeUndefined();
    expect(got.headers["x-api-key"]).toBeUndefined();
    expect(betas(got)).toEqual(["claude-code-20250219", "interleaved-thinking-2025-05-14"]);
    expect(got.headers["anthropic-version"]).toBe("2023-06-01");
    expect(findLeaks(got.rawHeaders.join("\n"), [OAUTH_TOKEN])).toEqual([]);
    const record = relay.records.at(-1)!;
    expect(record.provider).toBe("thirdparty");
    expect(record.decisions?.find((d) => d.header === "authorization")?.action).toBe("withhold");
  });

  it("OpenAI-kind provider: the OAuth token is withheld, the client's OpenAI key is not", async () => {
    const withheld = await through("/v1/chat/completions", { authorization: `Bearer ${OAUTH_TOKEN}`, "content-type": "application/json" });
    expect(withheld.url).toBe("/v1/chat/completions");
    expect(withheld.headers.authorization).toBeUndefined();
    expect(findLeaks(withheld.rawHeaders.join("\n"), [OAUTH_TOKEN])).toEqual([]);
    const keyed = await through("/v1/chat/completions", { authorization: `Bearer ${OPENAI_KEY}`, "content-type": "application/json" });
    expect(keyed.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
  });

  it("provider with apiKey: the injected key replaces every client credential", async () => {
    const got = await through("/injected/v1/messages", {
      authorization: `Bearer ${OAUTH_TOKEN}`,
      "x-api-key": ANTHROPIC_API_KEY,
      "anthropic-beta": `${OAUTH_BETA},claude-code-20250219`,
    });
    expect(got.url).toBe("/injected/v1/messages");
    expect(got.headers["x-api-key"]).toBe(INJECTED_KEY);
    expect(got.headers.authorization).toBeUndefined();
    expect(betas(got)).toEqual(["claude-code-20250219"]);
    expect(findLeaks(got.rawHeaders.join("\n"), [OAUTH_TOKEN, ANTHROPIC_API_KEY])).toEqual([]);
  });

  it("OAuth misplaced in x-api-key reaches the trusted origin as authorization: Bearer", async () => {
    const got = await through("/v1/messages", { "x-api-key": OAUTH_TOKEN, "anthropic-version": "2023-06-01" });
    expect(got.headers.authorization).toBe(`Bearer ${OAUTH_TOKEN}`);
    expect(got.headers["x-api-key"]).toBeUndefined();
    expect(betas(got)).toEqual([OAUTH_BETA]);
  });

  it("the relay's own headers and token go nowhere upstream", async () => {
    const got = await through("/v1/messages?beta=true", {
      "x-llm-relay-token": RELAY_TOKEN,
      "x-llm-relay-debug": "1",
      "x-api-key": ANTHROPIC_API_KEY,
      "x-custom": `id-${RELAY_TOKEN}`,
      cookie: "session=abc",
    });
    expect(got.url).toBe("/v1/messages?beta=true");
    expectNoRelayToken(got);
    expect(got.headers["x-custom"]).toBeUndefined();
    expect(got.headers.cookie).toBeUndefined();
    expect(got.headers["x-api-key"]).toBe(ANTHROPIC_API_KEY);
  });
});

/** Send a raw target (not normalised by URL parsing) and return the response and what the upstream got, if anything. */
async function throughRaw(target: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; got?: ReceivedRequest }> {
  const before = upstream.received.length;
  const records = relay.records.length;
  const res = await send(relay.url, { method: "POST", headers: { "anthropic-version": "2023-06-01", ...headers }, body, rawTarget: target });
  await relay.waitForRecords(records + 1);
  return { status: res.status, text: res.text, got: upstream.received[before] };
}

// Issue 12 class 4: the request target is policy, like the headers.
describe("the target the upstream received", () => {
  const T = `/_t/${RELAY_TOKEN}`;

  it.each([
    ["dot-dot", `${T}/anthropic/../thirdparty/v1/messages`],
    ["percent-encoded dot-dot", `${T}/anthropic/%2e%2e/thirdparty/v1/messages`],
    ["half-encoded dot-dot", `${T}/anthropic/.%2E/thirdparty/v1/messages`],
  ])("%s out of a trusted provider's prefix is routed, trusted and sent as the normalised path", async (_label, target) => {
    const { status, got } = await throughRaw(target, { authorization: `Bearer ${OAUTH_TOKEN}` });
    expect(status).toBe(200);
    // thirdparty's trust applies: the OAuth token the trusted provider would have got stays home
    expect(got!.url).toBe("/thirdparty/v1/messages");
    expect(got!.headers.authorization).toBeUndefined();
    const record = relay.records.at(-1)!;
    expect(record.provider).toBe("thirdparty");
    expect(record.decisions?.find((d) => d.header === ":path")).toMatchObject({ action: "rewrite", value: "/thirdparty/v1/messages" });
  });

  it.each([
    ["an encoded /", `${T}/anthropic/..%2fthirdparty/v1/messages`],
    ["an encoded backslash", `${T}/anthropic/..%5Cthirdparty/v1/messages`],
    ["dot-dot above the root", `${T}/../../v1/messages`],
    ["an OAuth token in a path segment to a third party", `${T}/thirdparty/v1/messages;${OAUTH_TOKEN}`],
    ["an Anthropic key in a path segment to a third party", `${T}/thirdparty/v1/key=${ANTHROPIC_API_KEY}/messages`],
  ])("%s → 400 in the client's API shape, nothing sent upstream, no secret in the answer", async (_label, target) => {
    const { status, text, got } = await throughRaw(target, { authorization: `Bearer ${OAUTH_TOKEN}` });
    expect(status).toBe(400);
    expect(JSON.parse(text)).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(got).toBeUndefined();
    expect(findLeaks(`${text}\n${JSON.stringify(relay.records.at(-1))}`)).toEqual([]);
  });

  it("an OAuth token in ?key= / ?access_token= never reaches a third party; the other parameters do", async () => {
    const { status, got } = await throughRaw(`${T}/thirdparty/v1/messages?beta=true&key=${OAUTH_TOKEN}&access_token=${encodeURIComponent(OAUTH_TOKEN)}`);
    expect(status).toBe(200);
    expect(got!.url).toBe("/thirdparty/v1/messages?beta=true");
    const record = relay.records.at(-1)!;
    expect(record.decisions?.filter((d) => d.header.startsWith("?")).map((d) => [d.header, d.action])).toEqual([
      ["?key", "withhold"],
      ["?access_token", "withhold"],
    ]);
    expect(findLeaks(JSON.stringify(record))).toEqual([]);
  });

  it("a doubled relay token prefix and ?session=T reach the upstream nowhere and are logged redacted", async () => {
    const { status, got } = await throughRaw(`${T}${T}/v1/messages?beta=true&session=${RELAY_TOKEN}`, { "x-api-key": ANTHROPIC_API_KEY });
    expect(status).toBe(200);
    expect(got!.url).toBe("/v1/messages?beta=true");
    expectNoRelayToken(got!);
    expect(findLeaks(JSON.stringify(relay.records.at(-1)), [RELAY_TOKEN])).toEqual([]);
  });

  it("a second prefix with another token is refused like a wrong one (401)", async () => {
    const { status, got } = await throughRaw(`${T}/_t/not-the-token/v1/messages`);
    expect(status).toBe(401);
    expect(got).toBeUndefined();
  });
});

describe("headers the client received", () => {
  it("response hop-by-hop headers are stripped, everything else passes", async () => {
    upstream.handle((_req, res) => {
      const text = JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: "slow down" } });
      res.writeHead(429, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text),
        "request-id": "req_429",
        "retry-after": "7",
        "anthropic-ratelimit-requests-remaining": "0",
        "keep-alive": "timeout=77, max=9",
        connection: "keep-alive, x-upstream-hop",
        "x-upstream-hop": "secret-hop-info",
        "proxy-authenticate": "Basic",
      });
      res.end(text);
    });
    try {
      const res = await send(`${relay.url}/_t/${RELAY_TOKEN}/v1/messages`, { method: "POST", headers: { "x-api-key": ANTHROPIC_API_KEY }, body });
      expect(res.status).toBe(429);
      expect(res.json()).toEqual({ type: "error", error: { type: "rate_limit_error", message: "slow down" } });
      expect(res.headers["request-id"]).toBe("req_429");
      expect(res.headers["retry-after"]).toBe("7");
      expect(res.headers["anthropic-ratelimit-requests-remaining"]).toBe("0");
      const names = res.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
      expect(names).not.toContain("x-upstream-hop");
      expect(names).not.toContain("proxy-authenticate");
      // Node's server writes its own Connection/Keep-Alive for the client connection; the upstream's value is not relayed.
      expect(res.headers["keep-alive"] ?? "").not.toBe("timeout=77, max=9");
    } finally {
      upstream.handle(anthropicMessage);
    }
  });
});

describe("the Claude Code fixture against the real official origin (pure, no network)", () => {
  const config = resolveConfig({}, { source: { via: "default" }, env: {} });
  const official = config.providers.get("anthropic")!;

  it("the built-in provider is the official origin, trusted with OAuth", () => {
    expect(official.origin).toBe("https://api.anthropic.com");
    expect(official.oauth).toBe("forward");
  });

  it("every fixture header is forwarded unchanged except hop-by-hop ones", () => {
    const fixture = { ...claudeCodeHeaders(), host: "127.0.0.1:8742", "content-length": "345" };
    const plan = decideHeaders({ headers: fixture, provider: official });
    const expected: Record<string, string> = { ...fixture };
    delete expected.connection;
    delete expected.host;
    expect(plan.headers).toEqual(expected);
    for (const d of plan.decisions) {
      const action = d.header === "connection" ? "strip" : d.header === "host" ? "set" : "forward";
      expect(d.action, d.header).toBe(action);
    }
    expect(plan.decisions.find((d) => d.header === "host")?.value).toBe("api.anthropic.com");
    expect(plan.oauthForwarded).toBe(true);
    expect(findLeaks(JSON.stringify(plan.decisions))).toEqual([]);
  });
});
