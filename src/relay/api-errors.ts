/**
 * Errors the relay itself makes, in the shape of the client's API (DESIGN §6), so SDKs surface
 * them as ordinary API errors with a message that starts with `llm-relay:`.
 */
import type { ProviderKind } from "../config/schema.js";
import { looksLikeOpenAIRequest } from "../routing/api-paths.js";

export type ApiShape = "anthropic" | "openai";

/** The provider's kind decides; before routing, the path does. */
export function apiShapeFor(kind: ProviderKind | undefined, path: string): ApiShape {
  if (kind !== undefined) return kind === "anthropic" ? "anthropic" : "openai";
  return looksLikeOpenAIRequest(path) ? "openai" : "anthropic";
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
