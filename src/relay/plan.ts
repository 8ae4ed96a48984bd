/**
 * One request's plan: which provider, which upstream URL, which headers. Pure, and the only
 * place these three are put together, so the live relay and `explain` cannot disagree.
 */
import type { ResolvedConfig } from "../config/resolve.js";
import { decideHeaders, type HeaderPlan } from "../policy/headers.js";
import type { HeaderMap } from "../policy/hop-by-hop.js";
import { routeRequest, type RouteChoice } from "../routing/route.js";

export interface PlanInput {
  /** Path without query, relay token prefix already removed. */
  path: string;
  /** `?…` or "". */
  query: string;
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
  return { route, upstreamPath: `${route.provider.pathPrefix}${route.upstreamPath}${input.query}`, headers };
}
