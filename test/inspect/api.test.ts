/**
 * The inspector's API against a real relay and a mock upstream (DESIGN §11): the shapes of
 * src/inspect/types.ts, filled with what the relay really did.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mockedDefaults } from "../helpers/relay.js";
import { anthropicStream, openaiStream, sendJson, sendSse, startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { send } from "../helpers/client.js";
import { startInspectedRelay, type InspectedRelay } from "../helpers/inspected-relay.js";
import type { RequestDetail, RequestList, SessionList } from "../../src/inspect/types.js";
import { OAUTH_TOKEN } from "../fixtures/tokens.js";

let upstream: MockUpstream;
let x: InspectedRelay;

beforeAll(async () => {
  upstream = await startMockUpstream();
  x = await startInspectedRelay(mockedDefaults(upstream.url));
});
afterAll(async () => {
  await x.close();
  await upstream.close();
});

const messagesBody = (model: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ model, max_tokens: 100, system: "be brief", messages: [{ role: "user", content: "hello there" }], ...extra });

describe("requests", () => {
  it("lists a JSON exchange with its bodies, headers, decisions and usage", async () => {
    upstream.handle((_req, res) =>
      sendJson(res, 200, { id: "m1", type: "message", role: "assistant", model: "claude-x", content: [{ type: "text", text: "hi back" }], stop_reason: "end_turn", usage: { input_tokens: 12, output_tokens: 3, cache_read_input_tokens: 30, cache_creation_input_tokens: 8 } }),
    );
    const res = await send(`${x.relay.url}/v1/messages`, {
      body: messagesBody("claude-x"),
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", authorization: `Bearer ${OAUTH_TOKEN}`, "x-claude-code-session-id": "sess-1" },
    });
    expect(res.status).toBe(200);
    await x.inspector.store.settled();
    const list = (await x.api("api/requests")).json() as RequestList;
    const summary = list.requests.at(-1)!;
    expect(summary).toMatchObject({ sessionId: "sess-1", state: "done", method: "POST", path: "/v1/messages", model: "claude-x", provider: "anthropic", status: 200, stream: false });
    expect(summary.usage).toEqual({ inputTokens: 12, outputTokens: 3, cacheReadTokens: 30, cacheCreationTokens: 8 });
    expect(summary.cacheHitRate).toBeCloseTo(30 / 50);
    expect(summary.durationMs).toBeGreaterThan(0);

    const detail = (await x.api(`api/requests/${summary.id}`)).json() as RequestDetail;
    expect(detail.request.body).toMatchObject({ bytes: Buffer.byteLength(messagesBody("claude-x")), truncated: false, evicted: false });
    expect(JSON.parse(detail.request.body!.text!)).toMatchObject({ system: "be brief" });
    expect(detail.response!.status).toBe(200);
    expect(detail.response!.assembled).toEqual({ text: "hi back", thinking: "", toolCalls: [], stopReason: "end_turn" });
    expect(detail.decisions.find((d) => d.header === "authorization")?.action).toBe("forward");
    expect(detail.request.headers.find(([n]) => n === "authorization")?.[1]).toMatch(/^Bearer sk-ant-oat01-…\[len=108 #[0-9a-f]{6}\]$/);
    expect(detail.upstream).toBe(`${upstream.url}/v1/messages`);
  });

  it("assembles an Anthropic stream and keeps its events with times", async () => {
    upstream.handle((_req, res) => sendSse(res, anthropicStream(["Hel", "lo"]), { delayMs: 5 }));
    const res = await send(`${x.relay.url}/v1/messages`, { body: messagesBody("claude-y", { stream: true }), headers: { "content-type": "application/json" } });
    expect(res.status).toBe(200);
    const list = (await x.api("api/requests")).json() as RequestList;
    const id = list.requests.at(-1)!.id;
    const detail = (await x.api(`api/requests/${id}`)).json() as RequestDetail;
    expect(detail.stream).toBe(true);
    expect(detail.response!.assembled!.text).toBe("Hello");
    const events = detail.response!.events!;
    expect(events.map((e) => e.event)).toEqual(["message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"]);
    for (let i = 1; i < events.length; i++) expect(events[i]!.t).toBeGreaterThanOrEqual(events[i - 1]!.t);
    expect(events.at(-1)!.t).toBeGreaterThan(events[0]!.t);
    expect(detail.usage).toEqual({ inputTokens: 25, outputTokens: 7 });
  });

  it("assembles an OpenAI chat stream", async () => {
    upstream.handle((_req, res) => sendSse(res, openaiStream(["a", "b", "c"])));
    await send(`${x.relay.url}/v1/chat/completions`, { body: JSON.stringify({ model: "gpt-x", stream: true, messages: [] }), headers: { "content-type": "application/json" } });
    const list = (await x.api("api/requests")).json() as RequestList;
    const detail = (await x.api(`api/requests/${list.requests.at(-1)!.id}`)).json() as RequestDetail;
    expect(detail.provider).toBe("openai");
    expect(detail.response!.assembled).toMatchObject({ text: "abc", stopReason: "stop" });
  });

  it("answers 404 JSON for an unknown request id and path", async () => {
    const res = await x.api("api/requests/999999");
    expect(res.status).toBe(404);
    expect(res.json()).toMatchObject({ error: { type: "not_found" } });
    expect((await x.api("api/nothing")).status).toBe(404);
  });
});

describe("sessions", () => {
  it("groups by x-claude-code-session-id, else the run's session, with totals and context sizes", async () => {
    upstream.handle((_req, res) => sendJson(res, 200, { type: "message", content: [], usage: { input_tokens: 100, output_tokens: 10, cache_read_input_tokens: 900 } }));
    for (let i = 0; i < 2; i++) {
      await send(`${x.relay.url}/v1/messages`, { body: messagesBody("claude-z"), headers: { "content-type": "application/json", "x-claude-code-session-id": "sess-2" } });
    }
    const { sessions } = (await x.api("api/sessions")).json() as SessionList;
    const s2 = sessions.find((s) => s.id === "sess-2")!;
    expect(s2.requests).toBe(2);
    expect(s2.tokens).toEqual({ inputTokens: 200, outputTokens: 20, cacheReadTokens: 1800, cacheCreationTokens: 0 });
    expect(s2.context.map((c) => c.tokens)).toEqual([1000, 1000]);
    expect(sessions.some((s) => s.id.startsWith("run-"))).toBe(true);
  });

  it("keeps at most 1,000 sessions, dropping the one idle longest: a client inventing one per request cannot grow the table", async () => {
    upstream.handle((_req, res) => sendJson(res, 200, { type: "message", content: [], usage: { input_tokens: 1, output_tokens: 1 } }));
    const post = (session: string) =>
      send(`${x.relay.url}/v1/messages`, { body: messagesBody("claude-z"), headers: { "content-type": "application/json", "x-claude-code-session-id": session } });
    await post("sess-kept");
    for (let i = 0; i < 1100; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => post(`flood-${i + k}`)));
    await post("sess-kept"); // active again: now the most recent
    for (let i = 1100; i < 1200; i += 50) await Promise.all(Array.from({ length: 50 }, (_, k) => post(`flood-${i + k}`)));
    const { sessions } = (await x.api("api/sessions")).json() as SessionList;
    expect(sessions.length).toBe(1000);
    expect(sessions.some((s) => s.id === "sess-kept")).toBe(true);
    expect(sessions.some((s) => s.id === "flood-0")).toBe(false);
    expect(sessions.some((s) => s.id === "flood-1199")).toBe(true);
  }, 60_000);
});
