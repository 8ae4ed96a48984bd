/**
 * Redaction (DESIGN §8): the one way a secret becomes printable. Every output — decision values
 * and reasons, request lines and records, route descriptions, the banner, `config`, `doctor`,
 * `explain`, exec's warnings, error messages, the inspector — passes its text through `redact`.
 *
 * Secrets are found by their own shape, not by the punctuation or the names around them:
 * - vendor tokens (§4 prefixes `sk-…`, `ya29.…`, `AIza…`) anywhere in the text;
 * - secrets known by value (the relay token, configured `apiKey`/`token` values), given as
 *   `KnownSecrets`;
 * each raw, percent-encoded (any of their characters, `%2D`, doubly encoded too) or base64'd
 * (alone or inside a larger blob such as `Basic base64(user:key)`). URL structure adds what has
 * no shape: `user:pass@` userinfo, the values of query parameters with a secret's name, and the
 * `/_t/<token>` session prefix (a mistyped token is as private as the right one).
 *
 * Format: `sk-ant-oat01-…[len=108 #3fa91c]` — the vendor prefix when it is a known one (it tells
 * the user which key it is), the length and the first 6 hex digits of its SHA-256 (so two log
 * lines can be compared), and never any trailing characters.
 *
 * Hot path: the relay redacts every header value, its path and its upstream URL per request.
 * One precompiled trigger test decides whether a string needs any work; almost none do.
 */
import { createHash } from "node:crypto";

/** Known public prefixes, longest first; everything after them is secret. */
const KNOWN_PREFIXES = /^(?:sk-ant-[a-z]+\d*-|sk-or-v\d+-|sk-or-|sk-proj-|sk-svcacct-|sk-admin-|sk-|ya29\.|AIza)/;

const cache = new Map<string, string>();
const CACHE_LIMIT = 256;

/** Redact a bare token (no auth scheme). */
export function redactToken(token: string): string {
  const hit = cache.get(token);
  if (hit !== undefined) return hit;
  const prefix = KNOWN_PREFIXES.exec(token)?.[0] ?? "";
  // A "prefix" that is most of the value would reveal it; only name it when a real secret follows.
  const shown = token.length - prefix.length >= 8 ? prefix : "";
  const digest = createHash("sha256").update(token).digest("hex").slice(0, 6);
  const redacted = `${shown}…[len=${token.length} #${digest}]`;
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(token, redacted);
  return redacted;
}

/** Redact a header value that may carry an auth scheme: `Bearer sk-…` → `Bearer sk-…[len=… #…]`. */
export function redactCredentialValue(value: string): string {
  const trimmed = value.trim();
  const scheme = /^([A-Za-z][A-Za-z0-9._~+/-]*) +(?=\S)/.exec(trimmed);
  if (scheme && /^(?:bearer|basic|token)$/i.test(scheme[1]!)) {
    return `${scheme[1]} ${redactToken(trimmed.slice(scheme[0].length))}`;
  }
  return redactToken(trimmed);
}

// --- secrets known by value ----------------------------------------------------------------------

/** Shorter values are no secret worth the name and would redact ordinary words. */
export const MIN_KNOWN_SECRET_LENGTH = 6;

interface KnownSecret {
  value: string;
  /** No text shorter than this can hold the secret in any form. */
  shortest: number;
  /** Its base64 text at each of the three byte alignments, minus the characters its neighbours change. */
  base64Cores: string[];
}

/** Secrets known by value, compiled once (per config, per relay token) and reused for every string. */
export interface KnownSecrets {
  readonly secrets: readonly KnownSecret[];
  /** The vendor prefixes' base64 cores and every known secret's, looked for together. */
  readonly base64Cores: readonly string[];
  /** Strings that triggered the full scan and held nothing (paths with `?beta=true` recur on every request). */
  readonly clean: Set<string>;
  /** Short strings `mayHoldSecret` found no trigger in: header values recur on every request. */
  readonly plain: Set<string>;
}

export const NO_SECRETS: KnownSecrets = { secrets: [], base64Cores: VENDOR_BASE64_CORES_LIST(), clean: new Set(), plain: new Set() };

/**
 * The characters of `bytes`' base64 form that do not depend on what surrounds it, for each of
 * the three alignments it can sit at inside a longer base64 blob (standard and URL alphabets).
 */
function base64Cores(bytes: Buffer): string[] {
  const cores = new Set<string>();
  for (let align = 0; align < 3; align++) {
    const encode = (fill: number) => Buffer.concat([Buffer.alloc(align, fill), bytes, Buffer.alloc(3, fill)]).toString("base64");
    const [a, b, c] = [encode(0), encode(0xff), encode(0x55)];
    let best = "";
    let run = "";
    for (let i = 0; i < a.length; i++) {
      if (a[i] === b[i] && a[i] === c[i]) {
        run += a[i];
        if (run.length > best.length) best = run;
      } else run = "";
    }
    if (best.length >= 3) {
      cores.add(best);
      cores.add(best.replace(/\+/g, "-").replace(/\//g, "_"));
    }
  }
  return [...cores];
}

/** Base prefixes whose base64 forms are looked for (a function: NO_SECRETS needs them before the shapes below). */
function VENDOR_BASE64_CORES_LIST(): string[] {
  return ["sk-", "ya29.", "AIza"].flatMap((p) => base64Cores(Buffer.from(p)));
}

/**
 * Whether `text` may hold one of the known secrets in some encoding (raw, a percent-escape, a
 * base64 core): cheaper than `mayHoldSecret` when only those matter (the relay token in a header).
 */
export function mayHoldKnown(text: string, known: KnownSecrets): boolean {
  if (known.secrets.length === 0) return false;
  if (text.includes("%")) return true;
  for (const s of known.secrets) {
    if (text.length >= s.shortest && (text.includes(s.value) || s.base64Cores.some((core) => text.includes(core)))) return true;
  }
  return false;
}

/** Compile secrets known by value; values shorter than MIN_KNOWN_SECRET_LENGTH are ignored. */
export function knownSecrets(values: Iterable<string | undefined>): KnownSecrets {
  const seen = new Set<string>();
  const secrets: KnownSecret[] = [];
  for (const value of values) {
    if (value === undefined || value.length < MIN_KNOWN_SECRET_LENGTH || seen.has(value)) continue;
    seen.add(value);
    const cores = base64Cores(Buffer.from(value));
    secrets.push({ value, base64Cores: cores, shortest: Math.min(value.length, ...cores.map((c) => c.length)) });
  }
  // Longest first: a secret that contains another is replaced whole.
  secrets.sort((a, b) => b.value.length - a.value.length);
  if (secrets.length === 0) return NO_SECRETS;
  return { secrets, base64Cores: [...VENDOR_BASE64_CORES_LIST(), ...secrets.flatMap((s) => s.base64Cores)], clean: new Set(), plain: new Set() };
}

/** The relay token alone as known secrets, compiled once per token. */
let lastToken: { token: string | undefined; secrets: KnownSecrets } = { token: undefined, secrets: NO_SECRETS };
export function tokenSecrets(token: string | undefined): KnownSecrets {
  if (lastToken.token !== token) lastToken = { token, secrets: knownSecrets([token]) };
  return lastToken.secrets;
}

// --- shapes ---------------------------------------------------------------------------------------

/**
 * A vendor token (§4), case-sensitive. A bare `sk-` needs a boundary before it (`task-force-…` is
 * no key); the longer prefixes do not. At least 8 characters must follow the base prefix.
 */
const VENDOR_TOKEN = /(?:sk-(?=(?:ant|or|proj|svcacct|admin)-)|(?<![A-Za-z0-9])sk-|ya29\.|AIza)[A-Za-z0-9_.-]{8,}/g;

const VENDOR_BASE64_CORES = VENDOR_BASE64_CORES_LIST();

/** A string needs work only if it contains one of these (cheap, one compiled test each). */
const TRIGGER = /sk-|ya29\.|AIza|[%@?]|\/_t\//;
const VENDOR_BASE64_TRIGGER = new RegExp(VENDOR_BASE64_CORES.map((c) => c.replace(/[+/]/g, "\\$&")).join("|"));
/** The shortest base64 text that can carry a vendor token (a prefix and 8 characters). */
const SHORTEST_VENDOR_BASE64 = 15;

/** Query parameter names whose values are credentials even when their shape is unknown (`?key=`). */
const SECRET_QUERY_PARAM = /^(?:key|api[-_]?key|x-api-key|token|access[-_]?token|auth|authorization|secret|password|sig|signature|session)$/i;

/** A redacted form, whole or cut after `len=N` by a match that stops at whitespace. */
const REDACTED_FORM = /^[^…\s]*…\[len=\d+(?: #[0-9a-f]{6}\])?$/;

function redactOnce(value: string): string {
  return REDACTED_FORM.test(value) ? value : redactToken(value);
}

interface Span {
  start: number;
  end: number;
  /** The secret found (decoded when it sat encoded). */
  secret: string;
  replacement: string;
}

function applySpans(text: string, spans: Span[]): string {
  if (spans.length === 0) return text;
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = "";
  let at = 0;
  for (const span of spans) {
    if (span.start < at) continue; // inside one already replaced
    out += text.slice(at, span.start) + span.replacement;
    at = span.end;
  }
  return out + text.slice(at);
}

/** Secrets in plain text: vendor shapes and known values, as spans of `text`. */
function plainSpans(text: string, known: KnownSecrets, spans: Span[], map?: number[]): void {
  const at = (i: number) => (map === undefined ? i : map[i]!);
  for (const { value } of known.secrets) {
    for (let i = text.indexOf(value); i !== -1; i = text.indexOf(value, i + value.length)) {
      spans.push({ start: at(i), end: at(i + value.length), secret: value, replacement: redactToken(value) });
    }
  }
  if (text.includes("sk-") || text.includes("ya29.") || text.includes("AIza")) {
    VENDOR_TOKEN.lastIndex = 0;
    for (let m = VENDOR_TOKEN.exec(text); m !== null; m = VENDOR_TOKEN.exec(text)) {
      const end = m.index + m[0].length;
      // Already redacted (`sk-ant-oat01-…[len=…`): the prefix alone is public.
      if (text.startsWith("…[len=", end)) continue;
      spans.push({ start: at(m.index), end: at(end), secret: m[0], replacement: redactToken(m[0]) });
    }
  }
}

const PERCENT = /%[0-9A-Fa-f]{2}/;

/**
 * The text with every `%XX` decoded (as one byte, latin1: every secret is ASCII), repeatedly for
 * doubly encoded text, and where each decoded character came from in the original.
 */
function percentDecode(text: string): { decoded: string; map: number[] } {
  let current = text;
  let map = Array.from({ length: text.length + 1 }, (_, i) => i);
  for (let pass = 0; pass < 3 && PERCENT.test(current); pass++) {
    let decoded = "";
    const next: number[] = [];
    for (let i = 0; i < current.length; ) {
      next.push(map[i]!);
      if (current.charCodeAt(i) === 37 /* % */ && PERCENT.test(current.slice(i, i + 3))) {
        decoded += String.fromCharCode(Number.parseInt(current.slice(i + 1, i + 3), 16));
        i += 3;
      } else {
        decoded += current[i];
        i += 1;
      }
    }
    next.push(map[current.length]!);
    current = decoded;
    map = next;
  }
  return { decoded: current, map };
}

const BASE64_RUN = /[A-Za-z0-9+/_-]{12,}={0,2}/g;

/** Base64 blobs that decode to text holding a secret: the blob (from its aligned start) is replaced. */
function base64Spans(text: string, known: KnownSecrets, spans: Span[], map?: number[]): void {
  const at = (i: number) => (map === undefined ? i : map[i]!);
  const cores = known.base64Cores;
  if (!cores.some((core) => text.includes(core))) return;
  BASE64_RUN.lastIndex = 0;
  for (let m = BASE64_RUN.exec(text); m !== null; m = BASE64_RUN.exec(text)) {
    const run = m[0];
    if (!cores.some((core) => run.includes(core))) continue;
    for (let offset = 0; offset < 4; offset++) {
      const blob = run.slice(offset);
      const decoded = Buffer.from(blob, "base64").toString("latin1");
      const found: Span[] = [];
      plainSpans(decoded, known, found);
      if (found.length === 0) continue;
      // A blob that is exactly one secret is shown as that secret; anything else as the blob.
      const whole = found.length === 1 && found[0]!.start === 0 && found[0]!.end === decoded.length;
      // No break: a run may join blobs at different alignments (`/blobA/blobB` in a path).
      for (const f of found) {
        spans.push({ start: at(m.index + offset), end: at(m.index + run.length), secret: f.secret, replacement: whole ? f.replacement : redactToken(blob) });
      }
    }
  }
}

const USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^/@\s]*)@/gi;
// A `<token>` placeholder in the relay's own hints is no secret.
const SESSION_PREFIX = /\/_t\/([^/?#\s<]+)/g;
const QUERY_PARAM = /([?&;])([^=&?#\s"'<>]*)=([^&#\s"'<>]*)/g;

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** What has no shape but sits where a secret goes in a URL. */
function redactUrlParts(text: string): string {
  let out = text;
  if (out.includes("@")) out = out.replace(USERINFO, (_m, scheme: string, userinfo: string) => `${scheme}${redactOnce(userinfo)}@`);
  if (out.includes("/_t/")) out = out.replace(SESSION_PREFIX, (_m, token: string) => `/_t/${redactOnce(token)}`);
  if (out.includes("?")) {
    out = out.replace(QUERY_PARAM, (m, sep: string, name: string, value: string) =>
      value !== "" && SECRET_QUERY_PARAM.test(decodeURIComponentSafe(name)) ? `${sep}${name}=${redactOnce(value)}` : m,
    );
  }
  return out;
}

/**
 * The printable form of any text: every secret in it, by shape or known value, raw, percent-
 * encoded or base64, replaced by its redacted form. Idempotent.
 *
 * @example redact(`GET /v1/messages?q=${token}`) // "GET /v1/messages?q=sk-ant-oat01-…[len=108 #3fa91c]"
 */
export function redact(text: string, known: KnownSecrets = NO_SECRETS): string {
  if (!mayHoldSecret(text, known) || known.clean.has(text)) return text;
  const out = redactUrlParts(scan(text, known).text);
  if (out === text && text.length <= CLEAN_TEXT_LIMIT) {
    if (known.clean.size >= CLEAN_CACHE_LIMIT) known.clean.clear();
    known.clean.add(text);
  }
  return out;
}

const CLEAN_TEXT_LIMIT = 512;
const CLEAN_CACHE_LIMIT = 1024;

/**
 * The cheap test: false means `text` holds no secret by shape or known value. The same header
 * values come with every request (a client's user-agent, `application/json`, its beta list):
 * a short one found plain is remembered with the secrets it was tested against, and the next
 * request's copy costs one hash lookup instead of three scans per known secret.
 */
export function mayHoldSecret(text: string, known: KnownSecrets = NO_SECRETS): boolean {
  const short = text.length <= PLAIN_TEXT_LIMIT;
  if (short && known.plain.has(text)) return false;
  if (TRIGGER.test(text)) return true;
  if (text.length >= SHORTEST_VENDOR_BASE64 && VENDOR_BASE64_TRIGGER.test(text)) return true;
  for (const s of known.secrets) {
    if (text.length >= s.shortest && (text.includes(s.value) || s.base64Cores.some((core) => text.includes(core)))) return true;
  }
  if (short) {
    if (known.plain.size >= CLEAN_CACHE_LIMIT) known.plain.clear();
    known.plain.add(text);
  }
  return false;
}

/** Longer strings (bodies, long URLs) are not remembered: hashing one costs as much as testing it. */
const PLAIN_TEXT_LIMIT = 256;

/**
 * Find every secret in two passes — plain (raw and percent-decoded), then base64 in what the first
 * pass left (a base64 blob glued to a raw token would otherwise start inside the token's span) —
 * and return the text with each replaced, and what was found.
 */
function scan(text: string, known: KnownSecrets): { text: string; secrets: Span[] } {
  const found: Span[] = [];
  const pass = (input: string, finder: typeof plainSpans): string => {
    const spans: Span[] = [];
    finder(input, known, spans);
    if (input.includes("%")) {
      const { decoded, map } = percentDecode(input);
      if (decoded.length !== input.length) finder(decoded, known, spans, map);
    }
    found.push(...spans);
    return applySpans(input, spans);
  };
  return { text: pass(pass(text, plainSpans), base64Spans), secrets: found };
}

/**
 * Every secret in `text`, decoded: vendor tokens (§4 shapes) and known values, wherever and
 * however encoded they sit. The header and target policies use it to decide where a value may go.
 */
export function secretsIn(text: string, known: KnownSecrets = NO_SECRETS): string[] {
  if (!mayHoldSecret(text, known) || known.clean.has(text)) return [];
  return [...new Set(scan(text, known).secrets.map((s) => s.secret))];
}

/** `redact` for a URL or request target (the same function; the name says what the caller holds). */
export function redactUrl(url: string, known: KnownSecrets = NO_SECRETS): string {
  return redact(url, known);
}

/** `redact` with secrets given as plain values (error messages from libraries, crash output). */
export function redactText(text: string, secrets: Iterable<string>): string {
  return redact(text, knownSecrets(secrets));
}

/**
 * `text` cut off in the middle of a known secret (a body kept only up to a limit, a stream that
 * broke off) ends with that secret's first characters, which the whole-secret match cannot see:
 * such an ending, of `min` characters or more, is replaced. Only for text known to be cut; pure.
 * @example redactCutTail(`{"key":"${key.slice(0, 20)}`, known) // '{"key":"…[secret cut off: 20 chars]'
 */
export function redactCutTail(text: string, known: KnownSecrets, min = 6): string {
  let cut = 0;
  for (const { value } of known.secrets) {
    for (let k = Math.min(value.length - 1, text.length); k >= Math.max(min, cut + 1); k--) {
      if (text.endsWith(value.slice(0, k))) {
        cut = k;
        break;
      }
    }
  }
  return cut === 0 ? text : `${text.slice(0, text.length - cut)}…[secret cut off: ${cut} chars]`;
}
