/**
 * One request's plan: which provider, which upstream URL, which headers. Pure, and the only
 * place these three are put together, so the live relay and `explain` cannot disagree.
 */
import type { ResolvedConfig, ResolvedProvider } from "../config/resolve.js";
import { decideHeaders, type HeaderPlan } from "../policy/headers.js";
import type { HeaderMap } from "../policy/hop-by-hop.js";
import { routeRequest, type RouteChoice } from "../routing/route.js";
import type { ApiShape, RelayErrorCode } from "./api-errors.js";

export interface PlanInput {
  /** Path without query, relay token prefix already removed. */
  path: string;
  /** `?…` or "". */
  query: string;
  /** The request method; count_tokens answers apply to POST only. Defaults to POST. */
  method?: string | undefined;
  headers: HeaderMap;
  model?: string | undefined;
  config: ResolvedConfig;
  relayToken?: string | undefined;
  via?: string | undefined;
}

export interface RequestPlan {
  route: RouteChoice;
  /** Path and query to request from the provider's origin. */
  upstreamPath: string;
  headers: HeaderPlan;
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

/** The plan, or undefined when no provider serves this request (404). */
export function planRequest(input: PlanInput): RequestPlan | undefined {
  const route = routeRequest({ path: input.path, headers: input.headers, model: input.model }, input.config);
  if (!route) return undefined;
  const headers = decideHeaders({
    headers: input.headers,
    provider: route.provider,
    relayToken: input.relayToken,
    via: input.via,
  });
  const plan: RequestPlan = { route, upstreamPath: `${route.provider.pathPrefix}${route.upstreamPath}${input.query}`, headers };
  const relayAnswer = relayAnswerFor(route.provider, (input.method ?? "POST").toUpperCase(), route.upstreamPath);
  if (relayAnswer !== undefined) plan.relayAnswer = relayAnswer;
  return plan;
}
