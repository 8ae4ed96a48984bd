/**
 * Redaction (DESIGN §8): the one way a secret becomes printable.
 *
 * Format: `sk-ant-oat01-…[len=108 #3fa91c]` — the vendor prefix when it is a known one (it tells
 * the user which key it is), the length and the first 6 hex digits of its SHA-256 (so two log
 * lines can be compared), and never any trailing characters.
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

/** Query parameter names whose values are credentials (e.g. Gemini's `?key=`). */
const SECRET_QUERY_PARAM = /^(?:key|api[-_]?key|token|access[-_]?token|auth|secret|password|sig|signature)$/i;

/**
 * Redact credentials inside a URL or request target: `user:pass@` userinfo, secret query
 * parameters, and a relay session token path prefix `/_t/<token>`.
 */
export function redactUrl(url: string): string {
  // Hot path (twice per request line): skip each rewrite whose trigger is absent.
  const hasUserinfo = url.includes("@");
  const hasToken = url.includes("/_t/");
  let out = url;
  // A key pasted into the path (`/v1/sk-ant-oat01-…/messages`) is as secret as one in a header.
  if (url.includes("sk-") || url.includes("AIza") || url.includes("ya29.")) {
    out = out.replace(/(?<=\/)(?:sk-|ya29\.|AIza)[^/?#\s]*/g, (token) => redactOnce(token));
  }
  if (hasUserinfo) {
    out = out.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@\s]*)@/i, (_m, scheme: string, userinfo: string) => `${scheme}${redactOnce(userinfo)}@`);
  }
  if (hasToken) out = out.replace(/\/_t\/([^/?#\s]+)/, (_m, token: string) => `/_t/${redactOnce(token)}`);
  const q = out.indexOf("?");
  if (q === -1) return out;
  const query = out.slice(q + 1);
  // Only names that could be secret (or percent-encoded, so unknown until decoded) need the full pass.
  if (!QUERY_MAY_HOLD_SECRET.test(query)) return out;
  const redacted = query.replace(/(^|&)([^=&]*)=([^&#]*)/g, (m, sep: string, name: string, value: string) =>
    SECRET_QUERY_PARAM.test(decodeURIComponentSafe(name)) && value !== "" ? `${sep}${name}=${redactOnce(value)}` : m,
  );
  return `${out.slice(0, q + 1)}${redacted}`;
}

/** A cheap superset of SECRET_QUERY_PARAM's names, or any percent-encoding. */
const QUERY_MAY_HOLD_SECRET = /key|token|auth|secret|password|sig|%/i;

/** `redactText` replaces known secrets before it redacts URLs: leave a value already redacted alone. */
function redactOnce(value: string): string {
  // A URL match stops at whitespace, so the redacted form may arrive cut after `len=N`.
  return /^[^…\s]*…\[len=\d+(?: #[0-9a-f]{6}\])?$/.test(value) ? value : redactToken(value);
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Replace every occurrence of the given secrets in free text (error messages from libraries,
 * which may quote a URL or header), in raw, URL-encoded and base64 form, then redact URLs.
 */
export function redactText(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString("base64")])) {
      if (out.includes(form)) out = out.split(form).join(redactToken(secret));
    }
  }
  // A scheme starts where no scheme character precedes it: without the look-behind a long run of
  // letters (a 1 MiB prompt) is retried from every position, quadratic in its length.
  return out.replace(/(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (url) => redactUrl(url));
}
