/**
 * Routing (DESIGN §3): request facts → the provider that serves it. Pure. Order:
 * (1) a first path segment naming a provider, removed from the path; (2) config `routes`, first
 * match wins; (3) built-in rules (Anthropic requests → `anthropic`, OpenAI paths → `openai`);
 * (4) `defaultProvider`. No match: undefined (the relay answers 404).
 */
import { configSecrets, type ResolvedConfig, type ResolvedProvider, type ResolvedRoute } from "../config/resolve.js";
import { printableHeaderValue } from "../policy/headers.js";
import type { HeaderMap } from "../policy/hop-by-hop.js";
import { NO_SECRETS, redact, type KnownSecrets } from "../policy/redact.js";
import { isAnthropicPath, isOpenAIPath, pathHasPrefix } from "./api-paths.js";

export interface RequestFacts {
  /** Path without query string, relay token prefix already removed. */
  path: string;
  headers: HeaderMap;
  /** The JSON body's top-level "model", when known. */
  model?: string | undefined;
}

export interface RouteChoice {
  provider: ResolvedProvider;
  /** The path to append to the provider's baseUrl. */
  upstreamPath: string;
  /** Which rule chose it, for logs and `explain`. */
  matchedBy: string;
}

/** Whether any route needs the body's model to decide (so the relay must sniff before routing). */
export function routesNeedModel(config: ResolvedConfig): boolean {
  return config.routes.some((r) => r.modelPattern !== undefined);
}

function headerEquals(headers: HeaderMap, name: string, expected: string): boolean {
  const value = headers[name];
  if (value === undefined) return false;
  return (Array.isArray(value) ? value : [String(value)]).some((v) => v.trim() === expected);
}

function routeMatches(route: ResolvedRoute, facts: RequestFacts): boolean {
  if (route.modelPattern && (facts.model === undefined || !route.modelPattern.test(facts.model))) return false;
  if (route.path !== undefined && !pathHasPrefix(facts.path, route.path)) return false;
  if (route.header && !route.header.every(([name, value]) => headerEquals(facts.headers, name, value))) return false;
  return true;
}

/**
 * A route's conditions as printed (records, `explain`, the banner, `config`). A route may match
 * on a credential header (`header: { "x-api-key": "sk-ant-…" }`): its value is shown redacted.
 */
export function routeConditions(route: ResolvedRoute, secrets: KnownSecrets = NO_SECRETS): string[] {
  const parts: string[] = [];
  if (route.model !== undefined) parts.push(redact(`model ${route.model}`, secrets));
  if (route.path !== undefined) parts.push(redact(`path ${route.path}`, secrets));
  if (route.header) parts.push(...route.header.map(([n, v]) => `header ${n}: ${printableHeaderValue(n, v, secrets)}`));
  return parts;
}

function describeRoute(route: ResolvedRoute, index: number, config: ResolvedConfig): string {
  return `routes[${index}] (${routeConditions(route, configSecrets(config)).join(", ")})`;
}

export function routeRequest(facts: RequestFacts, config: ResolvedConfig): RouteChoice | undefined {
  const { path } = facts;
  const providers = config.providers;

  const secondSlash = path.indexOf("/", 1);
  const firstSegment = secondSlash === -1 ? path.slice(1) : path.slice(1, secondSlash);
  const named = firstSegment === "" ? undefined : providers.get(firstSegment);
  if (named) {
    return {
      provider: named,
      upstreamPath: secondSlash === -1 ? "/" : path.slice(secondSlash),
      matchedBy: `path prefix /${firstSegment}`,
    };
  }

  for (let i = 0; i < config.routes.length; i++) {
    const route = config.routes[i]!;
    if (routeMatches(route, facts)) {
      return { provider: providers.get(route.provider)!, upstreamPath: path, matchedBy: describeRoute(route, i, config) };
    }
  }

  const anthropic = providers.get("anthropic");
  const openai = providers.get("openai");
  if (anthropic && facts.headers["anthropic-version"] !== undefined) {
    return { provider: anthropic, upstreamPath: path, matchedBy: "built-in: anthropic-version header" };
  }
  if (openai && isOpenAIPath(path)) {
    return { provider: openai, upstreamPath: path, matchedBy: "built-in: OpenAI API path" };
  }
  if (anthropic && isAnthropicPath(path)) {
    return { provider: anthropic, upstreamPath: path, matchedBy: "built-in: Anthropic API path" };
  }

  if (config.defaultProvider !== undefined) {
    return { provider: providers.get(config.defaultProvider)!, upstreamPath: path, matchedBy: "defaultProvider" };
  }
  return undefined;
}
