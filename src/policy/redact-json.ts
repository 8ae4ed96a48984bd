/**
 * Redaction of text that a reader will JSON-decode (§8: secrets are found by their shape, not by
 * the punctuation around them). A request or response body can spell a token with JSON escapes
 * (`"\u0073\u006b-ant-…"`, `"sk\u002dproj\u002d…"`): `redact` sees no token there, yet the
 * inspector page, a HAR viewer or any JSON consumer turns it straight back into the raw token.
 *
 * `redactJson` redacts as `redact` does, then looks for secrets in the JSON-unescaped view of what
 * is left and replaces each escaped spelling in place with the token's redacted form.
 */
import { redact, secretsIn, type KnownSecrets, NO_SECRETS } from "./redact.js";

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
const HEX4 = /^[0-9a-fA-F]{4}$/;

/**
 * The text with JSON string escapes decoded, and where each decoded character came from. Works
 * from backslash to backslash (a prompt of 100 kB has thousands of `\n` and nothing else to
 * decode), recording one segment per run copied as is and one per escape.
 */
function jsonUnescape(text: string): { decoded: string; sourceOf(index: number): number } {
  const parts: string[] = [];
  /** Segment k starts at decoded index `starts[k]` and source index `sources[k]`; an escape is a segment of one character. */
  const starts: number[] = [];
  const sources: number[] = [];
  let length = 0;
  let from = 0;
  const copy = (to: number) => {
    if (to <= from) return;
    starts.push(length);
    sources.push(from);
    parts.push(text.slice(from, to));
    length += to - from;
  };
  for (let i = text.indexOf("\\"); i !== -1 && i + 1 < text.length; i = text.indexOf("\\", i)) {
    const next = text[i + 1]!;
    let char: string | undefined;
    let width = 2;
    if (next === "u" && HEX4.test(text.slice(i + 2, i + 6))) {
      char = String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
      width = 6;
    } else char = SIMPLE_ESCAPES[next];
    if (char === undefined) {
      // Not an escape: the backslash stays, and what follows is read as usual.
      i += 1;
      continue;
    }
    copy(i);
    starts.push(length);
    sources.push(i);
    parts.push(char);
    length += 1;
    from = i + width;
    i = from;
  }
  copy(text.length);
  return {
    decoded: parts.join(""),
    sourceOf(index: number): number {
      // The last segment starting at or before `index`.
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= index) lo = mid;
        else hi = mid - 1;
      }
      return sources[lo]! + (index - starts[lo]!);
    },
  };
}

/**
 * `text` with every secret redacted, raw or written with JSON escapes; `undefined` when a secret
 * can be seen only in a form this cannot replace in place (the caller then withholds the text).
 *
 * @example redactJson('{"k":"\\u0073k-ant-api03-…"}') // '{"k":"sk-ant-api03-…[len=108 #…]"}'
 */
export function redactJson(text: string, known: KnownSecrets = NO_SECRETS): string | undefined {
  if (!text.includes("\\")) return redact(text, known);
  // Escaped spellings first: redacting the raw text first would replace a key's prefix up to an
  // escape inside it (`sk-ant-api03-\u0061pi…`) and leave a tail the decoded view no longer
  // recognises by its shape.
  const out = redact(replaceEscapedSecrets(text, known), known);
  if (!out.includes("\\")) return out;
  const result = replaceEscapedSecrets(out, known);
  // Whatever is still visible after decoding (a secret in an encoding inside the escapes): give up.
  return secretsIn(jsonUnescape(result).decoded, known).length === 0 ? result : undefined;
}

/** `text` with each secret seen in its JSON-unescaped view replaced, in place, by its redacted form. */
function replaceEscapedSecrets(text: string, known: KnownSecrets): string {
  const { decoded, sourceOf } = jsonUnescape(text);
  if (decoded.length === text.length) return text;
  const found = secretsIn(decoded, known);
  if (found.length === 0) return text;
  const spans: Array<[start: number, end: number, replacement: string]> = [];
  for (const secret of found) {
    const shown = redact(secret, known);
    for (let at = decoded.indexOf(secret); at !== -1; at = decoded.indexOf(secret, at + secret.length)) {
      const end = at + secret.length;
      spans.push([sourceOf(at), end < decoded.length ? sourceOf(end) : text.length, shown]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  let result = "";
  let cursor = 0;
  for (const [start, end, replacement] of spans) {
    if (start < cursor) continue;
    result += text.slice(cursor, start) + replacement;
    cursor = end;
  }
  return result + text.slice(cursor);
}
