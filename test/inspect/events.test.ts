/**
 * The live feed (DESIGN §11): a request appears on `api/events` when it starts and again when it
 * ends, without the page polling; slow or surplus readers are dropped, never buffered for.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IncomingMessage } from "node:http";
import { open, send } from "../helpers/client.js";
import { startInspectedRelay, type InspectedRelay } from "../helpers/inspected-relay.js";
import { mockedDefaults, startTestRelay } from "../helpers/relay.js";
import { sendJson, startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { MAX_CLIENTS } from "../../src/inspect/events.js";
import type { RequestSummary, SessionSummary, SessionUpdate } from "../../src/inspect/types.js";

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

interface Frame {
  event: string;
  data: unknown;
}

/** Reads SSE frames from a response as they arrive. */
function frames(res: IncomingMessage): { next(predicate: (f: Frame) => boolean, timeoutMs?: number): Promise<Frame> } {
  const seen: Frame[] = [];
  let buffer = "";
  const waiters = new Set<() => void>();
  res.setEncoding("utf8");
  res.on("data", (text: string) => {
    buffer += text;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event && data) seen.push({ event, data: JSON.parse(data) });
    }
    for (const wake of waiters) wake();
  });
  return {
    next(predicate, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const i = seen.findIndex(predicate);
          if (i === -1) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(seen.splice(i, 1)[0]!);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error("no such event"));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

describe("api/events", () => {
  it("sends a request when it starts, and again when it ends, and the session totals", async () => {
    const { response } = open(`${x.relay.url}/_relay/api/events`, { headers: { "x-llm-relay-token": x.token } });
    const res = await response;
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(res.headers["content-security-policy"]).toBe("default-src 'self'");
    const feed = frames(res);

    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    upstream.handle(async (_req, out) => {
      await held;
      sendJson(out, 200, { type: "message", content: [{ type: "text", text: "ok" }], usage: { input_tokens: 5, output_tokens: 1 } });
    });
    const request = send(`${x.relay.url}/v1/messages`, { body: JSON.stringify({ model: "claude-live", messages: [] }), headers: { "content-type": "application/json" } });

    const started = (await feed.next((f) => f.event === "request" && (f.data as RequestSummary).state === "active")).data as RequestSummary;
    expect(started).toMatchObject({ method: "POST", path: "/v1/messages", model: "claude-live", status: 0 });
    release();
    expect((await request).status).toBe(200);
    const ended = (await feed.next((f) => f.event === "request" && (f.data as RequestSummary).id === started.id && (f.data as RequestSummary).state === "done")).data as RequestSummary;
    expect(ended).toMatchObject({ status: 200, usage: { inputTokens: 5, outputTokens: 1 } });
    const session = (await feed.next((f) => f.event === "session")).data as SessionSummary;
    expect(session.requests).toBeGreaterThanOrEqual(1);
    res.destroy();
  });

  it("sends each session update with only the point its request added, so events stay the same size as a session grows", async () => {
    const { response } = open(`${x.relay.url}/_relay/api/events`, { headers: { "x-llm-relay-token": x.token } });
    const res = await response;
    const feed = frames(res);
    const raw: string[] = [];
    res.on("data", (text: string) => raw.push(text));
    upstream.handle((req, out) => {
      if (req.url === "/v1/messages") sendJson(out, 200, { type: "message", content: [], usage: { input_tokens: 7, output_tokens: 1, cache_read_input_tokens: 93 } });
      else sendJson(out, 500, { type: "error", error: { type: "api_error", message: "no" } });
    });
    const headers = { "content-type": "application/json", "x-claude-code-session-id": "sess-grow" };
    for (let i = 0; i < 30; i++) {
      const path = i === 10 ? "/v1/messages/count_tokens" : "/v1/messages";
      await send(`${x.relay.url}${path}`, { body: JSON.stringify({ model: "claude-grow", messages: [] }), headers });
    }
    // (A session update without a point also comes when a price arrives later.)
    const updates: SessionUpdate[] = [];
    for (let i = 0; i < 30; i++) {
      const update = (await feed.next((f) => f.event === "session" && (f.data as SessionUpdate).id === "sess-grow" && (f.data as SessionUpdate).point !== undefined)).data as SessionUpdate;
      expect(update).not.toHaveProperty("context");
      updates.push(update);
    }
    const list = (await x.api("api/requests")).json() as { requests: RequestSummary[] };
    expect(updates.map((u) => u.point!.id)).toEqual(list.requests.filter((r) => r.sessionId === "sess-grow").map((r) => r.id));
    expect(updates.map((u) => u.requests)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    // One point per request: a request with no usage has a point without tokens.
    expect(updates.map((u) => u.point!.tokens)).toEqual(Array.from({ length: 30 }, (_, i) => (i === 10 ? undefined : 100)));
    const sizes = raw.join("").split("\n\n").filter((f) => f.startsWith("event: session") && f.includes('"sess-grow"') && f.includes('"point"')).map((f) => f.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThan(64);
    // The whole list is what api/sessions serves, in the same order.
    const { sessions } = (await x.api("api/sessions")).json() as { sessions: SessionSummary[] };
    expect(sessions.find((s) => s.id === "sess-grow")!.context).toEqual(updates.map((u) => u.point));
    res.destroy();
  });

  it(`keeps at most ${MAX_CLIENTS} readers: the oldest is closed for a new one`, async () => {
    const readers: IncomingMessage[] = [];
    for (let i = 0; i < MAX_CLIENTS + 1; i++) {
      const res = await open(`${x.relay.url}/_relay/api/events`, { headers: { "x-llm-relay-token": x.token } }).response;
      res.resume();
      readers.push(res);
    }
    await new Promise<void>((resolve) => (readers[0]!.closed ? resolve() : readers[0]!.on("close", () => resolve())));
    expect(readers[0]!.complete || readers[0]!.destroyed || readers[0]!.closed).toBe(true);
    for (const r of readers) r.destroy();
  });
});

describe("with the inspector off", () => {
  it("/_relay/ stays 404", async () => {
    const plain = await startTestRelay(mockedDefaults(upstream.url));
    try {
      for (const path of ["/_relay/", "/_relay/api/requests", "/_relay/api/events"]) {
        expect((await send(`${plain.url}${path}`)).status).toBe(404);
      }
    } finally {
      await plain.close();
    }
  });
});
