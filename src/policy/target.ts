/**
 * The request target as policy (DESIGN §8): the path and query a client sent are checked and
 * cleaned like its headers, by pure functions whose decisions are recorded like header decisions
 * (`:path` for the path, `?name` for a query parameter).
 *
 * Before routing (`readTarget`): every `/_t/<token>` prefix is taken off (the relay checks each
 * one), the relay token is stripped wherever else it appears (a path segment, a query value), and
 * the path is normalised — RFC 3986 §5.2.4 dot segments, percent-encoded dots included — so that
 * `/gw/../third/…` is routed, trusted and forwarded as the `/third/…` a normalising upstream would
 * serve. A path with an encoded separator (`%2f`, `%5c`, `\`), whose meaning differs between
 * servers, or one climbing above the root is refused.
 *
 * After routing (`decideTarget`): a query parameter carrying an OAuth token or a vendor key this
 * provider may not receive (§5) is removed (`withhold`); a path carrying one is refused, since no
 * segment can be taken out of a path without changing what it names.
 */
import type { ResolvedProvider } from "../config/resolve.js";
import type { Decision } from "./headers.js";
import { withholdTokensReason } from "./reach.js";
import { NO_SECRETS, redact, secretsIn, tokenSecrets, type KnownSecrets } from "./redact.js";

/** A target the relay refuses (400 in the client's API shape); the message names no secret. */
export interface TargetRefusal {
  refused: { status: 400; code: "bad_request"; message: string };
  /** Tokens presented as `/_t/<token>` prefixes (checked before the refusal is answered). */
  presented?: string[];
}

export interface Target {
  /** The normalised path, every relay token prefix and segment removed. */
  path: string;
  /** `?…` or "", parameters carrying the relay token removed. */
  query: string;
  /** Tokens presented as `/_t/<token>` prefixes, in order (each must be the relay's). */
  presented: string[];
  decisions: Decision[];
}

const refuse = (message: string, presented?: string[]): TargetRefusal => ({
  refused: { status: 400, code: "bad_request", message },
  ...(presented ? { presented } : {}),
});

/** `%2f`, `%5c` (either case) or a backslash: a separator some servers see and others do not. */
const ENCODED_SEPARATOR = /%2f|%5c|\\/i;

/** A segment that means "." or ".." once its percent-encoded dots are decoded (RFC 3986 §2.3, §6.2.2.2). */
function dotSegment(segment: string): "." | ".." | undefined {
  if (segment.length > 6 || segment === "") return undefined;
  const decoded = segment.replace(/%2e/gi, ".");
  return decoded === "." || decoded === ".." ? decoded : undefined;
}

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Take the target apart before routing. `rawPath` is the path as received (no query), `query`
 * is `?…` or "". `shownWith`: the secrets decisions are redacted with (the relay's; by default
 * the relay token's).
 *
 * @example readTarget("/_t/T/gw/%2e%2e/third/v1/messages", "?beta=true", "T")
 * // → { path: "/third/v1/messages", query: "?beta=true", presented: ["T"], decisions: [:path rewrite] }
 */
export function readTarget(rawPath: string, query: string, relayToken?: string, shownWith?: KnownSecrets): Target | TargetRefusal {
  const presented: string[] = [];
  let path = rawPath;
  while (path.startsWith("/_t/")) {
    const end = path.indexOf("/", 4);
    presented.push(path.slice(4, end === -1 ? undefined : end));
    path = end === -1 ? "/" : path.slice(end);
  }
  const decisions: Decision[] = [];
  const secrets = tokenSecrets(relayToken);

  if (ENCODED_SEPARATOR.test(path)) {
    return refuse("the request path holds an encoded / or \\ (%2f, %5c), which servers read differently; send the path unencoded", presented);
  }
  // Fast path: no dot, no relay token, nothing to resolve.
  const mayHoldToken = relayToken !== undefined && secretsIn(path, secrets).includes(relayToken);
  if (path.includes(".") || path.includes("%") || mayHoldToken) {
    const out: string[] = [];
    const segments = path.split("/").slice(1);
    let strippedToken = false;
    let resolvedDots = false;
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      const last = i === segments.length - 1;
      if (relayToken !== undefined && secretsIn(segment, secrets).includes(relayToken)) {
        if (decodeSafe(segment) !== relayToken) {
          return refuse("the request path carries the relay token inside a segment; send it as the /_t/<token> prefix or the x-llm-relay-token header", presented);
        }
        // `/_t/<token>` again, or the bare token: taken out.
        if (out.at(-1) === "_t") out.pop();
        strippedToken = true;
        if (last) out.push("");
        continue;
      }
      const dots = dotSegment(segment);
      if (dots === undefined) {
        out.push(segment);
        continue;
      }
      resolvedDots = true;
      if (dots === "..") {
        if (out.length === 0) return refuse("the request path climbs above the root with a .. segment", presented);
        out.pop();
      }
      // `/a/.` and `/a/b/..` name the folder: keep the trailing slash (RFC 3986 §5.2.4 step 2).
      if (last) out.push("");
    }
    const normalised = `/${out.join("/")}`;
    if (normalised !== path) {
      const why = [resolvedDots ? "dot segments resolved (RFC 3986 §5.2.4)" : "", strippedToken ? "the relay token removed" : ""].filter(Boolean).join("; ");
      // Shown with every secret the relay knows (a configured key in the path too), not only by shape.
      decisions.push({ header: ":path", action: "rewrite", value: redact(normalised, shownWith ?? secrets), reason: why });
      path = normalised;
    }
  }

  let outQuery = query;
  if (relayToken !== undefined && query.length > 1 && secretsIn(query.slice(1), secrets).includes(relayToken)) {
    const kept: string[] = [];
    for (const param of query.slice(1).split("&")) {
      if (secretsIn(param, secrets).includes(relayToken)) {
        decisions.push({ header: `?${redact(paramName(param), secrets)}`, action: "strip", value: redact(param, secrets), reason: "carries the relay token" });
      } else kept.push(param);
    }
    outQuery = kept.length === 0 ? "" : `?${kept.join("&")}`;
  }
  return { path, query: outQuery, presented, decisions };
}

function paramName(param: string): string {
  const eq = param.indexOf("=");
  return decodeSafe(eq === -1 ? param : param.slice(0, eq));
}

export interface TargetPlan {
  /** Path to request from the provider's origin (its path prefix included). */
  path: string;
  /** `?…` or "": the query left for this provider. */
  query: string;
  decisions: Decision[];
}

/**
 * The target for one provider: `routePath` is the path below the provider's prefix (after
 * routing), `query` the query `readTarget` left.
 */
export function decideTarget(routePath: string, query: string, provider: ResolvedProvider, secrets: KnownSecrets = NO_SECRETS): TargetPlan | TargetRefusal {
  const inPath = withholdTokensReason(secretsIn(routePath), provider);
  if (inPath !== undefined) {
    return refuse(`the request path carries a credential (${inPath.reason.replace(/^carries (?:an |a )?/, "")}); send credentials in headers, never in the path`);
  }
  const decisions: Decision[] = [];
  let outQuery = query;
  if (query.length > 1) {
    const params = query.slice(1).split("&");
    const kept: string[] = [];
    for (const param of params) {
      const denied = withholdTokensReason(secretsIn(param), provider);
      if (denied === undefined) kept.push(param);
      else decisions.push({ header: `?${redact(paramName(param), secrets)}`, action: "withhold", value: redact(param, secrets), reason: denied.reason });
    }
    if (kept.length !== params.length) outQuery = kept.length === 0 ? "" : `?${kept.join("&")}`;
  }
  return { path: `${provider.pathPrefix}${routePath}`, query: outQuery, decisions };
}
