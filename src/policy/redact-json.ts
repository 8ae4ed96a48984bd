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

/** The text with JSON string escapes decoded, and for each decoded index the source index. */
function jsonUnescape(text: string): { decoded: string; map: number[] } {
  let decoded = "";
  const map: number[] = [];
  const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && i + 1 < text.length) {
      const next = text[i + 1]!;
      if (next === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        map.push(i);
        decoded += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 5;
        continue;
      }
      if (simple[next] !== undefined) {
        map.push(i);
        decoded += simple[next];
        i += 1;
        continue;
      }
    }
    map.push(i);
    decoded += c;
  }
  return { decoded, map };
}

/**
 * `text` with every secret redacted, raw or written with JSON escapes; `undefined` when a secret
 * can be seen only in a form this cannot replace in place (the caller then withholds the text).
 *
 * @example redactJson('{"k":"\\u0073k-ant-api03-…"}') // '{"k":"sk-ant-api03-…[len=108 #…]"}'
 */
export function redactJson(text: string, known: KnownSecrets = NO_SECRETS): string | undefined {
  const out = redact(text, known);
  if (!out.includes("\\")) return out;
  const { decoded, map } = jsonUnescape(out);
  if (decoded.length === out.length) return out;
  const found = secretsIn(decoded, known);
  if (found.length === 0) return out;
  const spans: Array<[start: number, end: number, replacement: string]> = [];
  for (const secret of found) {
    const shown = redact(secret, known);
    for (let at = decoded.indexOf(secret); at !== -1; at = decoded.indexOf(secret, at + secret.length)) {
      const end = at + secret.length;
      spans.push([map[at]!, end < map.length ? map[end]! : out.length, shown]);
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  let result = "";
  let cursor = 0;
  for (const [start, end, replacement] of spans) {
    if (start < cursor) continue;
    result += out.slice(cursor, start) + replacement;
    cursor = end;
  }
  result += out.slice(cursor);
  // Whatever is still visible after decoding (a secret in an encoding inside the escapes): give up.
  return secretsIn(jsonUnescape(result).decoded, known).length === 0 ? result : undefined;
}
