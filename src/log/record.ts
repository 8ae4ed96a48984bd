/**
 * The request record: one per finished request, the single source for the request line, the
 * `--verbose` decision lines, the `--json` NDJSON and the log file.
 */
import type { Decision } from "../policy/headers.js";
import type { RouteRule } from "../config/route-rule.js";
import type { Usage } from "../relay/usage-tap.js";

export interface RequestRecord {
  type: "request";
  /** ISO time the request arrived. */
  time: string;
  id: number;
  method: string;
  /** Path and query as the client sent them, with any relay token and secret query values redacted. */
  path: string;
  model?: string;
  provider?: string;
  /** The routing rule that chose the provider, as text (`routes[0] (model claude-*haiku*)`). */
  route?: string;
  /** The same rule as data: which kind, and for a config route its index and conditions. */
  rule?: RouteRule;
  /** The model the provider received, when the body had one (differs from `model` when `models` rewrote it). */
  upstreamModel?: string;
  /** The local input-token estimate, when a route's `minInputTokens` needed it. */
  inputTokensEstimate?: number;
  /** Upstream URL (origin and path, query redacted). */
  upstream?: string;
  status: number;
  stream: boolean;
  durationMs: number;
  ttfbMs?: number;
  usage?: Usage;
  /** What went wrong, for relay-made errors and broken upstreams; never holds a secret. */
  error?: string;
  /** What the upstream said when it answered 4xx/5xx (its body's error fields and headers), shortened and redacted. */
  upstreamError?: UpstreamError;
  decisions?: Decision[];
}

/** An upstream's own error answer, as safe to print as the rest of the record. */
export interface UpstreamError {
  /** `rate_limit_error`, `invalid_request_error`, … (the body's `error.type`). */
  type?: string;
  /** OpenAI's `error.code`, when it differs from the type. */
  code?: string;
  /** The body's `error.message`, redacted and shortened to about one line. */
  message?: string;
  /** The response's `request-id` (Anthropic) or `x-request-id` (OpenAI): what the vendor's support asks for. */
  requestId?: string;
  /** The response's `retry-after`, as sent (seconds or an HTTP date). */
  retryAfter?: string;
}
