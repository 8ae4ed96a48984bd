/**
 * One request's plan: which provider, which upstream URL, which headers, and what (if anything)
 * changes in the body. Pure, and the only place these are put together, so the live relay and
 * `explain` cannot disagree. The target (path and query) is policy like the headers (§8):
 * normalised before routing, cleaned for the chosen provider after.
 */
import { configSecrets, type ResolvedConfig, type ResolvedProvider } from "../config/resolve.js";
import { decideHeaders, printableHeaderValue, type Decision, type HeaderPlan } from "../policy/headers.js";
import type { HeaderMap } from "../policy/hop-by-hop.js";
import { redact, type KnownSecrets } from "../policy/redact.js";
import { decideTarget, readTarget, type Target, type TargetRefusal } from "../policy/target.js";
import { chooseModelRewrite, modelRewriteSource, rewrittenLength, type ModelRewrite } from "../routing/model-rewrite.js";
import type { ByteSpan } from "../routing/model-sniffer.js";
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
  /** Where the model's string token sits in the body (from the sniffer), when it was found there. */
  modelSpan?: ByteSpan | undefined;
  /** The parsed JSON body, when some route has `when`. */
  json?: unknown;
  config: ResolvedConfig;
  relayToken?: string | undefined;
  /** More values the relay knows as secrets (the inspector token): redacted in decisions too. */
  extraSecrets?: readonly string[] | undefined;
  via?: string | undefined;
}

/** The secrets a plan redacts: the config's keys and token, the relay token, and any `extra` the relay knows (the inspector token). */
export function planSecrets(config: ResolvedConfig, relayToken: string | undefined, extra: readonly string[] = []): KnownSecrets {
  return configSecrets(config, relayToken, ...extra);
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
  /** The body's model renamed for this provider (its `models`); absent: the body goes unchanged. */
  modelRewrite?: ModelRewrite;
  /** The model name the provider receives (the client's unless rewritten). */
  upstreamModel?: string;
  /**
   * Every decision in one list: the headers', the query's, then the body's (`body.model`). What
   * the request record, `--verbose`, `explain` and the inspector show.
   */
  decisions: Decision[];
  /** Set when the relay answers this request itself instead of forwarding it. */
  relayAnswer?: RelayAnswer;
}

/** The decision row of a model rewrite, next to the header ones. */
export const BODY_MODEL = "body.model";

function declaredLength(headers: HeaderMap): number | undefined {
  const value = headers["content-length"];
  if (value === undefined) return undefined;
  const n = Number(Array.isArray(value) ? value[0] : value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
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
  const secrets = planSecrets(input.config, input.relayToken, input.extraSecrets);
  const target = input.target ?? readTarget(input.path, input.query, input.relayToken, secrets);
  if ("refused" in target) return target;
  const route = routeRequest({ path: target.path, headers: input.headers, model: input.model, json: input.json }, input.config);
  if (!route) return undefined;
  const { provider } = route;
  const upstream = decideTarget(route.upstreamPath, target.query, provider, secrets);
  if ("refused" in upstream) return upstream;
  const rewrite = chooseModelRewrite(input.model, provider.models, provider.name, input.modelSpan);
  const length = declaredLength(input.headers);
  const headers = decideHeaders({
    headers: input.headers,
    provider,
    relayToken: input.relayToken,
    secrets,
    via: input.via,
    ...(rewrite && length !== undefined
      ? { bodyLength: { length: rewrittenLength(length, rewrite), reason: `body rewritten: ${modelRewriteSource(rewrite)}` } }
      : {}),
  });
  const removed = removeQueryParams(upstream.query, provider.queryRemove, provider.name);
  const upstreamPath = `${upstream.path}${removed.query}`;
  const targetDecisions = target.decisions.length === 0 ? upstream.decisions : [...target.decisions, ...upstream.decisions];
  const plan: RequestPlan = {
    route,
    upstreamPath,
    upstreamDisplay: redact(`${provider.origin}${upstreamPath}`, secrets),
    targetDecisions,
    headers,
    query: removed.decisions,
    decisions: [...targetDecisions, ...headers.decisions, ...removed.decisions],
  };
  if (input.model !== undefined) plan.upstreamModel = rewrite?.to ?? input.model;
  if (rewrite) {
    plan.modelRewrite = rewrite;
    plan.decisions = [
      ...plan.decisions,
      // The client's model name is its own text: shown redacted like every other value (a key pasted there).
      { header: BODY_MODEL, action: "rewrite", value: redact(`${rewrite.from} → ${rewrite.to}`, secrets), reason: redact(modelRewriteSource(rewrite), secrets) },
    ];
  }
  const relayAnswer = relayAnswerFor(provider, (input.method ?? "POST").toUpperCase(), route.upstreamPath);
  if (relayAnswer !== undefined) plan.relayAnswer = relayAnswer;
  return plan;
}
