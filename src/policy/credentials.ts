/**
 * Credential classification (DESIGN §4): what kind of secret a header value carries.
 *
 * Pure: the relay's session token, when there is one, is passed in. The header policy (§5)
 * decides where each kind may go; this file only recognises kinds.
 */
import { timingSafeEqual } from "node:crypto";

export type CredentialKind =
  | "anthropic-oauth"
  | "anthropic-api-key"
  | "openai-key"
  | "openrouter-key"
  | "google-oauth"
  | "google-api-key"
  | "relay-token"
  | "unknown"
  | "none";

/** Headers that carry client credentials; each value is classified. */
export const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "x-api-key",
  "api-key",
  "x-goog-api-key",
]);

export interface Credential {
  kind: CredentialKind;
  /** The token without its auth scheme; "" for kind "none". */
  token: string;
  /** True when the value carried the `Bearer` scheme (any case). */
  bearer: boolean;
}

/**
 * RFC 9110 §11.4: `credentials = auth-scheme [ 1*SP token68 ]`, the scheme case-insensitive.
 * Field values reach us with surrounding whitespace already excluded (§5.5), but we trim again
 * so that a value built by hand (explain -H, tests) classifies the same way. Between scheme and
 * token we accept HTAB as well as SP: lenient servers do, and an OAuth token we failed to
 * recognise would be relayed as "unknown" to whichever provider the request is routed to.
 */
const AUTH_SCHEME = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)[ \t]+(?=\S)/;

/**
 * Prefix rules, first match wins. Token prefixes are case-sensitive (§4): `SK-ANT-OAT01-…` is
 * not an Anthropic OAuth token. Any other `sk-ant-` token (api keys, admin keys) is Anthropic's,
 * so it must never fall through to the generic OpenAI `sk-` rule below.
 */
const PREFIX_KINDS: ReadonlyArray<readonly [string, CredentialKind]> = [
  ["sk-ant-oat", "anthropic-oauth"],
  ["sk-ant-", "anthropic-api-key"],
  ["sk-or-", "openrouter-key"],
  ["sk-", "openai-key"],
  ["ya29.", "google-oauth"],
  ["AIza", "google-api-key"],
];

/** Constant-time string comparison, so a token cannot be guessed byte by byte from timing. */
export function tokenEquals(candidate: string, expected: string): boolean {
  const a = Buffer.from(candidate);
  const b = Buffer.from(expected);
  // timingSafeEqual needs equal lengths; compare against itself to keep the time independent of
  // where a shorter candidate would have differed.
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

/**
 * Classify one credential-bearing header value.
 *
 * @example classifyCredential("Bearer sk-ant-oat01-abc") // { kind: "anthropic-oauth", token: "sk-ant-oat01-abc", bearer: true }
 */
export function classifyCredential(value: string | undefined, relayToken?: string): Credential {
  const trimmed = (value ?? "").trim();
  const scheme = AUTH_SCHEME.exec(trimmed);
  const afterScheme = scheme ? trimmed.slice(scheme[0].length) : undefined;
  const bearer = /^bearer$/i.test(scheme ? scheme[1]! : trimmed);
  if (trimmed === "" || (bearer && afterScheme === undefined)) return { kind: "none", token: "", bearer };
  // The token is what follows Bearer; under another or no scheme it is the whole value, unless
  // what follows the scheme is a known vendor token (`Token sk-ant-oat01-…` is still an OAuth
  // token and must be kept from other providers).
  const token = bearer || (afterScheme !== undefined && kindByPrefix(afterScheme) !== undefined) ? afterScheme! : trimmed;
  if (relayToken !== undefined && (tokenEquals(token, relayToken) || (afterScheme !== undefined && tokenEquals(afterScheme, relayToken)))) {
    return { kind: "relay-token", token, bearer };
  }
  return { kind: kindByPrefix(token) ?? "unknown", token, bearer };
}

function kindByPrefix(token: string): CredentialKind | undefined {
  return PREFIX_KINDS.find(([prefix]) => token.startsWith(prefix))?.[1];
}
