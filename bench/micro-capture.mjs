/**
 * Micro-benchmark of the inspector's capture (DESIGN §11) on the bench's own exchange: one real
 * request through an in-process relay (the Claude Code fixture, a 1 KiB JSON answer) is recorded
 * hook by hook, then replayed into a fresh capture store many times with new ids. Reports µs per
 * request, including the deferred work (finishing, redaction) and the garbage collection it
 * causes, with and without the store already full (its bound reached, as after a long run).
 *
 * Run alone: `node bench/micro-capture.mjs` (after `npm run build`).
 */
import http from "node:http";
import path from "node:path";
import { PerformanceObserver } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { request } from "undici";
import { CLAUDE_CODE_BODY, CLAUDE_CODE_PATH, requestHeaders } from "./lib/clients.mjs";
import { ROOT } from "./lib/processes.mjs";

const dist = (file) => import(pathToFileURL(path.join(ROOT, "dist", file)).href);

/** The hook calls of one exchange, as the relay made them. */
export async function recordOneExchange() {
  const { resolveConfig } = await dist("config/resolve.js");
  const { startRelay } = await dist("relay/server.js");
  const answer = Buffer.from(JSON.stringify({ id: "msg_bench", type: "message", role: "assistant", model: "claude-sonnet-4-5-20250929", content: [{ type: "text", text: "x".repeat(900) }], stop_reason: "end_turn", usage: { input_tokens: 12, output_tokens: 34 } }));
  const upstream = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json", "request-id": "req_bench" }).end(answer));
  });
  await new Promise((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const config = resolveConfig(
    { providers: { anthropic: { kind: "anthropic", baseUrl: `http://127.0.0.1:${upstream.address().port}`, oauth: "forward" } }, defaultProvider: "anthropic" },
    { source: { via: "inline" }, env: {} },
  );
  const calls = [];
  const observer = {
    requestStart: (record, facts) => calls.push(["requestStart", facts]),
    requestChunk: (record, chunk) => calls.push(["requestChunk", Buffer.from(chunk)]),
    responseStart: (record, status, headers) => calls.push(["responseStart", status, headers]),
    responseChunk: (record, chunk) => calls.push(["responseChunk", Buffer.from(chunk)]),
    requestEnd: (record) => calls.push(["requestEnd", structuredClone(record)]),
  };
  const relay = await startRelay({ config, host: "127.0.0.1", port: 0, observer });
  const res = await request(`${relay.url}${CLAUDE_CODE_PATH}`, { method: "POST", headers: requestHeaders(), body: CLAUDE_CODE_BODY });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`micro-capture: the recorded exchange answered ${res.statusCode}`);
  await relay.close({ graceMs: 0 });
  await new Promise((resolve) => upstream.close(resolve));
  return { calls, config };
}

/** Replays the exchange `count` times into `store`; new records each time, as the relay makes. */
export function replay(store, calls, count, firstId) {
  const end = calls.find(([name]) => name === "requestEnd")[1];
  for (let n = 0; n < count; n++) {
    const record = { ...end, id: firstId + n, decisions: end.decisions?.map((d) => ({ ...d })) };
    for (const call of calls) {
      if (call[0] === "requestStart") store.requestStart(record, { ...call[1], rawHeaders: [...call[1].rawHeaders] });
      else if (call[0] === "requestChunk") store.requestChunk(record, Buffer.from(call[1]));
      else if (call[0] === "responseStart") store.responseStart(record, call[1], { ...call[2] });
      else if (call[0] === "responseChunk") store.responseChunk(record, Buffer.from(call[1]));
      else store.requestEnd(record);
    }
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Cost of the replay alone (records and buffers made, no store): subtracted from the figures. */
const nullStore = { requestStart() {}, requestChunk() {}, responseStart() {}, responseChunk() {}, requestEnd() {}, settled: async () => {} };

export async function runCaptureMicro({ batches = 15, perBatch = 4_000, prefill = 12_000 } = {}) {
  const { createInspector } = await dist("inspect/index.js");
  const { loadPriceTable } = await dist("pricing/cost.js");
  const table = await loadPriceTable();
  const { calls, config } = await recordOneExchange();
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcMs += entry.duration;
  });
  gc.observe({ entryTypes: ["gc"] });
  let id = 1_000_000;
  /** µs and GC µs per request of one batch into `target`, in slices of 32 as requests arrive under load (deferred work runs between them). */
  const batch = async (target) => {
    const gcBefore = gcMs;
    // CPU time, not wall time: a noisy neighbour's share of the core is not the store's.
    const start = process.cpuUsage();
    for (let i = 0; i < perBatch; i += 32) {
      replay(target, calls, 32, id);
      id += 32;
      await tick();
    }
    await target.settled?.();
    const used = process.cpuUsage(start);
    return { us: (used.user + used.system) / perBatch, gcUs: ((gcMs - gcBefore) * 1000) / perBatch };
  };
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  /** Each batch into the store is paired with one into a store that keeps nothing (the replay's own cost), and the difference taken. */
  const measure = async (store) => {
    const us = [];
    const gcUs = [];
    for (let b = 0; b < batches; b++) {
      const none = await batch(nullStore);
      const some = await batch(store);
      us.push(some.us - none.us);
      gcUs.push(some.gcUs - none.gcUs);
    }
    return { us: median(us), gcUs: median(gcUs) };
  };
  const fresh = () =>
    createInspector({ config, relayToken: undefined, inspectorToken: "bench-inspector-token-0123456789abcdef", relayUrl: () => "http://127.0.0.1:8742", prices: async () => table }).store;
  await measure(fresh()); // warm-up
  const empty = await measure(fresh());
  const full = fresh();
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  replay(full, calls, prefill, 1);
  await full.settled();
  globalThis.gc?.();
  const retained = globalThis.gc ? (process.memoryUsage().heapUsed - heapBefore) / Math.min(prefill, 10_000) : undefined;
  const fullFigures = await measure(full);
  gc.disconnect();
  return { empty, full: { ...fullFigures, heldBytes: full.heldBytes, ...(retained === undefined ? {} : { heapBytesPerRequest: Math.round(retained) }) } };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = await runCaptureMicro();
  console.log(JSON.stringify(figures, null, 2));
}
