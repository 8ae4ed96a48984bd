/**
 * Routes' `when` over loopback (DESIGN §10): the relay reads the whole body and routes on what it
 * asks for (thinking, tools, image, size, stream), and the upstream still receives the client's
 * bytes exactly (sha256).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send, sha256 } from "../helpers/client.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults, startTestRelay, type TestRelay } from "../helpers/relay.js";

let upstream: MockUpstream;
let byWhen: TestRelay;

beforeAll(async () => {
  upstream = await startMockUpstream();
  byWhen = await startTestRelay({
    providers: {
      ...mockedDefaults(upstream.url).providers,
      thinker: { kind: "anthropic", baseUrl: `${upstream.url}/thinker` },
      search: { kind: "anthropic", baseUrl: `${upstream.url}/search` },
      vision: { kind: "anthropic", baseUrl: `${upstream.url}/vision` },
      long: { kind: "anthropic", baseUrl: `${upstream.url}/long` },
      batch: { kind: "anthropic", baseUrl: `${upstream.url}/batch` },
    },
    routes: [
      { when: { tools: "web_search*" }, provider: "search" },
      { when: { thinking: true }, provider: "thinker" },
      { when: { image: true }, provider: "vision" },
      { when: { minInputTokens: 5000 }, provider: "long" },
      { when: { stream: false }, provider: "batch" },
    ],
  });
});
afterAll(async () => {
  await byWhen?.close();
  await upstream?.close();
});

describe("when: routes read the body, the bytes relayed stay the client's", () => {
  const image = { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } };
  const cases: Array<[string, unknown, string, number | undefined]> = [
    ["a web search tool", { model: "m", stream: true, tools: [{ type: "web_search_20250305", name: "web_search" }], thinking: { type: "adaptive" } }, "/search", 0],
    ["thinking enabled (Claude Code 2.0)", { model: "m", stream: true, thinking: { type: "enabled", budget_tokens: 1024 } }, "/thinker", 1],
    ["thinking adaptive (Claude Code 2.1)", { model: "m", stream: true, thinking: { type: "adaptive" } }, "/thinker", 1],
    ["an image inside a tool_result", { model: "m", stream: true, messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "t", content: [image] }] }] }, "/vision", 2],
    ["a long prompt", { model: "m", stream: true, messages: [{ role: "user", content: "lorem ipsum dolor ".repeat(6000) }] }, "/long", 3],
    ["not streamed", { model: "m", stream: false, messages: [] }, "/batch", 4],
    ["none holds: built-in rule", { model: "m", stream: true, thinking: { type: "disabled" }, messages: [] }, "", undefined],
  ];
  it.each(cases)("%s", async (_name, json, prefix, index) => {
    const text = JSON.stringify(json, null, 1);
    const before = upstream.received.length;
    const records = byWhen.records.length;
    const res = await send(`${byWhen.url}/v1/messages`, { headers: { "anthropic-version": "2023-06-01" }, body: [text.slice(0, 7), text.slice(7)] });
    expect(res.status).toBe(200);
    const got = upstream.received[before]!;
    expect(got.url).toBe(`${prefix}/v1/messages`);
    expect(got.sha256).toBe(sha256(text));
    const [record] = (await byWhen.waitForRecords(records + 1)).slice(records);
    if (index === undefined) expect(record!.rule).toEqual({ rule: "built-in", name: "anthropic-version header" });
    else expect(record!.rule).toMatchObject({ rule: "routes", index });
  });

  it("a body that is not JSON matches no when and is relayed as sent", async () => {
    const before = upstream.received.length;
    const res = await send(`${byWhen.url}/v1/messages`, { headers: { "anthropic-version": "2023-06-01" }, body: "{not json" });
    expect(res.status).toBe(200);
    expect(upstream.received[before]!.url).toBe("/v1/messages");
    expect(upstream.received[before]!.sha256).toBe(sha256("{not json"));
  });

  it("the long prompt's record carries the estimate the rule used", async () => {
    const records = byWhen.records.length;
    await send(`${byWhen.url}/v1/messages`, {
      headers: { "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ stream: true, messages: [{ role: "user", content: "lorem ipsum dolor ".repeat(6000) }] }),
    });
    const [record] = (await byWhen.waitForRecords(records + 1)).slice(records);
    expect(record).toMatchObject({ provider: "long", route: "routes[3] (when minInputTokens: 5000)" });
    expect(record!.inputTokensEstimate).toBeGreaterThan(5000);
  });
});

describe("when reads the whole body, bounded by limits.maxBodyBytes", () => {
  it("a chunked body larger than the limit is refused with 413 and never reaches the upstream", async () => {
    const small = await startTestRelay({ ...mockedDefaults(upstream.url), routes: [{ when: { stream: true }, provider: "openai" }], limits: { maxBodyBytes: 4096 } });
    try {
      const before = upstream.received.length;
      const big = JSON.stringify({ stream: true, messages: [{ role: "user", content: "x".repeat(8192) }] });
      const res = await send(`${small.url}/v1/messages`, { headers: { "anthropic-version": "2023-06-01" }, body: [big.slice(0, 1000), big.slice(1000)] });
      expect(res.status).toBe(413);
      expect((res.json() as { error: { type: string } }).error.type).toBeDefined();
      expect(upstream.received.length).toBe(before);
      // Under the limit, the same route holds.
      const ok = await send(`${small.url}/v1/messages`, { headers: { "anthropic-version": "2023-06-01" }, body: [JSON.stringify({ stream: true })] });
      expect(ok.status).toBe(200);
      expect(upstream.received.at(-1)!.url).toBe("/v1/messages");
      expect(small.records.at(-1)).toMatchObject({ provider: "openai", rule: { rule: "routes", index: 0 } });
    } finally {
      await small.close();
    }
  });
});
