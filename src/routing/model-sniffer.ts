/**
 * Model sniffer (DESIGN §3): finds the top-level `"model"` string of a JSON request body as its
 * chunks arrive, without buffering, parsing or changing them.
 *
 * Routing by model must not hold a whole 20 MiB body when `"model"` comes first, so the relay feeds
 * chunks here until a verdict and then replays the chunks it held, byte for byte. The logger uses
 * the same sniffer passively on a body it is already streaming.
 *
 * It is a byte-level state machine, not a JSON parser. It follows the grammar of the top-level
 * object only as far as it must to know which strings are depth-1 keys; nested values are skipped
 * by counting brackets, and strings it does not need by searching for their closing quote. Only
 * depth-1 keys and the model value are decoded. What that means for edge cases:
 *
 * - The first depth-1 `model` key decides, even if a duplicate follows (JSON.parse would keep the
 *   last one). The route is chosen as soon as the value closes; waiting for a possible duplicate
 *   would mean holding the whole body, which is exactly what this module exists to avoid.
 * - Keys are compared after decoding, so `"mod\u0065l"` is `model`, as it is to any JSON parser.
 * - A model value longer than {@link MAX_MODEL_LENGTH} UTF-16 code units (JS string length) is not
 *   a model name; it is reported "absent", which also bounds what we keep in memory.
 * - Malformed JSON is "absent" when the sniffer notices it: at depth 1, inside the key and model
 *   strings (bad escapes, raw control characters, invalid UTF-8) and before the top-level object.
 *   Nested values and skipped strings are not validated, and nothing after the model value is
 *   read: the upstream rejects a broken body anyway, the sniffer only has to not misread one.
 *
 * Once found, {@link ModelSniffer.span} says where the value's string token sits in the body's
 * byte stream (quotes included, offsets counted across chunks), so a provider's `models` map can
 * splice in another name and replay every other byte untouched (DESIGN §10).
 */

export type SniffState = "searching" | "found" | "absent";

/** Byte offsets in the whole body: `start` is the opening quote, `end` is just past the closing one. */
export interface ByteSpan {
  start: number;
  end: number;
}

/** Longest model value accepted, in UTF-16 code units; real model ids are well under 100. */
export const MAX_MODEL_LENGTH = 256;

const MODEL_KEY = "model";

// Bytes (RFC 8259 §2 structural characters and whitespace, §7 string escapes).
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;
/** RFC 8259 §8.1 forbids adding a BOM but lets parsers ignore one; some clients send it. */
const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

// Where the scanner is. Plain numbers rather than strings: compared once per byte on the hot path.
const AT_START = 0; // nothing read yet: a BOM may start here
const IN_BOM = 1;
const BEFORE_OBJECT = 2;
const BEFORE_FIRST_KEY = 3; // just after the top-level `{`: a key or `}`
const BEFORE_KEY = 4; // after a depth-1 `,`: a key is required
const IN_KEY = 5; // decoding a depth-1 key that may still turn out to be "model"
const BEFORE_COLON = 6;
const BEFORE_VALUE = 7;
const BEFORE_MODEL_VALUE = 8;
const IN_MODEL_VALUE = 9;
const IN_SCALAR = 10; // a depth-1 number, true, false or null
const AFTER_VALUE = 11;
const IN_NESTED = 12; // inside a depth-1 value that is an object or array
const IN_SKIPPED_STRING = 13; // a string we only need the end of
const DONE = 14;

type Mode = number;

/** Bytes of a skipped string read one by one before handing the rest to native `indexOf`. */
const BYTE_LOOP_PROBE = 64;

// Escape progress inside a decoded string: none, just after `\`, or how many `\u` hex digits read.
const NO_ESCAPE = 0;
const AFTER_BACKSLASH = 1;
const UNICODE_ESCAPE_START = 2; // + number of hex digits read so far (0..3)

/** `{"model":` as bytes: the fast path's prefix. */
const LEADING_MODEL_KEY = new TextEncoder().encode('{"model":');

/** Finds the top-level `"model"` string of a JSON body fed in chunks; see the module comment. */
export class ModelSniffer {
  #state: SniffState = "searching";
  #model: string | undefined = undefined;
  #span: ByteSpan | undefined = undefined;
  /** Bytes pushed before the current chunk. */
  #consumed = 0;
  /** Offset in the body of the byte being read (kept only where a span edge can be). */
  #at = 0;
  #valueStart = 0;
  #mode: Mode = AT_START;
  #bomBytesMatched = 0;

  /** Where to go when the string being skipped ends. */
  #afterSkippedString: Mode = AFTER_VALUE;
  /** A skipped string's chunk ended on an odd run of backslashes: the next byte is escaped. */
  #skippedEscapePending = false;
  /** Open objects/arrays inside the current depth-1 value. */
  #nestedDepth = 0;

  #keyIsModel = false;
  #keyMatchedLength = 0;
  #keyStillMatches = false;

  /** Decoded UTF-16 code units of the model value; allocated once a `model` key is seen. */
  #valueUnits: Uint16Array | undefined = undefined;
  #valueLength = 0;

  #escapeStage = NO_ESCAPE;
  #unicodeEscapeValue = 0;
  #utf8Remaining = 0;
  #utf8CodePoint = 0;
  #utf8Minimum = 0;

  get state(): SniffState {
    return this.#state;
  }

  /** The model string once state is "found". */
  get model(): string | undefined {
    return this.#model;
  }

  /** Where the model value's string token (quotes included) sits in the body, once "found". */
  get span(): ByteSpan | undefined {
    return this.#span;
  }

  /**
   * Feed the next chunk; returns the state after it. Once "found" or "absent", further pushes are
   * no-ops returning the same state. Never throws, never mutates or retains `chunk`.
   *
   * @example
   * const sniffer = new ModelSniffer();
   * sniffer.push(new TextEncoder().encode('{"model":"claude-3-5-haiku-20241022","messages":['));
   * // → "found"; sniffer.model === "claude-3-5-haiku-20241022"
   */
  push(chunk: Uint8Array): SniffState {
    if (this.#state !== "searching") return this.#state;
    try {
      if (this.#mode === AT_START && this.#bomBytesMatched === 0 && this.#leadingModel(chunk)) return this.#state;
      this.#scan(chunk);
    } catch {
      // Unreachable by design; a sniffer bug must cost a routing hint, never a relayed request.
      this.#finish("absent");
    }
    this.#consumed += chunk.length;
    return this.#state;
  }

  /**
   * The shape every SDK sends, `{"model":"claude-…",` (or `{"model": "…"` from Python), decided
   * without the state machine. Only plain printable ASCII qualifies, where the bytes are the
   * string; anything else (escapes, UTF-8, a long value) is left to the full scan.
   */
  #leadingModel(chunk: Uint8Array): boolean {
    const prefix = LEADING_MODEL_KEY;
    if (chunk.length < prefix.length + 2) return false;
    for (let i = 0; i < prefix.length; i++) if (chunk[i] !== prefix[i]) return false;
    let i = prefix.length;
    if (chunk[i] === 0x20) i++;
    if (chunk[i] !== 0x22) return false;
    const start = ++i;
    const limit = Math.min(chunk.length, start + MAX_MODEL_LENGTH + 1);
    for (; i < limit; i++) {
      const byte = chunk[i]!;
      if (byte === 0x22) {
        this.#valueStart = start - 1;
        this.#at = i;
        this.#finish("found", Buffer.from(chunk.buffer, chunk.byteOffset + start, i - start).toString("latin1"));
        return true;
      }
      if (byte < 0x20 || byte > 0x7e || byte === 0x5c) return false;
    }
    return false;
  }

  /** Call at end of body: a still-"searching" sniffer becomes "absent". */
  end(): SniffState {
    if (this.#state === "searching") this.#finish("absent");
    return this.#state;
  }

  #finish(state: "found" | "absent", model?: string): void {
    this.#state = state;
    this.#model = model;
    // Found always happens on the closing quote's byte (#at).
    if (state === "found") this.#span = { start: this.#valueStart, end: this.#at + 1 };
    this.#mode = DONE;
    this.#valueUnits = undefined;
  }

  #scan(chunk: Uint8Array): void {
    const length = chunk.length;
    let i = 0;
    while (i < length && this.#mode !== DONE) {
      switch (this.#mode) {
        case IN_SKIPPED_STRING: {
          const end = this.#findStringEnd(chunk, i);
          if (end < 0) return;
          this.#mode = this.#afterSkippedString;
          i = end;
          break;
        }
        case IN_NESTED:
          i = this.#scanNested(chunk, i);
          break;
        case IN_KEY:
        case IN_MODEL_VALUE:
          this.#at = this.#consumed + i;
          this.#decodeStringByte(chunk[i]!);
          i++;
          break;
        default:
          this.#at = this.#consumed + i;
          this.#readStructuralByte(chunk[i]!);
          i++;
      }
    }
  }

  /**
   * Index just past the closing quote of the string being skipped, or -1 if this chunk ends first.
   *
   * A byte loop first: real strings are often short or dense with escaped quotes (code in tool
   * results), where it beats the fixed cost of a native `indexOf` call. Past that, `indexOf` runs
   * at memchr speed over long text and base64; a quote it finds is escaped iff an odd run of
   * backslashes precedes it, counted back only to where no escape was pending, so no byte is read
   * more than twice.
   */
  #findStringEnd(chunk: Uint8Array, from: number): number {
    const length = chunk.length;
    let i = from;
    if (this.#skippedEscapePending) {
      if (i >= length) return -1;
      this.#skippedEscapePending = false;
      i++;
    }
    for (;;) {
      const probeEnd = Math.min(length, i + BYTE_LOOP_PROBE);
      while (i < probeEnd) {
        const byte = chunk[i]!;
        if (byte === QUOTE) return i + 1;
        i += byte === BACKSLASH ? 2 : 1;
      }
      if (i >= length) {
        this.#skippedEscapePending = i > length; // the chunk ended on a backslash
        return -1;
      }
      const quote = chunk.indexOf(QUOTE, i);
      const runEnd = quote < 0 ? length : quote;
      let runStart = runEnd;
      while (runStart > i && chunk[runStart - 1] === BACKSLASH) runStart--;
      const escaped = ((runEnd - runStart) & 1) === 1;
      if (quote < 0) {
        this.#skippedEscapePending = escaped;
        return -1;
      }
      if (!escaped) return quote + 1;
      i = quote + 1;
    }
  }

  /** Skips a nested object/array by counting brackets; strings are skipped so their brackets don't count. */
  #scanNested(chunk: Uint8Array, from: number): number {
    const length = chunk.length;
    let depth = this.#nestedDepth;
    let i = from;
    while (i < length) {
      const byte = chunk[i++]!;
      if (byte === QUOTE) {
        const end = this.#findStringEnd(chunk, i);
        if (end < 0) {
          this.#nestedDepth = depth;
          this.#afterSkippedString = IN_NESTED;
          this.#mode = IN_SKIPPED_STRING;
          return length;
        }
        i = end;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        depth++;
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        if (--depth === 0) {
          this.#mode = AFTER_VALUE;
          break;
        }
      }
    }
    this.#nestedDepth = depth;
    return i;
  }

  #readStructuralByte(byte: number): void {
    switch (this.#mode) {
      case AT_START:
        if (byte === UTF8_BOM[0]) {
          this.#mode = IN_BOM;
          this.#bomBytesMatched = 1;
        } else {
          this.#mode = BEFORE_OBJECT;
          this.#readStructuralByte(byte);
        }
        return;
      case IN_BOM:
        if (byte !== UTF8_BOM[this.#bomBytesMatched]) return this.#finish("absent");
        if (++this.#bomBytesMatched === UTF8_BOM.length) this.#mode = BEFORE_OBJECT;
        return;
      case BEFORE_OBJECT:
        if (isWhitespace(byte)) return;
        // An array, string or scalar body has no top-level "model".
        if (byte !== OPEN_BRACE) return this.#finish("absent");
        this.#mode = BEFORE_FIRST_KEY;
        return;
      case BEFORE_FIRST_KEY:
      case BEFORE_KEY:
        if (isWhitespace(byte)) return;
        if (byte === QUOTE) return this.#beginKey();
        // `}` here is either an empty object or a trailing comma: no model either way.
        return this.#finish("absent");
      case BEFORE_COLON:
        if (isWhitespace(byte)) return;
        if (byte !== COLON) return this.#finish("absent");
        this.#mode = this.#keyIsModel ? BEFORE_MODEL_VALUE : BEFORE_VALUE;
        return;
      case BEFORE_VALUE:
        if (isWhitespace(byte)) return;
        if (byte === QUOTE) {
          this.#afterSkippedString = AFTER_VALUE;
          this.#skippedEscapePending = false;
          this.#mode = IN_SKIPPED_STRING;
        } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
          this.#nestedDepth = 1;
          this.#mode = IN_NESTED;
        } else if (isScalarByte(byte)) {
          this.#mode = IN_SCALAR;
        } else {
          this.#finish("absent");
        }
        return;
      case BEFORE_MODEL_VALUE:
        if (isWhitespace(byte)) return;
        // First model key wins (module comment), so a non-string one settles it as absent.
        if (byte !== QUOTE) return this.#finish("absent");
        return this.#beginModelValue();
      case IN_SCALAR:
        if (isScalarByte(byte)) return;
        this.#mode = AFTER_VALUE;
        return this.#readStructuralByte(byte);
      case AFTER_VALUE:
        if (isWhitespace(byte)) return;
        if (byte === COMMA) {
          this.#mode = BEFORE_KEY;
          return;
        }
        // `}` closes the top-level object without a model; anything else is malformed.
        return this.#finish("absent");
    }
  }

  #beginKey(): void {
    this.#mode = IN_KEY;
    this.#keyIsModel = false;
    this.#keyMatchedLength = 0;
    this.#keyStillMatches = true;
    this.#resetDecoder();
  }

  #beginModelValue(): void {
    this.#mode = IN_MODEL_VALUE;
    this.#valueStart = this.#at;
    this.#valueUnits ??= new Uint16Array(MAX_MODEL_LENGTH);
    this.#valueLength = 0;
    this.#resetDecoder();
  }

  #resetDecoder(): void {
    this.#escapeStage = NO_ESCAPE;
    this.#utf8Remaining = 0;
  }

  /** One byte of a depth-1 key or the model value: JSON escapes and UTF-8 decoded to UTF-16. */
  #decodeStringByte(byte: number): void {
    if (this.#utf8Remaining > 0) {
      if ((byte & 0xc0) !== 0x80) return this.#finish("absent");
      this.#utf8CodePoint = (this.#utf8CodePoint << 6) | (byte & 0x3f);
      if (--this.#utf8Remaining > 0) return;
      const codePoint = this.#utf8CodePoint;
      // Overlong forms, UTF-16 surrogates and values past U+10FFFF are not UTF-8 (RFC 3629 §3).
      if (codePoint < this.#utf8Minimum || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff)) {
        return this.#finish("absent");
      }
      if (codePoint >= 0x10000) {
        const offset = codePoint - 0x10000;
        this.#emitCodeUnit(0xd800 + (offset >> 10));
        this.#emitCodeUnit(0xdc00 + (offset & 0x3ff));
      } else {
        this.#emitCodeUnit(codePoint);
      }
    } else if (this.#escapeStage === AFTER_BACKSLASH) {
      this.#readEscapeLetter(byte);
    } else if (this.#escapeStage >= UNICODE_ESCAPE_START) {
      const digit = hexDigitValue(byte);
      if (digit < 0) return this.#finish("absent");
      this.#unicodeEscapeValue = (this.#unicodeEscapeValue << 4) | digit;
      if (++this.#escapeStage === UNICODE_ESCAPE_START + 4) {
        this.#escapeStage = NO_ESCAPE;
        // Each \uXXXX is one UTF-16 code unit, so surrogate pairs join (and lone ones survive) as in JSON.parse.
        this.#emitCodeUnit(this.#unicodeEscapeValue);
      }
    } else if (byte === QUOTE) {
      return this.#closeDecodedString();
    } else if (byte === BACKSLASH) {
      this.#escapeStage = AFTER_BACKSLASH;
    } else if (byte < 0x20) {
      return this.#finish("absent"); // RFC 8259 §7: control characters must be escaped
    } else if (byte < 0x80) {
      this.#emitCodeUnit(byte);
    } else if ((byte & 0xe0) === 0xc0) {
      this.#beginUtf8Sequence(byte & 0x1f, 1, 0x80);
    } else if ((byte & 0xf0) === 0xe0) {
      this.#beginUtf8Sequence(byte & 0x0f, 2, 0x800);
    } else if ((byte & 0xf8) === 0xf0) {
      this.#beginUtf8Sequence(byte & 0x07, 3, 0x10000);
    } else {
      return this.#finish("absent");
    }

    // Once a key can no longer be "model", its remaining bytes only need skipping.
    if (
      this.#mode === IN_KEY &&
      !this.#keyStillMatches &&
      this.#escapeStage === NO_ESCAPE &&
      this.#utf8Remaining === 0
    ) {
      this.#afterSkippedString = BEFORE_COLON;
      this.#skippedEscapePending = false;
      this.#mode = IN_SKIPPED_STRING;
    }
  }

  #beginUtf8Sequence(leadBits: number, continuationBytes: number, minimum: number): void {
    this.#utf8CodePoint = leadBits;
    this.#utf8Remaining = continuationBytes;
    this.#utf8Minimum = minimum;
  }

  #readEscapeLetter(byte: number): void {
    this.#escapeStage = NO_ESCAPE;
    switch (byte) {
      case QUOTE:
      case BACKSLASH:
      case 0x2f: // "/"
        return this.#emitCodeUnit(byte);
      case 0x62: // "b"
        return this.#emitCodeUnit(0x08);
      case 0x66: // "f"
        return this.#emitCodeUnit(0x0c);
      case 0x6e: // "n"
        return this.#emitCodeUnit(0x0a);
      case 0x72: // "r"
        return this.#emitCodeUnit(0x0d);
      case 0x74: // "t"
        return this.#emitCodeUnit(0x09);
      case 0x75: // "u"
        this.#escapeStage = UNICODE_ESCAPE_START;
        this.#unicodeEscapeValue = 0;
        return;
      default:
        return this.#finish("absent");
    }
  }

  #emitCodeUnit(unit: number): void {
    if (this.#mode === IN_KEY) {
      if (
        this.#keyStillMatches &&
        this.#keyMatchedLength < MODEL_KEY.length &&
        unit === MODEL_KEY.charCodeAt(this.#keyMatchedLength)
      ) {
        this.#keyMatchedLength++;
      } else {
        this.#keyStillMatches = false;
      }
      return;
    }
    if (this.#mode !== IN_MODEL_VALUE) return; // already finished by an earlier unit
    if (this.#valueLength === MAX_MODEL_LENGTH) return this.#finish("absent");
    this.#valueUnits![this.#valueLength++] = unit;
  }

  #closeDecodedString(): void {
    if (this.#mode === IN_KEY) {
      this.#keyIsModel = this.#keyStillMatches && this.#keyMatchedLength === MODEL_KEY.length;
      this.#mode = BEFORE_COLON;
      return;
    }
    const units = this.#valueUnits!.subarray(0, this.#valueLength);
    this.#finish("found", String.fromCharCode(...units));
  }
}

/** RFC 8259 §2 insignificant whitespace. */
function isWhitespace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** Bytes that can make up a number, true, false or null; only shape-checked, not validated. */
function isScalarByte(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) || // 0-9
    (byte >= 0x61 && byte <= 0x7a) || // a-z: true/false/null and the exponent "e"
    byte === 0x45 || // "E"
    byte === 0x2d || // "-"
    byte === 0x2b || // "+"
    byte === 0x2e // "."
  );
}

function hexDigitValue(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}
