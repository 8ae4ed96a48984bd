/**
 * The bench's client side: sequential requests timed into HDR histograms, SSE streams whose
 * events are timed against the send time the mock stamps into them, the held (stall) stream,
 * many concurrent open streams, and one large upload. All over undici, loopback only.
 */
import { Client, Pool, request } from "undici";
import * as hdr from "hdr-histogram-js";
import {
  CLAUDE_CODE_BODY,
  CLAUDE_CODE_PATH,
  claudeCodeHeaders as claudeCodeRequestHeaders,
} from "../../test/fixtures/claude-code-request.mjs";

/** What a Claude Code session sends: the fixture shared with the tests, with a fake token of the bench's own. */
export const FAKE_OAUTH_TOKEN = `sk-ant-oat01-${"benchTOKENxq7".repeat(8).slice(0, 95)}`;
export { CLAUDE_CODE_BODY, CLAUDE_CODE_PATH };
export function claudeCodeHeaders(token = FAKE_OAUTH_TOKEN) {
  return claudeCodeRequestHeaders(token);
}

/** Headers undici sets itself (and refuses from callers). */
export function requestHeaders() {
  const { connection: _hopByHop, ...headers } = claudeCodeHeaders();
  return headers;
}

/** A histogram of nanoseconds (3 significant digits, up to 100 s). */
export function nanosHistogram() {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 100e9, numberOfSignificantValueDigits: 3 });
}

const nowNs = () => process.hrtime.bigint();
const nowMicros = () => Number(process.hrtime.bigint() / 1000n);

function expectOk(statusCode, what) {
  if (statusCode !== 200) throw new Error(`${what}: expected 200, got ${statusCode}`);
}

/**
 * A keep-alive connection to one arm, reused across rounds so every round measures warm requests.
 * Timeouts are short enough that a broken arm fails its phase instead of hanging the bench.
 */
export function connect(url, options = {}) {
  return new Client(url, { pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 15_000, bodyTimeout: 30_000, ...options });
}

/** `count` sequential POSTs (c = 1) whose full round trip, in ns, goes into `histogram`. */
export async function timeSequential(client, count, histogram, { path = `${CLAUDE_CODE_PATH}&bench=json`, headers = requestHeaders(), body = CLAUDE_CODE_BODY } = {}) {
  for (let i = 0; i < count; i++) {
    const start = nowNs();
    const res = await client.request({ path, method: "POST", headers, body });
    await res.body.dump({ limit: Infinity });
    const elapsed = Number(nowNs() - start);
    expectOk(res.statusCode, "JSON request");
    histogram?.recordValue(elapsed);
  }
}

/**
 * Splits a stream's bytes into SSE events and reports each event's `"t"` (the mock's send time,
 * µs) with the time its last byte arrived here. Events are separated by a blank line (WHATWG SSE).
 */
export class EventTimer {
  carry = "";
  events = 0;
  constructor(onEvent) {
    this.onEvent = onEvent;
  }
  push(chunk) {
    const arrived = nowMicros();
    this.carry += chunk.toString("latin1");
    let end;
    while ((end = this.carry.indexOf("\n\n")) !== -1) {
      const event = this.carry.slice(0, end);
      this.carry = this.carry.slice(end + 2);
      const match = /"t":(\d+)/.exec(event);
      this.events++;
      if (match) this.onEvent({ sentAt: Number(match[1]), arrived, index: this.events - 1 });
    }
  }
}

/**
 * One SSE stream of `events` events: time to first event (ns, from sending the request) into
 * `ttfe`, each event's one-way delay (ns) into `perEvent`. Returns the number of events seen.
 */
export async function timeStream(client, { events, intervalMs, ttfe, perEvent }) {
  const start = nowNs();
  const res = await client.request({
    path: `${CLAUDE_CODE_PATH}&bench=sse&events=${events}&interval=${intervalMs}`,
    method: "POST",
    headers: requestHeaders(),
    body: CLAUDE_CODE_BODY,
  });
  expectOk(res.statusCode, "SSE request");
  let first = true;
  const timer = new EventTimer(({ sentAt, arrived }) => {
    if (first) {
      first = false;
      ttfe?.recordValue(Number(nowNs() - start));
    }
    perEvent?.recordValue(Math.max(1, (arrived - sentAt) * 1000));
  });
  for await (const chunk of res.body) timer.push(chunk);
  if (timer.events !== events) throw new Error(`SSE stream: expected ${events} events, got ${timer.events}`);
  return timer.events;
}

/** Resolves with the first complete SSE event of `body`, or rejects after `timeoutMs`. */
function firstEvent(body, timeoutMs, timer) {
  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => {
      cleanup();
      reject(new Error(`no event within ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = (chunk) => {
      timer.push(chunk);
      if (timer.events > 0) {
        cleanup();
        resolve();
      }
    };
    const onEnd = () => {
      cleanup();
      reject(new Error("stream ended before its first event"));
    };
    const cleanup = () => {
      clearTimeout(timeout);
      body.off("data", onData);
      body.off("end", onEnd);
      body.off("error", onEnd);
      body.pause();
    };
    body.on("data", onData);
    body.on("end", onEnd);
    body.on("error", onEnd);
  });
}

/** Read a body to its end, or destroy it after `timeoutMs`: a broken arm must not hang the bench. */
async function drain(body, timer, timeoutMs = 15_000) {
  const deadline = setTimeout(() => body.destroy(new Error(`stream not finished within ${timeoutMs} ms`)), timeoutMs);
  try {
    body.resume();
    for await (const chunk of body) timer.push(chunk);
  } finally {
    clearTimeout(deadline);
  }
}

/**
 * The stall case: the mock sends one event and holds the rest. Does the first event reach the
 * client while the upstream still holds the stream? Then release it and check the rest arrive.
 */
export async function stallCase(client, mockUrl, { id, events = 64, timeoutMs = 3000 }) {
  const start = nowNs();
  const timer = new EventTimer(() => {});
  const release = async () =>
    (await request(`${mockUrl}/_bench/release?id=${encodeURIComponent(id)}`, { method: "POST" })).body.dump();
  let res;
  try {
    res = await client.request({
      path: `${CLAUDE_CODE_PATH}&bench=stall&events=${events}&interval=0&id=${encodeURIComponent(id)}`,
      method: "POST",
      headersTimeout: timeoutMs,
      headers: requestHeaders(),
      body: CLAUDE_CODE_BODY,
    });
    expectOk(res.statusCode, "stall request");
  } catch (e) {
    // No response head while the upstream held the stream: the first event cannot have arrived.
    await release();
    await res?.body.dump().catch(() => {});
    return { delivered: false, firstEventMs: undefined, heldWhileFirstArrived: 0, events: 0, error: e.message };
  }
  let firstEventMs;
  let error;
  try {
    await firstEvent(res.body, timeoutMs, timer);
    firstEventMs = Number(nowNs() - start) / 1e6;
  } catch (e) {
    error = e.message;
  }
  const stats = await (await request(`${mockUrl}/_bench/stats`)).body.json();
  await release();
  await drain(res.body, timer).catch((e) => (error ??= e.message));
  return { delivered: firstEventMs !== undefined && stats.held > 0, firstEventMs, heldWhileFirstArrived: stats.held, events: timer.events, error };
}

/**
 * Open `count` SSE streams at once (in batches, to stay inside the listen backlog), each held by
 * the mock after its first event. `whileOpen()` runs with all of them open; then they are
 * released and read to the end. Returns what `whileOpen` returned and the events seen.
 */
export async function manyOpenStreams(url, mockUrl, { count, batch = 50, timeoutMs = 20_000 }, whileOpen) {
  const pool = new Pool(url, { connections: count + 10, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: timeoutMs, bodyTimeout: 120_000 });
  const open = [];
  try {
    for (let i = 0; i < count; i += batch) {
      const opened = await Promise.all(
        Array.from({ length: Math.min(batch, count - i) }, async (_, j) => {
          const res = await pool.request({
            path: `${CLAUDE_CODE_PATH}&bench=stall&events=8&interval=0&id=many-${i + j}`,
            method: "POST",
            headers: requestHeaders(),
            body: CLAUDE_CODE_BODY,
          });
          expectOk(res.statusCode, "held stream");
          const timer = new EventTimer(() => {});
          await firstEvent(res.body, timeoutMs, timer);
          return { body: res.body, timer };
        }),
      );
      open.push(...opened);
    }
    const measured = await whileOpen();
    await (await request(`${mockUrl}/_bench/release?all=1`, { method: "POST" })).body.dump();
    await Promise.all(open.map(({ body, timer }) => drain(body, timer)));
    return { measured, events: open.reduce((n, { timer }) => n + timer.events, 0) };
  } finally {
    // Whatever happened above, nothing stays held at the mock or open here.
    await request(`${mockUrl}/_bench/release?all=1`, { method: "POST" }).then((r) => r.body.dump()).catch(() => {});
    await pool.destroy().catch(() => {});
  }
}

/** POST `body` (a Buffer) to the sink; resolves with the wall time in ns once the answer is read. */
export async function timeUpload(client, body) {
  const start = nowNs();
  const res = await client.request({
    path: `${CLAUDE_CODE_PATH}&bench=sink`,
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", authorization: `Bearer ${FAKE_OAUTH_TOKEN}` },
    body,
  });
  const answer = await res.body.json();
  const elapsed = Number(nowNs() - start);
  expectOk(res.statusCode, "upload");
  if (answer.bytes !== body.length) throw new Error(`upload: the upstream received ${answer.bytes} of ${body.length} bytes`);
  return elapsed;
}
