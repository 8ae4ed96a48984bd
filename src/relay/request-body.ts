/**
 * Reading the head of a request body without consuming it: the relay looks at the first bytes
 * (for `"model"`, DESIGN §3) and then hands the untouched stream to the HTTP client. Bytes read
 * are pushed back with `unshift`, so what goes upstream is exactly what arrived.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { ModelSniffer } from "../routing/model-sniffer.js";

export interface BodyHead {
  /** What to send upstream: the whole body when it was read whole, else the stream itself. */
  body: Buffer | Readable;
  /** The sniffed model, if found in what was read. */
  model?: string | undefined;
  /** More than `limit` bytes arrived before a verdict: answer 413, send nothing. */
  tooLarge: boolean;
  /** The client went away (or errored) while we were reading. */
  aborted: boolean;
}

export interface HeadOptions {
  /** Keep reading until the sniffer decides (needed to route by model), or stop after the first chunk. */
  untilVerdict: boolean;
  /** Never hold more than this many bytes. */
  limit: number;
}

/** Read chunks until the model sniffer has a verdict (or one chunk, for logging only). */
export function readBodyHead(req: IncomingMessage, options: HeadOptions): Promise<BodyHead> {
  return new Promise((resolve) => {
    const sniffer = new ModelSniffer();
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;

    const finish = (outcome: "verdict" | "end" | "too-large" | "aborted") => {
      if (settled) return;
      settled = true;
      req.off("readable", onReadable);
      req.off("end", onEnd);
      req.off("error", onAbort);
      req.off("close", onClose);
      if (outcome === "end") sniffer.end();
      const model = sniffer.state === "found" ? sniffer.model : undefined;
      if (outcome === "aborted" || outcome === "too-large") {
        resolve({ body: Buffer.alloc(0), model, tooLarge: outcome === "too-large", aborted: outcome === "aborted" });
        return;
      }
      const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes);
      // `complete` is set by the parser before 'end' fires: everything is in `chunks`.
      if (outcome === "end" || (req.complete && req.readableLength === 0)) {
        resolve({ body: head, model, tooLarge: false, aborted: false });
        return;
      }
      // Same tick as the last read(): 'end' cannot have been emitted, so unshift is allowed.
      if (head.length > 0) req.unshift(head);
      resolve({ body: req, model, tooLarge: false, aborted: false });
    };

    function onReadable() {
      let chunk: Buffer | null;
      while ((chunk = req.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        bytes += chunk.length;
        if (bytes > options.limit) return finish("too-large");
        const state = sniffer.push(chunk);
        if (!options.untilVerdict || state !== "searching") return finish("verdict");
      }
    }
    const onEnd = () => finish("end");
    const onAbort = () => finish("aborted");
    const onClose = () => {
      if (!req.complete) finish("aborted");
    };

    req.on("readable", onReadable);
    req.on("end", onEnd);
    req.on("error", onAbort);
    req.on("close", onClose);
  });
}

/** Errors a stream with `BodyTooLargeError` once more than `limit` bytes pass (bodies without Content-Length). */
export class BodyTooLargeError extends Error {
  readonly code = "LLM_RELAY_BODY_TOO_LARGE";
  constructor(limit: number) {
    super(`request body exceeds limits.maxBodyBytes (${limit} bytes)`);
  }
}

export function limitBody(source: Readable, limit: number): Readable {
  let seen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > limit) callback(new BodyTooLargeError(limit));
      else callback(null, chunk);
    },
  });
  source.on("error", (error) => counter.destroy(error));
  return source.pipe(counter);
}

/**
 * How much of a refused body the relay still reads before closing: nginx's lingering close. A
 * client that is still uploading when the answer comes (most do not read before they finish
 * sending) would otherwise meet a reset and lose the 413. Bounded so a client cannot keep a
 * connection busy: past either bound the connection is closed anyway.
 */
export const DRAIN_LIMITS = { bytes: 64 * 1024 * 1024, ms: 5_000, idleMs: 1_000 } as const;

/**
 * End a response whose head and body are already written once the request body has been read
 * and discarded (or a bound in `DRAIN_LIMITS` passed: bytes, total time, or time without data, like
 * nginx's lingering_time and lingering_timeout; or the client went away). The response
 * carries `connection: close`, so Node closes the connection after `end`, now with nothing
 * unread that would turn the close into a reset.
 */
export function endAfterDrain(
  req: IncomingMessage,
  res: ServerResponse,
  limits: { bytes: number; ms: number; idleMs: number } = DRAIN_LIMITS,
): void {
  if (req.complete || req.destroyed) {
    res.end();
    return;
  }
  let seen = 0;
  let settled = false;
  const finish = () => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    clearTimeout(idle);
    req.off("data", onData);
    req.off("end", finish);
    req.off("close", finish);
    req.off("error", finish);
    res.end();
  };
  const onData = (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > limits.bytes) finish();
    else idle.refresh();
  };
  const timer = setTimeout(finish, limits.ms);
  const idle = setTimeout(finish, limits.idleMs);
  timer.unref();
  idle.unref();
  req.on("data", onData);
  req.once("end", finish);
  req.once("close", finish);
  req.once("error", finish);
  req.resume();
}

/** The same bytes, with `onChunk` told of each one as it passes (for the inspector's capture). */
export function observeBody(source: Readable, onChunk: (chunk: Buffer) => void): Readable {
  const tap = new Transform({
    transform(chunk: Buffer, _enc, callback: TransformCallback) {
      onChunk(chunk);
      callback(null, chunk);
    },
  });
  source.on("error", (error) => tap.destroy(error));
  return source.pipe(tap);
}
