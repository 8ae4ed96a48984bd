/**
 * One captured body (DESIGN §11): the first `maxBodyBytes` of the bytes relayed, copied as they
 * pass (the relay's own buffers are never held), then turned into redacted display text once the
 * exchange is over. Compressed bodies are decoded from the copy; the client got the bytes as
 * received. Binary bodies keep no text.
 */
import { brotliDecompressSync, gunzipSync, inflateSync, constants as zlib } from "node:zlib";
import type { CapturedBody } from "./types.js";

export class BodyCapture {
  private chunks: Buffer[] = [];
  /** Bytes kept so far. */
  kept = 0;
  /** Bytes seen in all. */
  seen = 0;
  truncated = false;
  evicted = false;
  /** Arrival of each kept chunk: [ms since the request arrived, end offset in the kept bytes]. */
  readonly arrivals: Array<[t: number, end: number]> = [];

  constructor(
    private readonly maxBodyBytes: number,
    readonly contentType?: string | undefined,
    readonly encoding?: string | undefined,
  ) {}

  /**
   * Copy what fits; returns the bytes newly kept. `owned`: the chunk is a whole body the relay
   * never reuses (a Buffer it read in full), so a reference is kept instead of a copy.
   */
  push(chunk: Buffer, t?: number, owned = false): number {
    this.seen += chunk.length;
    if (this.evicted) return 0;
    const room = this.maxBodyBytes - this.kept;
    if (room <= 0) {
      if (chunk.length > 0) this.truncated = true;
      return 0;
    }
    const take = Math.min(room, chunk.length);
    if (take < chunk.length) this.truncated = true;
    // A copy: the relay's chunk may be a view on a larger socket buffer.
    this.chunks.push(owned && take === chunk.length ? chunk : Buffer.from(chunk.subarray(0, take)));
    this.kept += take;
    if (t !== undefined && this.arrivals.length < MAX_ARRIVALS) this.arrivals.push([t, this.kept]);
    return take;
  }

  /** Drop the kept bytes (to stay within `inspect.maxBytes`); returns the bytes freed. */
  evict(): number {
    const freed = this.kept;
    this.chunks = [];
    this.kept = 0;
    this.evicted = true;
    return freed;
  }

  /** The kept bytes, decoded for display; the copy is released. */
  take(): Buffer | undefined {
    if (this.evicted) return undefined;
    const raw = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.kept);
    this.chunks = [];
    return raw;
  }

  /** The shape the API serves, given the (already redacted) text. */
  describe(text: string | undefined): CapturedBody {
    const body: CapturedBody = { bytes: this.seen, truncated: this.truncated, evicted: this.evicted };
    if (this.contentType !== undefined) body.contentType = this.contentType;
    if (this.encoding !== undefined) body.encoding = this.encoding;
    if (text !== undefined && !this.evicted) body.text = text;
    return body;
  }
}

/** Chunk arrival times kept per body (a stream of tiny chunks must not grow without bound). */
const MAX_ARRIVALS = 100_000;

/** Media types shown as text; anything else is binary and keeps no text. */
export function isTextual(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType === "application/json") return true;
  const type = contentType.split(";")[0]!.trim().toLowerCase();
  return (
    type.startsWith("text/") ||
    type === "application/json" ||
    type.endsWith("+json") ||
    type === "application/x-ndjson" ||
    type === "application/x-www-form-urlencoded" ||
    type.endsWith("/xml") ||
    type.endsWith("+xml") ||
    type === "application/javascript"
  );
}

/**
 * Decode `content-encoding` (RFC 9110 §8.4.1) for display: gzip, deflate and br, one coding.
 * A body cut at `maxBodyBytes` decodes as far as it goes; output stops at `limit` bytes.
 * Undefined when the coding is unknown or the bytes do not decode.
 */
export function decodeForDisplay(raw: Buffer, encoding: string | undefined, limit: number): { bytes: Buffer; cut: boolean } | undefined {
  const coding = encoding?.trim().toLowerCase();
  if (coding === undefined || coding === "" || coding === "identity") return { bytes: raw, cut: false };
  const options = { maxOutputLength: limit, finishFlush: zlib.Z_SYNC_FLUSH };
  const run = (): Buffer => {
    if (coding === "gzip" || coding === "x-gzip") return gunzipSync(raw, options);
    if (coding === "deflate") return inflateSync(raw, options);
    if (coding === "br") return brotliDecompressSync(raw, { maxOutputLength: limit, finishFlush: zlib.BROTLI_OPERATION_FLUSH });
    throw new Error("unsupported coding");
  };
  try {
    return { bytes: run(), cut: false };
  } catch (error) {
    // Larger than the display limit once decoded: show nothing rather than a wrong cut.
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") return { bytes: Buffer.alloc(0), cut: true };
    return undefined;
  }
}

/** One decoder for whole bodies: a call without `stream` starts afresh and leaves nothing behind. */
const WHOLE = new TextDecoder("utf-8", { fatal: true });

/** UTF-8 text, or undefined for bytes that are not (binary). A cut in mid-character is allowed. */
export function textOf(bytes: Buffer, cut: boolean): string | undefined {
  try {
    // `stream` leaves a character cut at the end undecoded instead of failing: a fresh decoder, so nothing stays pending.
    return cut ? new TextDecoder("utf-8", { fatal: true }).decode(bytes, { stream: true }) : WHOLE.decode(bytes);
  } catch {
    return undefined;
  }
}
