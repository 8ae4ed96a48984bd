/**
 * Where bytes leave: one exchange with the upstream through undici's `dispatch`, streaming the
 * request body up and the response body down with backpressure both ways (DESIGN §6). Response
 * headers pass through minus hop-by-hop ones; upstream errors (4xx/5xx) pass untouched; failures
 * the relay sees itself become API-shaped 502/504s, or an SSE `error` event once a stream began.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import type { ResolvedConfig, ResolvedProvider } from "../config/resolve.js";
import type { RequestRecord } from "../log/record.js";
import { responseHeadersToRelay } from "../policy/hop-by-hop.js";
import { redact, type KnownSecrets } from "../policy/redact.js";
import { apiShapeFor, errorBody, errorEvent, type RelayErrorCode } from "./api-errors.js";
import { endAfterDrain } from "./request-body.js";
import { guarded, type RelayObserver } from "./observer.js";
import { upstreamErrorRecord } from "./upstream-error.js";
import { createUsageTap, type UsageTap } from "./usage-tap.js";

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  dispatcher: Dispatcher;
  provider: ResolvedProvider;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | Readable | null;
  record: RequestRecord;
  started: number;
  timeouts: ResolvedConfig["timeouts"];
  /** Set by the server when the shutdown deadline cuts what is still in flight. */
  shutdown: { reason?: string };
  /** Secrets to scrub from error messages (the relay token, every configured key). */
  secrets: KnownSecrets;
  /** Told of the response head and each body chunk (inspector capture); never awaited. */
  observer?: RelayObserver | undefined;
  onDone: (record: RequestRecord) => void;
}

interface Failure {
  status: number;
  code: RelayErrorCode;
  message: string;
}

/** Map what undici and the socket report to what the client is told. */
export function describeUpstreamFailure(error: Error & { code?: string }, upstream: string): Failure {
  switch (error.code) {
    case "UND_ERR_CONNECT_TIMEOUT":
      return { status: 504, code: "upstream_timeout", message: `timed out connecting to ${upstream}` };
    case "UND_ERR_HEADERS_TIMEOUT":
      return { status: 504, code: "upstream_timeout", message: `${upstream} sent no response headers in time (timeouts.headersMs)` };
    case "UND_ERR_BODY_TIMEOUT":
      return { status: 504, code: "upstream_timeout", message: `${upstream} went idle mid-response (timeouts.idleMs)` };
    case "ECONNREFUSED":
      return { status: 502, code: "upstream_unreachable", message: `${upstream} refused the connection` };
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return { status: 502, code: "upstream_unreachable", message: `cannot resolve ${upstream} (${error.code})` };
    case "LLM_RELAY_BODY_TOO_LARGE":
      return { status: 413, code: "body_too_large", message: error.message };
    default:
      return {
        status: 502,
        code: "upstream_broken",
        message: `connection to ${upstream} failed (${error.code ?? error.name ?? "error"})`,
      };
  }
}

class ExchangeHandler implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  private clientGone = false;
  private tap: UsageTap | undefined;
  private done = false;
  /** The response body is compressed: nothing can be appended to it in clear text. */
  private encoded = false;
  /** The bytes relayed so far end on an SSE event boundary (a blank line), where an event may be added. */
  private atEventBoundary = true;
  private tail: Buffer = Buffer.alloc(0);
  /** Set when the upstream answered 4xx/5xx: the headers that identify the failure. */
  private errorHead: { requestId: string | undefined; retryAfter: string | undefined } | undefined;

  constructor(private readonly x: Exchange) {
    x.res.on("close", this.onClientClose);
    // Gone already (while the relay awaited something, e.g. loading undici): abort at the start.
    if (x.res.destroyed) this.clientGone = true;
  }

  private readonly onClientClose = () => {
    if (this.done) return;
    this.clientGone = true;
    this.controller?.abort(new Error("client disconnected"));
  };

  private readonly onDrain = () => this.controller?.resume();

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.clientGone) controller.abort(new Error("client disconnected"));
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    // Informational answers (103 Early Hints, an unsolicited 100) precede the real one; the
    // client gets only the final status (RFC 9110 §15.2 lets a proxy drop them).
    if (statusCode < 200) return;
    const { res, record, started } = this.x;
    record.ttfbMs = performance.now() - started;
    record.status = statusCode;
    const contentType = headers["content-type"];
    const type = Array.isArray(contentType) ? contentType[0] : contentType;
    record.stream = type !== undefined && type.startsWith("text/event-stream");
    const encoding = headers["content-encoding"];
    const firstEncoding = Array.isArray(encoding) ? encoding[0] : encoding;
    this.encoded = firstEncoding !== undefined && firstEncoding.trim().toLowerCase() !== "identity";
    // An upstream's own error answer: its ids and the body's error fields go on the record (§9).
    if (statusCode >= 400) this.errorHead = { requestId: firstValue(headers["request-id"] ?? headers["x-request-id"]), retryAfter: firstValue(headers["retry-after"]) };
    this.tap = createUsageTap(type, firstEncoding, this.errorHead && READ_ERRORS);
    const out = responseHeadersToRelay(headers);
    // The reason phrase is not relayed (clients ignore it; HTTP/2 has none), so an upstream's
    // odd bytes there cannot break the response. Headers Node refuses make it a broken upstream.
    try {
      res.writeHead(statusCode, out);
    } catch (error) {
      controller.abort(Object.assign(new Error("upstream sent response headers that cannot be relayed"), { code: "LLM_RELAY_BAD_RESPONSE_HEADERS", cause: error }));
      return;
    }
    const observer = this.x.observer;
    if (observer) guarded(() => observer.responseStart(record, statusCode, out));
    // Send the headers now: a streaming client learns the status before the first event.
    if (record.stream) res.flushHeaders();
    res.on("drain", this.onDrain);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.tap?.push(chunk);
    const observer = this.x.observer;
    if (observer) guarded(() => observer.responseChunk(this.x.record, chunk));
    if (this.x.record.stream && chunk.length > 0) {
      // A tiny chunk may finish a blank line the previous one began.
      const tail = chunk.length >= 3 ? chunk : Buffer.concat([this.tail, chunk]);
      this.atEventBoundary = endsWithBlankLine(tail);
      this.tail = tail.subarray(-3);
    }
    if (!this.x.res.write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    this.x.res.end();
    this.finish();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error & { code?: string }): void {
    const { res, record, provider, req } = this.x;
    // Cut at the shutdown deadline: the relay ended it, neither the client nor the upstream.
    const shutdown = this.x.shutdown.reason;
    if (this.clientGone || res.destroyed) {
      record.error = shutdown ?? "client disconnected; upstream request aborted";
      if (record.status === 0) record.status = shutdown ? 503 : 499;
      this.finish();
      return;
    }
    const failure: Failure = shutdown
      ? { status: 503, code: "shutting_down", message: shutdown }
      : describeUpstreamFailure(error, provider.origin);
    failure.message = redact(failure.message, this.x.secrets);
    record.error = failure.message;
    const shape = apiShapeFor(provider.kind, this.x.path);
    if (!res.headersSent) {
      const body = errorBody(shape, failure.status, failure.code, failure.message);
      record.status = failure.status;
      // A refused writeHead may have left its headers staged; start clean.
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      const unread = !req.complete;
      res.writeHead(failure.status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        ...(unread ? { connection: "close" } : {}),
      });
      // Over the limit mid-upload: drain (bounded) so the client reads the 413, not a reset (§8).
      if (failure.status === 413 && unread) {
        res.write(body);
        endAfterDrain(req, res);
      } else {
        res.end(body);
      }
    } else if (record.stream && !this.encoded && this.atEventBoundary) {
      res.end(errorEvent(shape, failure.code, failure.message));
    } else {
      // A JSON body cut short, a compressed stream, or an SSE event cut mid-line cannot be
      // repaired (an event appended there would be garbled into the broken one); closing the
      // connection tells the client the response is incomplete.
      res.destroy();
    }
    this.finish();
  }

  private finish() {
    if (this.done) return;
    this.done = true;
    const { record, res, started } = this.x;
    res.off("drain", this.onDrain);
    record.durationMs = performance.now() - started;
    const usage = this.tap?.end();
    if (usage) record.usage = usage;
    if (this.errorHead) {
      const upstreamError = upstreamErrorRecord(this.tap?.error(), this.errorHead, this.x.secrets);
      if (upstreamError) record.upstreamError = upstreamError;
    }
    this.x.onDone(record);
  }
}

/**
 * Whether a chunk ends with a blank line, the end of an SSE event (WHATWG HTML §9.2.6: lines end
 * in CRLF, LF or CR), judged from the last three bytes relayed.
 */
function endsWithBlankLine(chunk: Buffer): boolean {
  const n = chunk.length;
  const last = chunk[n - 1];
  if (last === LF) return n >= 2 && (chunk[n - 2] === LF || (chunk[n - 2] === CR && n >= 3 && (chunk[n - 3] === LF || chunk[n - 3] === CR)));
  if (last === CR) return n >= 2 && (chunk[n - 2] === CR || chunk[n - 2] === LF);
  return false;
}
const LF = 0x0a;
const CR = 0x0d;
const READ_ERRORS = { errors: true };

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function forwardExchange(x: Exchange): void {
  // A body stream that fails (client gone, over the limit) fails the dispatch: onResponseError.
  const handler = new ExchangeHandler(x);
  x.dispatcher.dispatch(
    {
      origin: x.provider.origin,
      path: x.path,
      method: x.method as Dispatcher.HttpMethod,
      headers: x.headers,
      body: x.body,
      headersTimeout: x.timeouts.headersMs,
      bodyTimeout: x.timeouts.idleMs,
    },
    handler,
  );
}
