/**
 * Errors the relay itself makes, in the shape of the client's API (DESIGN §6), so SDKs surface
 * them as ordinary API errors with a message that starts with `llm-relay:`.
 */
import type { ProviderKind } from "../config/schema.js";
import { isAnthropicPath, isOpenAIPath, looksLikeOpenAIRequest } from "../routing/api-paths.js";

export type ApiShape = "anthropic" | "openai";

/** The provider's kind decides; before routing, the path does (`/chat/completions`, missing its `/v1`, included). */
export function apiShapeFor(kind: ProviderKind | undefined, path: string): ApiShape {
  if (kind !== undefined) return kind === "anthropic" ? "anthropic" : "openai";
  return looksLikeOpenAIRequest(path) || isOpenAIPath(`/v1${path}`) ? "openai" : "anthropic";
}

/**
 * The 404 for a request no rule routes. A known API path without its `/v1` is the usual cause: an
 * OpenAI SDK pointed at the relay's bare URL (OPENAI_BASE_URL must end in /v1), or an Anthropic one
 * given a URL that ends in /v1 twice or not at all. `shownPath` is the redacted path; `relayUrl`
 * the URL the client reached the relay at. Pure.
 */
export function noRouteMessage(method: string, path: string, shownPath: string, relayUrl: string): string {
  if (isOpenAIPath(`/v1${path}`)) {
    return (
      `no provider for ${method} ${shownPath}: OpenAI API paths start with /v1 (did you mean /v1${shownPath}?); ` +
      `set OPENAI_BASE_URL to the relay's URL ending in /v1: ${relayUrl}/v1`
    );
  }
  if (isAnthropicPath(`/v1${path}`)) {
    return (
      `no provider for ${method} ${shownPath}: Anthropic API paths start with /v1 (did you mean /v1${shownPath}?); ` +
      `set ANTHROPIC_BASE_URL to the relay's URL without /v1: ${relayUrl}`
    );
  }
  return `no provider for ${method} ${shownPath}: add a route or a defaultProvider to the config`;
}

/** Anthropic's documented error types by status (docs.anthropic.com, "Errors"). */
function anthropicType(status: number): string {
  switch (status) {
    case 400:
    case 405:
      return "invalid_request_error";
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
    case 431:
      return "request_too_large";
    case 408:
    case 504:
      return "timeout_error";
    default:
      return "api_error";
  }
}

function openaiType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status < 500) return "invalid_request_error";
  return "server_error";
}

/** A stable machine-readable code for each kind of relay error. */
export type RelayErrorCode =
  | "no_route"
  | "body_too_large"
  | "headers_too_large"
  | "upstream_unreachable"
  | "upstream_timeout"
  | "upstream_broken"
  | "forbidden_host"
  | "forbidden_origin"
  | "token_required"
  | "method_not_allowed"
  | "loop_detected"
  | "bad_request"
  | "client_timeout"
  | "shutting_down"
  | "provider_unavailable"
  | "not_found";

export function errorBody(shape: ApiShape, status: number, code: RelayErrorCode, message: string): string {
  const text = `llm-relay: ${message}`;
  if (shape === "anthropic") {
    return JSON.stringify({ type: "error", error: { type: anthropicType(status), message: text } });
  }
  return JSON.stringify({ error: { message: text, type: openaiType(status), code } });
}

/** An SSE event that ends a stream the upstream broke after it began (§6). */
export function errorEvent(shape: ApiShape, code: RelayErrorCode, message: string): string {
  return `event: error\ndata: ${errorBody(shape, 502, code, message)}\n\n`;
}
