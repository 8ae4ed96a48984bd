/**
 * What the relay tells an onlooker (the inspector's capture store, DESIGN §11) about each
 * exchange, and how it hands the reserved `/_relay/…` paths to someone who serves them. The relay
 * defines these shapes and calls them; it knows nothing of what listens.
 *
 * Every hook is called synchronously on the hot path and must return at once: it may copy what
 * it keeps, never await, never throw into the relay (the relay guards each call anyway).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { RequestRecord } from "../log/record.js";

/** Facts about a request that the record does not carry. */
export interface RequestFacts {
  /** Headers as the client sent them (Node's `rawHeaders` pairs), not yet redacted. */
  rawHeaders: readonly string[];
  /** A subscription OAuth token was forwarded upstream (§5): costs are API-equivalent. */
  oauthForwarded: boolean;
  /** The request target as the client sent it (not yet redacted). */
  target?: string | undefined;
  /** The upstream API shape's provider kind (`anthropic`, `openai`, …). */
  providerKind?: string | undefined;
  /** `performance.now()` when the request arrived (what response chunk times are measured from). */
  startedAt?: number | undefined;
}

export interface RelayObserver {
  /**
   * A request passed the guards and was planned (provider, route, decisions are on the record), or
   * ended before it was planned: refused, or its client left (then called just before `requestEnd`, with its headers and no body).
   */
  requestStart(record: RequestRecord, facts: RequestFacts): void;
  /** A chunk of the request body as relayed upstream (the observer copies what it keeps). */
  requestChunk(record: RequestRecord, chunk: Buffer): void;
  /** The response head as relayed to the client (hop-by-hop headers removed). */
  responseStart(record: RequestRecord, status: number, headers: Readonly<Record<string, string | string[]>>): void;
  /** A chunk of the response body exactly as relayed (before any decoding). */
  responseChunk(record: RequestRecord, chunk: Buffer): void;
  /** The request is over (relayed, refused or failed); the record is final. Called once per reported record. */
  requestEnd(record: RequestRecord): void;
}

/** Whether the relay already checked a relay token on this request. */
export type RelayTokenCheck = "none-configured" | "accepted" | "missing" | "refused";

/** What the server knows when it hands a reserved path over. */
export interface ReservedRequest {
  /** Path below the mount point, token prefix removed (`/_relay/api/requests`). */
  path: string;
  /** `?…` or "". */
  query: string;
  /** The path prefix clients used: `/_t/<token>` or "". */
  mount: string;
  relayToken: RelayTokenCheck;
}

/**
 * Serves `/_relay/…` (except `/_relay/health`, which the relay answers itself). Called after the
 * Host and Origin guards; the token decision is passed in, not enforced, because the handler may
 * accept its own secret as well.
 */
export type ReservedPathHandler = (req: IncomingMessage, res: ServerResponse, request: ReservedRequest) => void;

/** Run one observer hook: an observer's bug must not break the exchange it watches. */
export function guarded(call: () => void): void {
  try {
    call();
  } catch (error) {
    process.emitWarning(`llm-relay: observer failed: ${(error as Error)?.name ?? "Error"}`);
  }
}
