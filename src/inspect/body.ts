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
    // Every field present (absent ones undefined, which JSON leaves out): one shape, kept long.
    return {
      bytes: this.seen,
      contentType: this.contentType,
      text: this.evicted ? undefined : text,
      truncated: this.truncated,
      evicted: this.evicted,
      encoding: this.encoding,
      withheld: undefined,
    };
  }
}

/**
 * Bytes kept for a long time (bodies of ended requests), packed into slabs outside the JS heap: a
 * body costs the collector one small object, never a copy of its bytes. Each slab counts the bytes
 * of the bodies alive in it; one whose bodies are all released is used again (memory touched for
 * the first time costs a page fault per 4 KiB, and a fault in a virtual machine costs more than
 * the copy). A body larger than a quarter of a slab (at most 16 KiB) gets a buffer of its own.
 *
 * A slab lives while any body in it does: `waste` counts what slabs hold for no body (the dead
 * part of slabs still in use), so the store can bound it with the bodies.
 */
export class BodyBytes {
  private slab: Buffer | undefined;
  private used = 0;
  /** Bytes of bodies alive per slab (by its memory). */
  private readonly live = new Map<ArrayBufferLike, number>();
  private readonly spare: Buffer[] = [];
  private readonly large: number;
  /** Bytes in slabs that belong to no body alive (the current slab's unused end excepted). */
  waste = 0;

  constructor(readonly slabSize: number) {
    this.large = Math.min(16 * 1024, slabSize >> 2);
  }

  /** A slab for a store of `maxBytes`: a 64th of it, up to 1 MiB; none below 1 MiB (each body then has its own buffer). */
  static slabSizeFor(maxBytes: number): number {
    if (maxBytes < 1024 * 1024) return 0;
    return Math.min(1024 * 1024, Math.floor(maxBytes / 64 / 4096) * 4096);
  }

  /** A copy of `bytes` to keep; give it back with `release` when it is dropped (it must not be read after). */
  keep(bytes: Buffer): KeptBytes {
    const n = bytes.length;
    if (n === 0) return NO_BYTES;
    if (n > this.large) {
      if (isStandalone(bytes)) return new KeptBytes(bytes.buffer, 0, n);
      const own = Buffer.allocUnsafeSlow(n);
      own.set(bytes);
      return new KeptBytes(own.buffer, 0, n);
    }
    if (this.slab === undefined || this.used + n > this.slab.length) {
      const full = this.slab;
      if (full !== undefined) {
        const alive = this.live.get(full.buffer)!;
        if (alive === 0) this.retire(full.buffer);
        else this.waste += full.length - alive;
      }
      this.slab = this.spare.pop() ?? Buffer.allocUnsafeSlow(this.slabSize);
      this.used = 0;
      this.live.set(this.slab.buffer, 0);
    }
    const at = this.used;
    this.slab.set(bytes, at);
    this.used += n;
    this.live.set(this.slab.buffer, this.live.get(this.slab.buffer)! + n);
    return new KeptBytes(this.slab.buffer, at, n);
  }

  /** What `keep` returned is no longer kept. */
  release(kept: KeptBytes): void {
    const alive = this.live.get(kept.memory);
    if (alive === undefined) return;
    const left = alive - kept.length;
    if (kept.memory === this.slab?.buffer) {
      this.live.set(kept.memory, left);
    } else if (left === 0) {
      // Its last body: the slab no longer counts as waste.
      this.waste -= this.slabSize - alive;
      this.retire(kept.memory);
    } else {
      this.live.set(kept.memory, left);
      this.waste += kept.length;
    }
  }

  /** The kept bytes, to read now (a view: not to be held). */
  static view(kept: KeptBytes): Buffer {
    return Buffer.from(kept.memory, kept.at, kept.length);
  }

  private retire(memory: ArrayBufferLike): void {
    this.live.delete(memory);
    // Two at most (a 32nd of `maxBytes`), not counted: they are ready for the next bodies.
    if (this.spare.length < 2) this.spare.push(Buffer.from(memory));
  }
}

/** Where `BodyBytes` put a body: three fields, where a Buffer view is an object of ~100 bytes with its own bookkeeping. */
export class KeptBytes {
  constructor(
    readonly memory: ArrayBufferLike,
    readonly at: number,
    readonly length: number,
  ) {}
}

const NO_BYTES = new KeptBytes(new ArrayBuffer(0), 0, 0);

/** Whether a Buffer is the whole of its memory (keeping it pins nothing else). */
export function isStandalone(bytes: Buffer): boolean {
  return bytes.byteOffset === 0 && bytes.length === bytes.buffer.byteLength;
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
