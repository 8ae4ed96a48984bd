/**
 * Who may see the inspector (DESIGN §11), as a pure decision over request facts. Prompts are
 * private: like Jupyter's token, the page needs a secret. `start` makes an inspector token per
 * run; opening `/_relay/?token=T` once sets an HttpOnly cookie and redirects, after which the
 * page and its API work by cookie. `x-llm-relay-token: T` works for scripts, and so does the
 * relay's own token (a configured `token`, or `exec`'s session token in its `/_t/<token>` path).
 */
import { tokenEquals } from "../policy/credentials.js";
import type { RelayTokenCheck } from "../relay/observer.js";

/**
 * The login cookie's name for the relay at `relayUrl`: one per port. A browser keeps cookies per
 * host, not per port (RFC 6265 §8.5), so two relays on one machine would otherwise overwrite each
 * other's login, and a page would lose its access when another relay's page was opened.
 * @example cookieName("http://127.0.0.1:8742") // "llm_relay_inspector_8742"
 */
export function cookieName(relayUrl: string): string {
  let port = "";
  try {
    port = new URL(relayUrl).port;
  } catch {
    // Not known yet (the relay is not listening): the plain name.
  }
  return port === "" ? "llm_relay_inspector" : `llm_relay_inspector_${port}`;
}

export interface AccessInput {
  relayToken: RelayTokenCheck;
  /** The login cookie's name for this relay (see `cookieName`). */
  cookieName: string;
  /** The inspector token of this run, if it has one (`start` does; `exec` uses its session token). */
  inspectorToken?: string | undefined;
  /** The `cookie` request header. */
  cookie?: string | undefined;
  /** The `x-llm-relay-token` request header. */
  headerToken?: string | undefined;
  /** `token` from the query string, on the page URL only. */
  queryToken?: string | undefined;
}

export type Access = "allowed" | "login" | "denied";

/** The value of one cookie in a `cookie` header (RFC 6265 §5.4), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function decideAccess(input: AccessInput): Access {
  const { inspectorToken } = input;
  const matches = (value: string | undefined) => inspectorToken !== undefined && value !== undefined && tokenEquals(value, inspectorToken);
  if (input.queryToken !== undefined) return matches(input.queryToken) ? "login" : "denied";
  if (input.relayToken === "accepted") return "allowed";
  if (matches(input.headerToken) || matches(cookieValue(input.cookie, input.cookieName))) return "allowed";
  return "denied";
}

/** The cookie a login sets: never readable by scripts, never sent cross-site, only to the inspector. */
export function loginCookie(name: string, token: string): string {
  return `${name}=${token}; HttpOnly; SameSite=Strict; Path=/_relay/`;
}
