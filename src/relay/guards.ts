/**
 * Who may use the relay (DESIGN §8), as pure checks over request facts: the Host guard against
 * DNS rebinding, the Origin guard against cross-site browser requests, and the token guard.
 */
import { isLoopbackHost } from "../net/loopback.js";
import { tokenEquals } from "../policy/credentials.js";

/** Addresses that mean "every interface" (RFC 1122 §3.2.1.3 for 0.0.0.0; `::` for IPv6). */
export function isWildcardHost(host: string): boolean {
  return ["0.0.0.0", "::", "[::]"].includes(host);
}

/**
 * Host header values this listener answers to: loopback names with its port, plus the configured
 * host. A wildcard host is reached by the machine's own addresses and name, so those are passed
 * in (`machineNames`); a rebinding page's own domain is never among them.
 */
export function allowedHosts(port: number, configuredHost: string, machineNames: readonly string[] = []): Set<string> {
  const names = ["127.0.0.1", "localhost", "[::1]"];
  const bare = configuredHost.replace(/^\[|\]$/g, "");
  const extra = isWildcardHost(bare) ? machineNames : [bare];
  for (const name of extra) {
    const plain = name.replace(/^\[|\]$/g, "");
    const hostForm = plain.includes(":") ? `[${plain}]` : plain;
    // The address we listen on is always ours, loopback ones like 127.0.0.2 included; the
    // machine's other names only count when listening on all of them.
    if (!names.includes(hostForm) && (!isLoopbackHost(plain) || name === bare)) names.push(hostForm);
  }
  const allowed = new Set<string>();
  for (const name of names) {
    allowed.add(`${name}:${port}`.toLowerCase());
    if (port === 80) allowed.add(name.toLowerCase());
  }
  return allowed;
}

/** A browser's Origin is acceptable only when it is a loopback page (RFC 6454 serialisation). */
export function isLoopbackOrigin(origin: string): boolean {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // includes the opaque origin "null"
  }
  return (url.protocol === "http:" || url.protocol === "https:") && isLoopbackHost(url.hostname);
}

export interface PresentedToken {
  /** Path with any `/_t/<token>` prefix removed. */
  path: string;
  /** Token from the path prefix, or from `x-llm-relay-token`. */
  token?: string | undefined;
}

/** Split `/_t/<token>/rest` into the token and `/rest`. */
export function takePathToken(path: string): PresentedToken {
  if (!path.startsWith("/_t/")) return { path };
  const end = path.indexOf("/", 4);
  return { token: path.slice(4, end === -1 ? undefined : end), path: end === -1 ? "/" : path.slice(end) };
}

/** Every token presented must match; at least one must be presented. */
export function tokenAccepted(expected: string, fromPath: string | undefined, fromHeader: string | undefined): boolean {
  if (fromPath === undefined && fromHeader === undefined) return false;
  if (fromPath !== undefined && !tokenEquals(fromPath, expected)) return false;
  if (fromHeader !== undefined && !tokenEquals(fromHeader, expected)) return false;
  return true;
}
