/**
 * The bench's upstream: a fast node:http server standing in for a provider, run in its own
 * process so the load generator and the relays never share its event loop.
 *
 * The request's query picks the behaviour, because a query reaches the upstream unchanged
 * through every arm (headers may be rewritten by a relay's policy):
 * - `bench=json` (default): read the body, answer 200 with a 1 KiB Anthropic-shaped JSON body.
 * - `bench=sse&events=64&interval=1`: an Anthropic-shaped stream of `events` events, one every
 *   `interval` ms (0: back to back). Every `data:` line carries `"t"`, the send time in µs of
 *   `process.hrtime` — CLOCK_MONOTONIC on Linux, shared by all processes — so the client can
 *   measure each event's one-way delay.
 * - `bench=stall&id=X`: like `sse`, but after the first event holds the rest until
 *   `POST /_bench/release?id=X` (or `?all=1`), or `HOLD_LIMIT_MS` passes (bounded).
 * - `bench=sink`: read the body, answer `{"bytes":N}` (the 20 MiB upload).
 * `GET /_bench/stats` → `{ open, held, requests, viaLlmRelay }`.
 *
 * Run as `node bench/mock-upstream.mjs`; prints `{"port":N}` on its first stdout line.
 */
import http from "node:http";

/** A held stream is released after this long even if nobody asks: the bench never hangs. */
const HOLD_LIMIT_MS = 120_000;

const JSON_BODY = (() => {
  const base = {
    id: "msg_bench",
    type: "message",
    role: "assistant",
    model: "claude-sonnet-4-5-20250929",
    content: [{ type: "text", text: "" }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: { input_tokens: 12, output_tokens: 34 },
  };
  const bare = Buffer.byteLength(JSON.stringify(base));
  base.content[0].text = "x".repeat(1024 - bare);
  return Buffer.from(JSON.stringify(base));
})();

const nowMicros = () => Number(process.hrtime.bigint() / 1000n);

/** Event `i` of `count`: message_start, content deltas, message_delta (with usage), like Anthropic. */
function sseEvent(i, count) {
  const t = nowMicros();
  if (i === 0) {
    return `event: message_start\ndata: {"type":"message_start","t":${t},"i":0,"message":{"id":"msg_bench","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","usage":{"input_tokens":12,"output_tokens":1}}}\n\n`;
  }
  if (i === count - 1) {
    return `event: message_delta\ndata: {"type":"message_delta","t":${t},"i":${i},"delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":${count}}}\n\n`;
  }
  return `event: content_block_delta\ndata: {"type":"content_block_delta","t":${t},"i":${i},"index":0,"delta":{"type":"text_delta","text":"token ${i} "}}\n\n`;
}

const held = new Map();
let open = 0;
let requests = 0;
/** Requests that came through llm-relay (it marks them with its `Via` entry, RFC 9110 §7.6.3). */
let viaLlmRelay = 0;

function streamEvents(res, { count, interval, holdId }) {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
  let i = 0;
  let timer;
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    if (holdId !== undefined) held.delete(holdId);
    open--;
  };
  res.on("close", finish);
  const next = () => {
    if (res.destroyed) return finish();
    if (i >= count) {
      res.end();
      return;
    }
    res.write(sseEvent(i++, count));
    if (i === count) return next();
    if (holdId !== undefined && i === 1) {
      const release = () => {
        clearTimeout(timer);
        held.delete(holdId);
        next();
      };
      held.set(holdId, release);
      timer = setTimeout(release, HOLD_LIMIT_MS);
      return;
    }
    if (interval > 0) timer = setTimeout(next, interval);
    else next();
  };
  open++;
  next();
}

function control(req, res, url) {
  if (url.pathname === "/_bench/release") {
    const ids = url.searchParams.get("all") ? [...held.keys()] : [url.searchParams.get("id")];
    let released = 0;
    for (const id of ids) {
      const release = held.get(id);
      if (release) {
        release();
        released++;
      }
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ released }));
    return;
  }
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ open, held: held.size, requests, viaLlmRelay }));
}

const server = http.createServer({ noDelay: true }, (req, res) => {
  const url = new URL(req.url, "http://mock");
  if (url.pathname.startsWith("/_bench/")) {
    req.resume();
    req.on("end", () => control(req, res, url));
    return;
  }
  requests++;
  if (req.headers.via?.includes("llm-relay")) viaLlmRelay++;
  const mode = url.searchParams.get("bench") ?? "json";
  let bytes = 0;
  req.on("data", (chunk) => (bytes += chunk.length));
  req.on("end", () => {
    if (mode === "sse" || mode === "stall") {
      streamEvents(res, {
        count: Math.max(1, Number(url.searchParams.get("events") ?? 64)),
        interval: Math.max(0, Number(url.searchParams.get("interval") ?? 1)),
        holdId: mode === "stall" ? (url.searchParams.get("id") ?? String(requests)) : undefined,
      });
    } else if (mode === "sink") {
      const body = JSON.stringify({ bytes });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(body);
    } else {
      res.writeHead(200, { "content-type": "application/json", "content-length": JSON_BODY.length, "request-id": "req_bench" });
      res.end(JSON_BODY);
    }
  });
});
// Longer than any pause in the bench, so pooled upstream connections are never closed under a relay.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.requestTimeout = 0;

server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
// The parent's end (pipe closed) ends us: no orphan servers on a shared machine.
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
process.on("SIGTERM", () => process.exit(0));
