/**
 * Reading the head of a request body without consuming it: the relay looks at the first bytes
 * (for `"model"`, DESIGN §3) and then hands the stream to the HTTP client. Bytes read are pushed
 * back with `unshift`, so what goes upstream is exactly what arrived — or, when the plan rewrites
 * the model (§10), the same bytes with only that string token spliced. A route's `when` needs
 * the whole body (§10): then it is read whole, up to `limits.maxBodyBytes`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { ModelSniffer, type ByteSpan } from "../routing/model-sniffer.js";

export interface BodyHead {
  /** The bytes read (the whole body when `complete`). */
  head: Buffer;
  /** Everything arrived: `head` is the body. Else the rest is still in the request stream (see {@link replayBody}). */
  complete: boolean;
  /** The sniffed model, if found in what was read. */
  model?: string | undefined;
  /** Where its string token sits in the body (always inside `head`). */
  span?: ByteSpan | undefined;
  /** More than `limit` bytes arrived before a verdict: answer 413, send nothing. */
  tooLarge: boolean;
  /** The client went away (or errored) while we were reading. */
  aborted: boolean;
}

/**
 * How much of the body to read before routing: one chunk (logging only), until the sniffer has
 * a verdict on "model" (routes or a provider's `models` need it), or all of it (a route's `when`).
 */
export type BodyReading = "first-chunk" | "until-model" | "whole";

export interface HeadOptions {
  read: BodyReading;
  /** Never hold more than this many bytes. */
  limit: number;
  /** The request's `Content-Length`, when it sent one: once that many bytes are read, the body is whole. */
  length?: number | undefined;
}

/** Read the body's first chunks (or all of it), sniffing "model" as they pass. */
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
      const found = sniffer.state === "found";
      const model = found ? sniffer.model : undefined;
      const span = found ? sniffer.span : undefined;
      if (outcome === "aborted" || outcome === "too-large") {
        resolve({ head: Buffer.alloc(0), complete: false, model, tooLarge: outcome === "too-large", aborted: outcome === "aborted" });
        return;
      }
      const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, bytes);
      // `complete` is set by the parser before 'end' fires: everything is in `chunks`. A body
      // read to its Content-Length is whole too, though the parser may not have said so yet
      // (its last bytes can be read before the message-complete callback runs).
      const complete = outcome === "end" || (req.complete && req.readableLength === 0) || (options.length !== undefined && bytes === options.length);
      resolve({ head, complete, model, span, tooLarge: false, aborted: false });
    };

    function onReadable() {
      let chunk: Buffer | null;
      while ((chunk = req.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        bytes += chunk.length;
        if (bytes > options.limit) return finish("too-large");
        const state = sniffer.push(chunk);
        if (options.read === "first-chunk" || (options.read === "until-model" && state !== "searching")) return finish("verdict");
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

/**
 * The stream to send upstream after an incomplete read: `head` (as read, or with the model
 * spliced) pushed back in front of what is still unread. Nothing reads `req` between the read
 * and this call, so it cannot have emitted 'end' and `unshift` is allowed.
 */
export function replayBody(req: IncomingMessage, head: Buffer): Readable {
  if (head.length > 0) req.unshift(head);
  return req;
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
