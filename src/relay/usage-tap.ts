/**
 * Usage tap (DESIGN §9): reads token counts from a response body as its bytes stream past,
 * without holding or slowing the stream.
 *
 * The relay hands every relayed chunk to `push`, so the SSE path works on bytes: it finds line
 * ends with `Buffer.indexOf`, keeps only the unfinished line between chunks, and decodes and
 * parses a line only when it is a `data:` line whose bytes hold a non-null `"usage"` key.
 * JSON bodies are small and carry usage at the top level, so they are copied (up to a cap) and
 * parsed once at the end.
 *
 * Formats are told apart by field names, not by an argument:
 * - Anthropic Messages: `usage` (JSON), `message_start.message.usage` then `message_delta.usage` (SSE).
 * - OpenAI chat completions: `usage` (JSON, and the final SSE chunk when `stream_options.include_usage`).
 * - OpenAI Responses: `usage` (JSON), `response.completed` → `response.usage` (SSE).
 *
 * Each `data:` line is read on its own rather than joined with the other data lines of its event
 * (as the SSE spec would): every vendor above sends an event as one line, and joining would mean
 * buffering every content event. A usage object spread over several data lines is not counted.
 *
 * Counts are reported as each vendor defines them: OpenAI's input count includes the cached
 * tokens, Anthropic's does not.
 *
 * @example
 * const tap = createUsageTap(res.headers["content-type"], res.headers["content-encoding"]);
 * upstream.on("data", (chunk) => tap?.push(chunk));
 * upstream.on("end", () => log({ usage: tap?.end() }));
 */

import { readUpstreamError, type UpstreamErrorBody } from "./upstream-error.js";

/** Token counts read from a response; absent fields were not reported. */
export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheCreationTokens?: number;
}

export interface UsageTap {
  /** Observe one chunk of the response body exactly as relayed. Never throws, never keeps a reference to `chunk` beyond what it must copy. */
  push(chunk: Uint8Array): void;
  /** Called once at the end of the body; returns what was found (undefined if nothing). Never throws. */
  end(): Usage | undefined;
  /** After `end`, for a tap created with `errors`: the error fields of a JSON body (undefined if none). */
  error(): UpstreamErrorBody | undefined;
}

/** An SSE line longer than this is content (a huge delta), never usage: it is skipped, not buffered. */
export const MAX_SSE_LINE_BYTES = 1024 * 1024;

/** A JSON body longer than this is not parsed: holding it costs more than its usage is worth. */
export const MAX_JSON_BODY_BYTES = 8 * 1024 * 1024;

/**
 * A tap for this response, or undefined when the content type carries no usage (not JSON, not SSE).
 * content-encoding other than identity → undefined (we never decompress).
 */
export function createUsageTap(
  contentType: string | undefined,
  contentEncoding?: string | undefined,
  { errors = false }: { errors?: boolean } = {},
): UsageTap | undefined {
  if (contentType === undefined || !isIdentityEncoding(contentEncoding)) return undefined;
  const mediaType = mediaTypeOf(contentType);
  if (mediaType === "text/event-stream") return neverThrowing(new SseUsageReader());
  // `errors` (a 4xx/5xx answer): the same bounded copy also yields the body's error fields.
  if (isJsonMediaType(mediaType)) return neverThrowing(new JsonUsageReader(errors));
  return undefined;
}

// RFC 9110 §8.3.1: the media type is the part before parameters; type and subtype are case-insensitive.
function mediaTypeOf(contentType: string): string {
  const semicolon = contentType.indexOf(";");
  return (semicolon === -1 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
}

// RFC 6839 §3.1: `+json` suffixed types are JSON too (e.g. problem+json error bodies).
function isJsonMediaType(mediaType: string): boolean {
  return mediaType === "application/json" || (mediaType.startsWith("application/") && mediaType.endsWith("+json"));
}

// RFC 9110 §8.4: the header lists codings in the order applied; only a list of "identity" means plain bytes.
function isIdentityEncoding(contentEncoding: string | undefined): boolean {
  if (contentEncoding === undefined) return true;
  for (const coding of contentEncoding.split(",")) {
    const name = coding.trim().toLowerCase();
    if (name !== "" && name !== "identity") return false;
  }
  return true;
}

interface UsageReader {
  push(chunk: Uint8Array): void;
  end(): Usage | undefined;
  readonly upstreamError?: UpstreamErrorBody | undefined;
}

/** The relay must not fail a response because of accounting: a reader that throws is abandoned. */
function neverThrowing(reader: UsageReader): UsageTap {
  let failed = false;
  return {
    push(chunk) {
      if (failed) return;
      try {
        reader.push(chunk);
      } catch {
        failed = true;
      }
    },
    end() {
      if (failed) return undefined;
      try {
        return reader.end();
      } catch {
        return undefined;
      } finally {
        failed = true;
      }
    },
    error: () => reader.upstreamError,
  };
}

const LF = 0x0a;
const CR = 0x0d;
const EMPTY = Buffer.alloc(0);
const DATA_FIELD = Buffer.from("data:");
/** With its quotes, so the word "usage" inside text (where quotes are escaped) does not match. */
const USAGE_KEY = Buffer.from('"usage"');

/** A zero-copy Buffer view, so `indexOf`/`toString` ranges work on any Uint8Array. */
function bufferView(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** Copy-on-append byte store that grows by doubling; `limit` bounds what a hostile body can make us hold. */
class ByteCarry {
  bytes: Buffer = EMPTY;
  length = 0;

  constructor(private readonly initialCapacity: number) {}

  /** Appends `source[start, end)`; false (and nothing kept) when that would exceed `limit`. */
  append(source: Uint8Array, start: number, end: number, limit: number): boolean {
    const needed = this.length + (end - start);
    if (needed > limit) {
      this.release();
      return false;
    }
    if (needed > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.min(limit, Math.max(needed, this.bytes.length * 2, this.initialCapacity)));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    this.bytes.set(source.subarray(start, end), this.length);
    this.length = needed;
    return true;
  }

  view(): Buffer {
    return this.bytes.subarray(0, this.length);
  }

  release(): void {
    this.bytes = EMPTY;
    this.length = 0;
  }
}

/** Reads `text/event-stream` line by line (WHATWG HTML §9.2.6), parsing only `data:` lines that hold usage. */
class SseUsageReader implements UsageReader {
  private readonly usage: Usage = {};
  /** The current line's bytes seen in earlier chunks (copied: the relay may reuse its buffers). */
  private readonly partialLine = new ByteCarry(4096);
  /** The current line began in an earlier chunk (its bytes are in `partialLine` unless too long). */
  private lineContinues = false;
  /** The current line passed MAX_SSE_LINE_BYTES: drop bytes until its end. */
  private skippingLongLine = false;
  /** The previous chunk ended with CR; a LF starting this chunk belongs to the same line end. */
  private pendingCr = false;

  push(chunk: Uint8Array): void {
    const bytes = bufferView(chunk);
    const length = bytes.length;
    if (length === 0) return;
    let lineStart = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      if (bytes[0] === LF) lineStart = 1;
    }
    // Next `"usage"` key at or after lineStart; -1 means none in the rest of this chunk. It only
    // moves forward, so the chunk is searched once however many lines it holds.
    let nextKeyAt = bytes.indexOf(USAGE_KEY, lineStart);

    while (lineStart < length) {
      if (nextKeyAt === -1 && !this.lineContinues) {
        // No usage in the rest of this chunk: its complete lines need no look, only the tail does.
        lineStart = this.afterLastLineEnd(bytes, lineStart);
        break;
      }
      const lineEnd = nextLineEnd(bytes, lineStart);
      if (lineEnd === -1) break;

      if (this.lineContinues) {
        this.finishContinuedLine(bytes, lineStart, lineEnd);
      } else if (lineEnd - lineStart <= MAX_SSE_LINE_BYTES && isDataLine(bytes, lineStart, lineEnd)) {
        nextKeyAt = skipNullUsageKeys(bytes, nextKeyAt, lineEnd);
        if (nextKeyAt !== -1 && nextKeyAt < lineEnd) this.readDataLine(bytes, lineStart, lineEnd);
      }

      lineStart = lineEnd + 1;
      if (bytes[lineEnd] === CR) {
        if (lineStart === length) this.pendingCr = true;
        else if (bytes[lineStart] === LF) lineStart += 1;
      }
      if (nextKeyAt !== -1 && nextKeyAt < lineStart) nextKeyAt = bytes.indexOf(USAGE_KEY, lineStart);
    }

    if (lineStart < length) this.keepPartialLine(bytes, lineStart, length);
  }

  end(): Usage | undefined {
    // An unterminated last line is read anyway: the body is over, so the line is as complete as it
    // will get, and a truncated JSON object simply fails to parse.
    if (this.lineContinues && !this.skippingLongLine) {
      this.readCarriedLine();
    }
    this.partialLine.release();
    return hasAnyCount(this.usage) ? { ...this.usage } : undefined;
  }

  /** Position after the last line end in `bytes[from..]` (or `from` if there is none), noting a trailing CR. */
  private afterLastLineEnd(bytes: Buffer, from: number): number {
    const lastEnd = Math.max(bytes.lastIndexOf(LF), bytes.lastIndexOf(CR));
    if (lastEnd < from) return from;
    if (lastEnd === bytes.length - 1 && bytes[lastEnd] === CR) this.pendingCr = true;
    return lastEnd + 1;
  }

  private keepPartialLine(bytes: Buffer, start: number, end: number): void {
    this.lineContinues = true;
    if (this.skippingLongLine) return;
    if (!this.partialLine.append(bytes, start, end, MAX_SSE_LINE_BYTES)) this.skippingLongLine = true;
  }

  private finishContinuedLine(bytes: Buffer, start: number, end: number): void {
    if (!this.skippingLongLine && this.partialLine.append(bytes, start, end, MAX_SSE_LINE_BYTES)) {
      this.readCarriedLine();
    }
    this.partialLine.length = 0;
    this.lineContinues = false;
    this.skippingLongLine = false;
  }

  /** Reads the line assembled in `partialLine`, searched whole: a key may straddle the chunk boundary. */
  private readCarriedLine(): void {
    const line = this.partialLine.view();
    if (isDataLine(line, 0, line.length) && skipNullUsageKeys(line, line.indexOf(USAGE_KEY), line.length) !== -1) {
      this.readDataLine(line, 0, line.length);
    }
  }

  private readDataLine(bytes: Buffer, start: number, end: number): void {
    // JSON.parse skips the optional space after "data:" itself.
    const record = asRecord(parseJson(bytes.toString("utf8", start + DATA_FIELD.length, end)));
    if (record === undefined) return;
    // Each event is a full snapshot of the fields it carries, so later values win per field
    // (message_delta's output_tokens is the final cumulative count).
    mergeUsage(this.usage, record.usage);
    mergeUsage(this.usage, asRecord(record.message)?.usage);
    mergeUsage(this.usage, asRecord(record.response)?.usage);
  }
}

/**
 * Index of the first LF or CR at or after `from`, or -1. Two byte searches rather than a byte
 * loop: SSE from these vendors ends lines with LF, so the CR search is one fast scan per line.
 */
function nextLineEnd(bytes: Buffer, from: number): number {
  const lf = bytes.indexOf(LF, from);
  const cr = bytes.indexOf(CR, from);
  if (lf === -1) return cr;
  if (cr === -1) return lf;
  return Math.min(lf, cr);
}

// The field name is case-sensitive and must start the line (WHATWG HTML §9.2.6).
function isDataLine(bytes: Buffer, start: number, end: number): boolean {
  if (end - start <= DATA_FIELD.length) return false;
  for (let i = 0; i < DATA_FIELD.length; i += 1) {
    if (bytes[start + i] !== DATA_FIELD[i]) return false;
  }
  return true;
}

/**
 * Moves past `"usage": null` keys that start before `end`, from the key at `keyAt` (or -1). Returns
 * the first key that may hold counts: before `end` it is on this line, otherwise it is the next
 * line's (or -1). OpenAI sends `"usage":null` in every chat chunk and early Responses event;
 * skipping those keeps JSON.parse off the hot path.
 */
function skipNullUsageKeys(bytes: Buffer, keyAt: number, end: number): number {
  let at = keyAt;
  while (at !== -1 && at < end && isNullValueAfter(bytes, at + USAGE_KEY.length, end)) {
    at = bytes.indexOf(USAGE_KEY, at + USAGE_KEY.length);
  }
  return at;
}

/** True only for `: null` after a key; anything else (including a value-position "usage") may be usage, so it is parsed. */
function isNullValueAfter(bytes: Buffer, from: number, end: number): boolean {
  let at = skipJsonSpace(bytes, from, end);
  if (at >= end || bytes[at] !== 0x3a /* : */) return false;
  at = skipJsonSpace(bytes, at + 1, end);
  return at < end && bytes[at] === 0x6e; /* n: the only JSON value starting with "n" is null */
}

function skipJsonSpace(bytes: Buffer, from: number, end: number): number {
  let at = from;
  while (at < end && (bytes[at] === 0x20 || bytes[at] === 0x09)) at += 1;
  return at;
}

/** Copies a whole JSON body (up to MAX_JSON_BODY_BYTES) and reads its usage once, at the end. */
class JsonUsageReader implements UsageReader {
  private readonly body = new ByteCarry(16 * 1024);
  private tooLarge = false;
  upstreamError: UpstreamErrorBody | undefined;

  constructor(private readonly readErrors: boolean) {}

  push(chunk: Uint8Array): void {
    if (this.tooLarge) return;
    if (!this.body.append(chunk, 0, chunk.byteLength, MAX_JSON_BODY_BYTES)) this.tooLarge = true;
  }

  end(): Usage | undefined {
    const body = this.body.view();
    this.body.release();
    if (this.tooLarge || (!this.readErrors && body.indexOf(USAGE_KEY) === -1)) return undefined;
    const record = asRecord(parseJson(body.toString("utf8")));
    if (record === undefined) return undefined;
    if (this.readErrors) this.upstreamError = readUpstreamError(record);
    const usage: Usage = {};
    mergeUsage(usage, record.usage);
    return hasAnyCount(usage) ? usage : undefined;
  }
}

function parseJson(text: string): unknown {
  try {
    // A UTF-8 BOM is legal before JSON on the wire (RFC 8259 §8.1 lets parsers ignore it); JSON.parse rejects it.
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return undefined;
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Copies the counts a vendor usage object reports into `target`; Anthropic names win over OpenAI names. */
function mergeUsage(target: Usage, value: unknown): void {
  const usage = asRecord(value);
  if (usage === undefined) return;
  const input = tokenCount(usage.input_tokens) ?? tokenCount(usage.prompt_tokens);
  const output = tokenCount(usage.output_tokens) ?? tokenCount(usage.completion_tokens);
  const cacheRead =
    tokenCount(usage.cache_read_input_tokens) ??
    tokenCount(asRecord(usage.input_tokens_details)?.cached_tokens) ??
    tokenCount(asRecord(usage.prompt_tokens_details)?.cached_tokens);
  const cacheCreation = tokenCount(usage.cache_creation_input_tokens);
  if (input !== undefined) target.inputTokens = input;
  if (output !== undefined) target.outputTokens = output;
  if (cacheRead !== undefined) target.cacheReadTokens = cacheRead;
  if (cacheCreation !== undefined) target.cacheCreationTokens = cacheCreation;
}

function tokenCount(value: unknown): number | undefined {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function hasAnyCount(usage: Usage): boolean {
  return (
    usage.inputTokens !== undefined ||
    usage.outputTokens !== undefined ||
    usage.cacheReadTokens !== undefined ||
    usage.cacheCreationTokens !== undefined
  );
}
