/**
 * One request's plan: which provider, which upstream URL, which headers. Pure, and the only
 * place these are put together, so the live relay and `explain` cannot disagree. The target
 * (path and query) is policy like the headers (§8): normalised before routing, cleaned for the
 * chosen provider after.
 */
import { configSecrets, type ResolvedConfig, type ResolvedProvider } from "../config/resolve.js";
import { decideHeaders, printableHeaderValue, type Decision, type HeaderPlan } from "../policy/headers.js";
import type { HeaderMap } from "../policy/hop-by-hop.js";
import { redact, type KnownSecrets } from "../policy/redact.js";
import { decideTarget, readTarget, type Target, type TargetRefusal } from "../policy/target.js";
import { routeRequest, type RouteChoice } from "../routing/route.js";
import type { ApiShape, RelayErrorCode } from "./api-errors.js";

export interface PlanInput {
  /** Path as received, without query (any `/_t/<token>` prefix is taken off here). */
  path: string;
  /** `?…` or "". */
  query: string;
  /** The request method; count_tokens answers apply to POST only. Defaults to POST. */
  method?: string | undefined;
  /** The target already read (the relay reads it first, to check the presented tokens). */
  target?: Target | undefined;
  headers: HeaderMap;
  model?: string | undefined;
  config: ResolvedConfig;
  relayToken?: string | undefined;
  via?: string | undefined;
}

/** The secrets a plan redacts: the config's keys and token, and the relay token. */
export function planSecrets(config: ResolvedConfig, relayToken: string | undefined): KnownSecrets {
  return configSecrets(config, relayToken);
}

export interface RequestPlan {
  route: RouteChoice;
  /** Path and query to request from the provider's origin. */
  upstreamPath: string;
  /** The upstream URL as logs and `explain` show it, secrets redacted. */
  upstreamDisplay: string;
  /** What became of the path and query parameters (only what changed), recorded like header decisions. */
  targetDecisions: Decision[];
  headers: HeaderPlan;
  /** Query parameters dropped before forwarding (`query.remove`), one strip decision each. */
  query: Decision[];
  /** Set when the relay answers this request itself instead of forwarding it. */
  relayAnswer?: RelayAnswer;
}

/** A relay-made answer the plan calls for: an unavailable provider (§3), no count_tokens (§10). */
export interface RelayAnswer {
  status: number;
  code: RelayErrorCode;
  message: string;
  /** The API shape to answer in when the path, not the provider's kind, decides it. */
  shape?: ApiShape;
}

/** A query parameter's name as servers read it (`a+b` and `a%20b` are both "a b"). */
function paramName(pair: string): string {
  const eq = pair.indexOf("=");
  const raw = (eq === -1 ? pair : pair.slice(0, eq)).replace(/\+/g, " ");
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * `query.remove`: the query with the named parameters dropped, every other byte as the client
 * sent it (no re-encoding), and a decision per parameter removed.
 *
 * @example
 * removeQueryParams("?beta=true&x=1", new Set(["beta"]), "zai")
 * // → { query: "?x=1", decisions: [{ header: "?beta", action: "strip", value: "true", reason: "query.remove of zai" }] }
 */
export function removeQueryParams(query: string, names: ReadonlySet<string>, provider: string): { query: string; decisions: Decision[] } {
  if (names.size === 0 || query.length <= 1) return { query, decisions: [] };
  const kept: string[] = [];
  const decisions: Decision[] = [];
  for (const pair of query.slice(1).split("&")) {
    const name = paramName(pair);
    if (pair !== "" && names.has(name)) {
      const eq = pair.indexOf("=");
      const value = eq === -1 ? "" : pair.slice(eq + 1);
      decisions.push({ header: `?${name}`, action: "strip", value: printableHeaderValue(name, value), reason: `query.remove of ${provider}` });
    } else {
      kept.push(pair);
    }
  }
  if (decisions.length === 0) return { query, decisions };
  const rest = kept.join("&");
  return { query: rest === "" ? "" : `?${rest}`, decisions };
}

const COUNT_TOKENS = /\/messages\/count_tokens\/?$/;

/** Whether the relay, not the provider, must answer (pure; the same for the relay and `explain`). */
export function relayAnswerFor(provider: ResolvedProvider, method: string, upstreamPath: string): RelayAnswer | undefined {
  if (provider.unavailable !== undefined) {
    const { env } = provider.unavailable;
    return {
      status: 503,
      code: "provider_unavailable",
      message: `provider ${provider.name} is unavailable: set ${env} (its apiKey names that environment variable, which is not set)`,
    };
  }
  if (!provider.countTokens && method === "POST" && COUNT_TOKENS.test(upstreamPath)) {
    // Never a made-up count: a fake 0 would stop Claude Code's auto-compaction (§10).
    return {
      status: 404,
      code: "not_found",
      shape: "anthropic",
      message: `provider ${provider.name} has no count_tokens endpoint (countTokens: false), so the relay does not forward it`,
    };
  }
  return undefined;
}

export type { TargetRefusal } from "../policy/target.js";

export function isRefusal(plan: RequestPlan | TargetRefusal | undefined): plan is TargetRefusal {
  return plan !== undefined && "refused" in plan;
}

/** The plan; a refusal (400) for a target that may not be relayed; undefined when no provider serves it (404). */
export function planRequest(input: PlanInput): RequestPlan | TargetRefusal | undefined {
  const target = input.target ?? readTarget(input.path, input.query, input.relayToken);
  if ("refused" in target) return target;
  const route = routeRequest({ path: target.path, headers: input.headers, model: input.model }, input.config);
  if (!route) return undefined;
  const secrets = planSecrets(input.config, input.relayToken);
  const upstream = decideTarget(route.upstreamPath, target.query, route.provider, secrets);
  if ("refused" in upstream) return upstream;
  const headers = decideHeaders({
    headers: input.headers,
    provider: route.provider,
    relayToken: input.relayToken,
    secrets,
    via: input.via,
  });
  const removed = removeQueryParams(upstream.query, route.provider.queryRemove, route.provider.name);
  const upstreamPath = `${upstream.path}${removed.query}`;
  const plan: RequestPlan = {
    route,
    upstreamPath,
    upstreamDisplay: redact(`${route.provider.origin}${upstreamPath}`, secrets),
    targetDecisions: target.decisions.length === 0 ? upstream.decisions : [...target.decisions, ...upstream.decisions],
    headers,
    query: removed.decisions,
  };
  const relayAnswer = relayAnswerFor(route.provider, (input.method ?? "POST").toUpperCase(), route.upstreamPath);
  if (relayAnswer !== undefined) plan.relayAnswer = relayAnswer;
  return plan;
}
