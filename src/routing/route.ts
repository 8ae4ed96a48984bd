/**
 * Routing (DESIGN §3): request facts → the provider that serves it. Pure. Order:
 * (1) a first path segment naming a provider, removed from the path; (2) config `routes`, first
 * match wins; (3) built-in rules (Anthropic requests → `anthropic`, OpenAI paths → `openai`);
 * (4) `defaultProvider`. No match: undefined (the relay answers 404).
 */
import { configSecrets, type ResolvedConfig, type ResolvedProvider, type ResolvedRoute } from "../config/resolve.js";
import type { RouteConditions, RouteRule } from "../config/route-rule.js";
import { printableHeaderValue } from "../policy/headers.js";
import type { HeaderMap } from "../policy/hop-by-hop.js";
import { NO_SECRETS, redact, type KnownSecrets } from "../policy/redact.js";
import { isAnthropicPath, isOpenAIPath, pathHasPrefix } from "./api-paths.js";
import { describeWhen, estimateInputTokens, whenHolds } from "./request-features.js";

export interface RequestFacts {
  /** Path without query string, relay token prefix already removed. */
  path: string;
  headers: HeaderMap;
  /** The JSON body's top-level "model", when known. */
  model?: string | undefined;
  /** The parsed JSON body, when some route has `when` (undefined: not parsed, or not JSON). */
  json?: unknown;
}

export type { RouteConditions, RouteRule };

export interface RouteChoice {
  provider: ResolvedProvider;
  /** The path to append to the provider's baseUrl. */
  upstreamPath: string;
  /** Which rule chose it, as text for the request line, logs and `explain`. */
  matchedBy: string;
  /** The same, as data. */
  rule: RouteRule;
  /** The token estimate, when a `minInputTokens` condition needed it. */
  inputTokensEstimate?: number;
}

/** Whether any route needs the body's model to decide (so the relay must sniff before routing). */
export function routesNeedModel(config: ResolvedConfig): boolean {
  return config.routes.some((r) => r.modelPattern !== undefined);
}

/** Whether any route has `when`, so the relay must read and parse the whole body before routing. */
export function routesNeedBody(config: ResolvedConfig): boolean {
  return config.routes.some((r) => r.when !== undefined);
}

/**
 * How much of a body the relay reads before it can plan: all of it for `when`, up to the
 * model's value for a model route or a provider's `models` (its span is spliced), else one chunk.
 */
export function bodyReading(config: ResolvedConfig): "first-chunk" | "until-model" | "whole" {
  if (routesNeedBody(config)) return "whole";
  const rewrites = [...config.providers.values()].some((p) => p.models.length > 0);
  return routesNeedModel(config) || rewrites ? "until-model" : "first-chunk";
}

function headerEquals(headers: HeaderMap, name: string, expected: string): boolean {
  const value = headers[name];
  if (value === undefined) return false;
  return (Array.isArray(value) ? value : [String(value)]).some((v) => v.trim() === expected);
}

function routeMatches(route: ResolvedRoute, facts: RequestFacts, estimate: () => number): boolean {
  if (route.modelPattern && (facts.model === undefined || !route.modelPattern.test(facts.model))) return false;
  if (route.path !== undefined && !pathHasPrefix(facts.path, route.path)) return false;
  if (route.header && !route.header.every(([name, value]) => headerEquals(facts.headers, name, value))) return false;
  if (route.when && !whenHolds(route.when, facts.json, estimate)) return false;
  return true;
}

/**
 * A route's conditions as data (records, `explain`, the inspector). A route may match on a
 * credential header (`header: { "x-api-key": "sk-ant-…" }`): every value is shown redacted (§8).
 */
export function routeConditions(route: ResolvedRoute, secrets: KnownSecrets = NO_SECRETS): RouteConditions {
  const conditions: RouteConditions = {};
  if (route.model !== undefined) conditions.model = redact(route.model, secrets);
  if (route.path !== undefined) conditions.path = redact(route.path, secrets);
  if (route.header) conditions.header = Object.fromEntries(route.header.map(([n, v]) => [n, printableHeaderValue(n, v, secrets)]));
  if (route.when) {
    const { toolsPattern: _pattern, ...when } = route.when;
    conditions.when = when;
  }
  return conditions;
}

/** The same conditions as printed text (`model claude-*`, `header x-team: a`, `when thinking`), for the banner, `config` and the route string. */
export function routeConditionTexts(route: ResolvedRoute, secrets: KnownSecrets = NO_SECRETS): string[] {
  const conditions = routeConditions(route, secrets);
  const parts: string[] = [];
  if (conditions.model !== undefined) parts.push(`model ${conditions.model}`);
  if (conditions.path !== undefined) parts.push(`path ${conditions.path}`);
  if (conditions.header) parts.push(...Object.entries(conditions.header).map(([n, v]) => `header ${n}: ${v}`));
  if (route.when) parts.push(`when ${describeWhen(route.when)}`);
  return parts;
}

function describeRoute(route: ResolvedRoute, index: number, secrets: KnownSecrets): string {
  return `routes[${index}] (${routeConditionTexts(route, secrets).join(", ")})`;
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
      rule: { rule: "path-prefix", segment: firstSegment },
    };
  }

  // The estimate reads every text of the body: once per request, and only if a route asks.
  let estimated: number | undefined;
  const estimate = () => (estimated ??= estimateInputTokens(facts.json));
  for (let i = 0; i < config.routes.length; i++) {
    const route = config.routes[i]!;
    if (routeMatches(route, facts, estimate)) {
      const secrets = configSecrets(config);
      const choice: RouteChoice = {
        provider: providers.get(route.provider)!,
        upstreamPath: path,
        matchedBy: describeRoute(route, i, secrets),
        rule: { rule: "routes", index: i, conditions: routeConditions(route, secrets) },
      };
      if (estimated !== undefined) choice.inputTokensEstimate = estimated;
      return choice;
    }
  }
  const builtIn = (provider: ResolvedProvider, name: "anthropic-version header" | "OpenAI API path" | "Anthropic API path"): RouteChoice => {
    const choice: RouteChoice = { provider, upstreamPath: path, matchedBy: `built-in: ${name}`, rule: { rule: "built-in", name } };
    if (estimated !== undefined) choice.inputTokensEstimate = estimated;
    return choice;
  };

  const anthropic = providers.get("anthropic");
  const openai = providers.get("openai");
  if (anthropic && facts.headers["anthropic-version"] !== undefined) return builtIn(anthropic, "anthropic-version header");
  if (openai && isOpenAIPath(path)) return builtIn(openai, "OpenAI API path");
  if (anthropic && isAnthropicPath(path)) return builtIn(anthropic, "Anthropic API path");

  if (config.defaultProvider !== undefined) {
    const choice: RouteChoice = {
      provider: providers.get(config.defaultProvider)!,
      upstreamPath: path,
      matchedBy: "defaultProvider",
      rule: { rule: "defaultProvider" },
    };
    if (estimated !== undefined) choice.inputTokensEstimate = estimated;
    return choice;
  }
  return undefined;
}
