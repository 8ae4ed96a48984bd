/**
 * Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, so a relay must not pass
 * them on, nor any header the `Connection` field names.
 */

export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authorization",
  "proxy-authenticate",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  // Expect is answered by this hop (Node sends 100 Continue itself); RFC 9110 §10.1.1.
  "expect",
]);

/** Header names listed in a `Connection` field value, lower-cased. */
const NONE_LISTED: ReadonlySet<string> = new Set();

export function connectionListed(connection: string | string[] | undefined): ReadonlySet<string> {
  if (connection === undefined) return NONE_LISTED;
  // The common case, `Connection: keep-alive`, names no header worth a Set of its own.
  if (connection === "keep-alive") return NONE_LISTED;
  const listed = new Set<string>();
  for (const part of (Array.isArray(connection) ? connection.join(",") : connection).split(",")) {
    const name = part.trim().toLowerCase();
    if (name) listed.add(name);
  }
  return listed;
}

export type HeaderValue = string | string[] | number | undefined;
export type HeaderMap = Record<string, HeaderValue>;

/** Response headers to relay to the client: everything but hop-by-hop ones (DESIGN §5). */
export function responseHeadersToRelay(headers: HeaderMap): Record<string, string | string[]> {
  const listed = connectionListed(headers.connection as string | string[] | undefined);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = typeof value === "number" ? String(value) : value;
  }
  return out;
}
