/**
 * A mock upstream on 127.0.0.1:0 that records exactly what arrived (method, URL, headers, body
 * hash) and answers with whatever handler the test installs. What it recorded is what the
 * tests assert: the headers the upstream actually received.
 */
import { createHash } from "node:crypto";
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  /** The body (kept whole only up to 1 MiB; see `bytes` and `sha256` for larger ones). */
  body: Buffer;
  bytes: number;
  sha256: string;
  /** Set when the client (the relay) closed the connection before the response finished. */
  abortedAt?: number;
}

export type MockHandler = (req: IncomingMessage, res: ServerResponse, received: ReceivedRequest) => void | Promise<void>;

export interface MockUpstream {
  url: string;
  port: number;
  received: ReceivedRequest[];
  /** Requests whose headers arrived (the body may still be streaming). */
  started: number;
  handle(handler: MockHandler): void;
  /** Resolves when `count` requests have been received in full. */
  waitForRequests(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/** The default answer: a small Anthropic-shaped JSON message. */
export const anthropicMessage: MockHandler = (_req, res) => {
  sendJson(res, 200, {
    id: "msg_test",
    type: "message",
    role: "assistant",
    model: "claude-test",
    content: [{ type: "text", text: "hi" }],
    stop_reason: "end_turn",
    usage: { input_tokens: 10, output_tokens: 2 },
  }, { "request-id": "req_mock" });
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

export interface SseEvent {
  event?: string;
  data: unknown;
}

export function sseFrame({ event, data }: SseEvent): string {
  return `${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}

/** An Anthropic streaming message, as the API sends it. */
export function anthropicStream(text: string[], usage = { input_tokens: 25, output_tokens: 7 }): SseEvent[] {
  return [
    { event: "message_start", data: { type: "message_start", message: { id: "msg_s", type: "message", role: "assistant", model: "claude-test", content: [], stop_reason: null, usage: { input_tokens: usage.input_tokens, output_tokens: 1 } } } },
    { event: "content_block_start", data: { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } } },
    ...text.map((t) => ({ event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: t } } })),
    { event: "content_block_stop", data: { type: "content_block_stop", index: 0 } },
    { event: "message_delta", data: { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: usage.output_tokens } } },
    { event: "message_stop", data: { type: "message_stop" } },
  ];
}

/** An OpenAI chat completions stream with a final usage chunk. */
export function openaiStream(text: string[], usage = { prompt_tokens: 9, completion_tokens: 4 }): SseEvent[] {
  const base = { id: "chatcmpl-test", object: "chat.completion.chunk", created: 1, model: "gpt-test" };
  return [
    ...text.map((t, i) => ({ data: { ...base, choices: [{ index: 0, delta: i === 0 ? { role: "assistant", content: t } : { content: t }, finish_reason: null }] } })),
    { data: { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] } },
    { data: { ...base, choices: [], usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } } },
    { data: "[DONE]" },
  ];
}

/** Send SSE events, optionally pausing between them. */
export async function sendSse(res: ServerResponse, events: SseEvent[], { delayMs = 0 }: { delayMs?: number } = {}): Promise<void> {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  for (const event of events) {
    if (res.destroyed) return;
    res.write(sseFrame(event));
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  }
  res.end();
}

const KEEP_BODY = 1024 * 1024;

export async function startMockUpstream(initial: MockHandler = anthropicMessage): Promise<MockUpstream> {
  let handler = initial;
  const received: ReceivedRequest[] = [];
  const waiters: Array<() => void> = [];
  const state = { started: 0 };

  const server = http.createServer((req, res) => {
    state.started++;
    const hash = createHash("sha256");
    const kept: Buffer[] = [];
    let bytes = 0;
    const entry: ReceivedRequest = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: Buffer.alloc(0),
      bytes: 0,
      sha256: "",
    };
    res.on("close", () => {
      if (!res.writableFinished) entry.abortedAt = Date.now();
    });
    req.on("data", (chunk: Buffer) => {
      hash.update(chunk);
      if (bytes < KEEP_BODY) kept.push(chunk);
      bytes += chunk.length;
    });
    req.on("end", () => {
      entry.body = Buffer.concat(kept);
      entry.bytes = bytes;
      entry.sha256 = hash.digest("hex");
      received.push(entry);
      for (const wake of waiters.splice(0)) wake();
      Promise.resolve(handler(req, res, entry)).catch(() => res.destroy());
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    get started() {
      return state.started;
    },
    handle(next) {
      handler = next;
    },
    async waitForRequests(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`mock upstream: expected ${count} requests, got ${received.length}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, left);
        });
      }
      return received;
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Makes `upstream` answer with an Anthropic stream that sends its first event, then waits until
 * the returned function is called (a request that stays in flight as long as the test needs).
 */
export function gatedStream(upstream: MockUpstream): () => void {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const events = anthropicStream(["a", "b"]);
  upstream.handle(async (_req, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    res.write(sseFrame(events[0]!));
    await gate;
    for (const event of events.slice(1)) res.write(sseFrame(event));
    res.end();
  });
  return release;
}
