/**
 * Streaming and disconnects (DESIGN §6): SSE events reach the client while the upstream is still
 * working, a client that goes away takes the upstream request with it, and the relay's
 * bookkeeping (in-flight count, records, close()) stays right through all of it.
 */
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, open, readAll } from "../helpers/client.js";
import { anthropicStream, sseFrame, startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults, startTestRelay, type TestRelay } from "../helpers/relay.js";

let upstream: MockUpstream;
let relay: TestRelay;

beforeAll(async () => {
  upstream = await startMockUpstream();
  relay = await startTestRelay(mockedDefaults(upstream.url));
});
afterAll(async () => {
  await relay?.close();
  await upstream?.close();
});

/** A latch the test opens; the mock upstream waits on it. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

const messageBody = JSON.stringify({ model: "claude-test", max_tokens: 8, stream: true, messages: [{ role: "user", content: "hi" }] });

describe("SSE streaming", () => {
  it("delivers event 1 while the upstream is still stalling before event 2", async () => {
    const go = gate();
    const [first, ...rest] = anthropicStream(["one", "two"]);
    upstream.handle(async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sseFrame(first!));
      await go.wait;
      for (const event of rest) res.write(sseFrame(event));
      res.end();
    });

    const { response } = open(`${relay.url}/v1/messages`, { body: messageBody, headers: { "content-type": "application/json" } });
    const res = await response;
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/event-stream");
    const seen: Buffer[] = [];
    res.on("data", (chunk: Buffer) => seen.push(chunk));
    // The upstream is parked on the gate: event 1 can only get here if nothing buffers it.
    await eventually(() => Buffer.concat(seen).toString().includes("message_start"), 5000, "event 1 before go");
    expect(Buffer.concat(seen).toString()).toBe(sseFrame(first!));
    go.open();
    await new Promise((resolve) => res.on("end", resolve));
    expect(Buffer.concat(seen).toString()).toBe([first!, ...rest].map(sseFrame).join(""));
  });

  it("ends a 200 stream the upstream breaks mid-way with an SSE error event", async () => {
    const [first] = anthropicStream(["x"]);
    upstream.handle((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sseFrame(first!), () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const before = relay.records.length;
    const res = await open(`${relay.url}/v1/messages`, { body: messageBody }).response;
    expect(res.statusCode).toBe(200);
    const text = (await readAll(res)).toString();
    expect(text.startsWith(sseFrame(first!))).toBe(true);
    const tail = text.slice(sseFrame(first!).length);
    const match = /^event: error\ndata: (.*)\n\n$/.exec(tail);
    expect(match, tail).not.toBeNull();
    const error = JSON.parse(match![1]!) as { type: string; error: { type: string; message: string } };
    expect(error.type).toBe("error");
    expect(error.error.message).toMatch(/^llm-relay: /);
    const [record] = (await relay.waitForRecords(before + 1)).slice(before);
    expect(record).toMatchObject({ status: 200, stream: true });
    expect(record!.error).toBeDefined();
  });
});

describe("a stream the upstream breaks where no event can be added", () => {
  /** The client's view of a response the relay cuts: what arrived before the connection dropped. */
  async function readUntilCut(url: string): Promise<{ text: string; cut: boolean }> {
    const res = await open(url, { body: messageBody }).response;
    const chunks: Buffer[] = [];
    return new Promise((resolve) => {
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ text: Buffer.concat(chunks).toString("latin1"), cut: false }));
      res.on("error", () => resolve({ text: Buffer.concat(chunks).toString("latin1"), cut: true }));
    });
  }

  it.each([
    // An event appended after a half-sent line would be glued into it: `data: {"ty…event: error`.
    ["mid-event (the last line is unfinished)", {}, 'event: content_block_delta\ndata: {"type":"content_blo'],
    ["mid-event (the blank line is missing)", {}, 'event: ping\ndata: {"type":"ping"}\n'],
    // Clear text appended to a gzip stream would corrupt it.
    ["compressed (content-encoding: gzip)", { "content-encoding": "gzip" }, gzipSync(sseFrame({ event: "ping", data: { type: "ping" } })).toString("latin1")],
  ])("%s: the relay closes the connection instead", async (_name, headers, sent) => {
    upstream.handle((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", ...headers });
      res.write(Buffer.from(sent, "latin1"), () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const { text, cut } = await readUntilCut(`${relay.url}/v1/messages`);
    expect(cut).toBe(true);
    expect(text).toBe(sent);
  });

  it("a break right after a complete event still gets the error event, even if the blank line came alone", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write('event: ping\ndata: {"type":"ping"}\n', () =>
        setTimeout(() => res.write("\n", () => setTimeout(() => res.socket?.destroy(), 20)), 20),
      );
    });
    const { text, cut } = await readUntilCut(`${relay.url}/v1/messages`);
    expect(cut).toBe(false);
    expect(text).toMatch(/^event: ping\ndata: \{"type":"ping"\}\n\nevent: error\ndata: \{"type":"error"/);
  });
});

describe("client disconnects", () => {
  it("aborts the upstream within a second when the client leaves before response headers", async () => {
    const before = upstream.received.length;
    upstream.handle(() => {
      // Never answer: the relay is waiting for headers when the client goes.
    });
    const { req } = open(`${relay.url}/v1/messages`, { body: messageBody });
    req.on("error", () => {});
    await upstream.waitForRequests(before + 1);
    const leftAt = Date.now();
    req.destroy();
    const got = upstream.received[before]!;
    await eventually(() => got.abortedAt !== undefined, 3000, "upstream abort");
    expect(got.abortedAt! - leftAt).toBeLessThan(1000);
    await eventually(() => relay.inFlight === 0, 3000, "in-flight back to 0");
  });

  it("aborts the upstream within a second when the client leaves mid-stream", async () => {
    const before = upstream.received.length;
    const [first] = anthropicStream(["x"]);
    upstream.handle((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sseFrame(first!));
      // …and then stall: a long generation the user gave up on.
    });
    const { req, response } = open(`${relay.url}/v1/messages`, { body: messageBody });
    req.on("error", () => {});
    const res = await response;
    res.on("error", () => {});
    await new Promise((resolve) => res.once("data", resolve));
    const leftAt = Date.now();
    res.destroy();
    const got = upstream.received[before]!;
    await eventually(() => got.abortedAt !== undefined, 3000, "upstream abort");
    expect(got.abortedAt! - leftAt).toBeLessThan(1000);
    await eventually(() => relay.inFlight === 0, 3000, "in-flight back to 0");
  });

  // With model routes the relay is still reading the body head when the client goes; without,
  // the body is already streaming upstream. Either way nothing leaks and nothing completes upstream.
  it.each([
    ["while the relay reads the body head for a model route", true],
    ["while the body streams upstream", false],
  ])("a client that leaves mid-body %s is recorded as 499 and its request never completes upstream", async (_name, modelRoutes) => {
    const own = await startTestRelay(
      modelRoutes ? { ...mockedDefaults(upstream.url), routes: [{ model: "x-*", provider: "openai" }] } : mockedDefaults(upstream.url),
    );
    const started = upstream.started;
    const received = upstream.received.length;
    const { req } = open(`${own.url}/v1/messages`, {
      headers: { "content-length": "100000" },
      method: "POST",
      body: '{"max_tokens":8,"messages":[',
      keepOpen: true,
    });
    req.on("error", () => {});
    await eventually(() => own.inFlight === 1, 3000, "request in flight");
    if (!modelRoutes) await eventually(() => upstream.started === started + 1, 3000, "upstream request started");
    req.destroy();
    await eventually(() => own.inFlight === 0, 3000, "in-flight back to 0");
    const [record] = await own.waitForRecords(1);
    expect(record!.status).toBe(499);
    if (modelRoutes) expect(upstream.started).toBe(started);
    expect(upstream.received.length).toBe(received);
    await own.close();
  });
});

describe("close()", () => {
  it("resolves while a stream is open, ending it at the grace deadline", async () => {
    const own = await startTestRelay(mockedDefaults(upstream.url));
    const before = upstream.received.length;
    const [first] = anthropicStream(["x"]);
    upstream.handle((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sseFrame(first!));
    });
    const { req, response } = open(`${own.url}/v1/messages`, { body: messageBody });
    req.on("error", () => {});
    const res = await response;
    res.on("error", () => {});
    await new Promise((resolve) => res.once("data", resolve));
    await own.close({ graceMs: 50 });
    expect(own.inFlight).toBe(0);
    await eventually(() => upstream.received[before]!.abortedAt !== undefined, 3000, "upstream abort");
    expect(own.records.at(-1)).toMatchObject({ provider: "anthropic" });
  });

  it("lets an in-flight stream finish inside the grace period", async () => {
    const own = await startTestRelay(mockedDefaults(upstream.url));
    const go = gate();
    const events = anthropicStream(["a", "b"]);
    upstream.handle(async (_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sseFrame(events[0]!));
      await go.wait;
      for (const event of events.slice(1)) res.write(sseFrame(event));
      res.end();
    });
    const res = await open(`${own.url}/v1/messages`, { body: messageBody }).response;
    const body = readAll(res);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const closed = own.close({ graceMs: 10_000 });
    go.open();
    await closed;
    expect((await body).toString()).toBe(events.map(sseFrame).join(""));
    expect(own.records.at(-1)).toMatchObject({ status: 200, stream: true });
  });
});
