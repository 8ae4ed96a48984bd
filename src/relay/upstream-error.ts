/**
 * What an upstream said when it refused a request (a 4xx/5xx the relay passes through untouched,
 * DESIGN §6), shortened and redacted for the request line and the NDJSON record. The body is read
 * by the usage tap (bounded); this file only picks the fields out and makes them safe to print.
 *
 * Shapes read:
 * - Anthropic: `{"type":"error","error":{"type":"rate_limit_error","message":"…"}}`
 * - OpenAI and most OpenAI-compatible servers: `{"error":{"message":"…","type":"…","code":"…"}}`
 * - gateways that answer `{"error":"…"}` or `{"message":"…"}`
 */
import type { UpstreamError } from "../log/record.js";
import { redact, type KnownSecrets } from "../policy/redact.js";

/** The error fields an upstream body carried, as sent (not yet safe to print). */
export interface UpstreamErrorBody {
  type?: string;
  code?: string;
  message?: string;
}

/** Longest message kept on the record: one terminal line's worth. */
export const MAX_ERROR_MESSAGE_CHARS = 120;

/** What is redacted before shortening: a cut must not fall inside a secret (a half token is not found by its shape). */
const MAX_REDACTED_CHARS = 2000;

function text(value: unknown): string | undefined {
  if (typeof value === "string" && value !== "") return value;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  return undefined;
}

/** The error fields of a parsed JSON body, or undefined when it holds none. Pure. */
export function readUpstreamError(body: unknown): UpstreamErrorBody | undefined {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const record = body as Record<string, unknown>;
  const inner = record.error;
  if (typeof inner === "string") return inner === "" ? undefined : { message: inner };
  if (typeof inner === "object" && inner !== null && !Array.isArray(inner)) {
    const e = inner as Record<string, unknown>;
    const found: UpstreamErrorBody = {};
    const type = text(e.type);
    const code = text(e.code);
    const message = text(e.message);
    if (type !== undefined) found.type = type;
    if (code !== undefined && code !== type) found.code = code;
    if (message !== undefined) found.message = message;
    return Object.keys(found).length > 0 ? found : undefined;
  }
  const message = text(record.message);
  return message === undefined ? undefined : { message };
}

/**
 * Redacted, then shortened to `max` characters on one line. Only the first MAX_REDACTED_CHARS are
 * looked at, cut back to a space so that no token is split before redaction sees it. Pure.
 */
export function safeErrorText(value: string, secrets: KnownSecrets, max = MAX_ERROR_MESSAGE_CHARS): string {
  let head = value;
  if (head.length > MAX_REDACTED_CHARS) {
    const space = head.lastIndexOf(" ", MAX_REDACTED_CHARS);
    head = space > 0 ? head.slice(0, space) : "";
  }
  const oneLine = redact(head, secrets).replace(/\s+/g, " ").trim();
  const shortened = oneLine.length > max ? `${oneLine.slice(0, max - 1).trimEnd()}…` : oneLine;
  return head.length < value.length && !shortened.endsWith("…") ? `${shortened}…` : shortened;
}

/** The record's `upstreamError`: body fields and the response's `request-id`/`retry-after`, all safe to print. */
export function upstreamErrorRecord(
  body: UpstreamErrorBody | undefined,
  head: { requestId?: string | undefined; retryAfter?: string | undefined },
  secrets: KnownSecrets,
): UpstreamError | undefined {
  const out: UpstreamError = {};
  if (body?.type !== undefined) out.type = safeErrorText(body.type, secrets, 60);
  if (body?.code !== undefined) out.code = safeErrorText(body.code, secrets, 60);
  if (body?.message !== undefined) out.message = safeErrorText(body.message, secrets);
  if (head.requestId !== undefined) out.requestId = safeErrorText(head.requestId, secrets, 80);
  if (head.retryAfter !== undefined) out.retryAfter = safeErrorText(head.retryAfter, secrets, 40);
  return Object.keys(out).length > 0 ? out : undefined;
}
