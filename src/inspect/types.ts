/**
 * The inspector's data (DESIGN §11): what the JSON API serves, what the live SSE events carry, and
 * what an HTML snapshot embeds. One contract for the capture store (server side) and the page
 * (browser side); every string in it has passed the §8 redaction before it was stored.
 *
 * The page is served at `/_relay/` (for `exec`, `/_t/<token>/_relay/`) and uses only relative
 * URLs (`api/requests`, `assets/app.js`), so both mount points work unchanged.
 *
 * API (all JSON unless noted; every route needs the inspector secret, §11):
 * - `GET api/requests`            → `RequestList` (newest last)
 * - `GET api/requests/ID`         → `RequestDetail` (404 JSON error when unknown)
 * - `GET api/sessions`            → `SessionList`
 * - `GET api/events`              → `text/event-stream`: `event: request` + `data: RequestSummary`
 *                                   each time a request starts, gets its response head, or ends;
 *                                   `event: session` + `data: SessionUpdate` when totals change:
 *                                   the totals and only the chart point just added (the whole
 *                                   `context` list comes from `api/sessions`, once).
 * - `GET api/sessions/ID.har`     → HAR 1.2 (`application/json`, attachment)
 * - `GET api/sessions/ID.html`    → one self-contained HTML file (`SnapshotData` inlined), attachment
 */
import type { Decision } from "../policy/headers.js";

export type RequestState = "active" | "done";

export interface TokenCounts {
  inputTokens?: number;
  outputTokens?: number;
  cacheReadTokens?: number;
  cacheCreationTokens?: number;
}

/** Estimated cost in US dollars; absent when the model has no known price (never a guess). */
export interface CostEstimate {
  usd: number;
  /** True when a subscription OAuth token paid: the figure is what the API would have charged. */
  apiEquivalent: boolean;
  /** Which price entry was used, e.g. `anthropic claude-sonnet-4-5`. */
  priceRef: string;
}

/** One request as the list shows it; sent again (whole) each time it changes. */
export interface RequestSummary {
  id: number;
  sessionId: string;
  /** ISO time the request arrived. */
  time: string;
  state: RequestState;
  method: string;
  /** Redacted path and query as the client sent them. */
  path: string;
  model?: string;
  /** The model name sent upstream, when the provider's `models` rewrote it. */
  upstreamModel?: string;
  provider?: string;
  /** The rule that chose the provider (e.g. `routes[0] (model claude-*haiku*)`, `built-in: Anthropic API path`). */
  route?: string;
  /** 0 while no response head has arrived. */
  status: number;
  stream: boolean;
  durationMs?: number;
  ttfbMs?: number;
  usage?: TokenCounts;
  /** cacheRead / (input + cacheRead + cacheCreation), 0..1; absent without usage. */
  cacheHitRate?: number;
  cost?: CostEstimate;
  /** An Anthropic OAuth token was withheld from this provider. */
  oauthWithheld?: boolean;
  error?: string;
}

export interface CapturedBody {
  /** Bytes the relay saw (not only what was kept). */
  bytes: number;
  contentType?: string;
  /** Redacted text as kept (decoded from gzip/br/deflate for display when compressed); absent when evicted or binary. */
  text?: string;
  /** Only the first `inspect.maxBodyBytes` were kept. */
  truncated: boolean;
  /** Dropped later to stay within `inspect.maxBytes` (oldest first). */
  evicted: boolean;
  /** `content-encoding` of the bytes relayed, when not identity. */
  encoding?: string;
  /** Why the text is not shown though it was kept: it held a secret that could not be redacted where it sat. */
  withheld?: string;
}

/** One SSE event of a streamed response, with its arrival time. */
export interface StreamEvent {
  /** Milliseconds since the request arrived. */
  t: number;
  event?: string;
  /** Redacted `data:` payload. */
  data: string;
}

export interface ToolCall {
  id?: string;
  name: string;
  /** The tool input as assembled from its JSON deltas (text; may be partial JSON when cut). */
  input: string;
}

/** A decoded response: text, thinking and tool calls assembled from SSE deltas or read from JSON. */
export interface AssembledResponse {
  text: string;
  thinking: string;
  toolCalls: ToolCall[];
  stopReason?: string;
}

export interface RequestDetail extends RequestSummary {
  /** Redacted upstream URL. */
  upstream?: string;
  /** Every header decision of §5 (values already redacted). */
  decisions: Decision[];
  request: {
    /** Headers as the client sent them, redacted, in order. */
    headers: Array<[name: string, value: string]>;
    body?: CapturedBody;
  };
  response?: {
    status: number;
    /** Headers as relayed to the client, redacted. */
    headers: Array<[name: string, value: string]>;
    body?: CapturedBody;
    /** SSE responses: the events with their times (bounded like the body). */
    events?: StreamEvent[];
    assembled?: AssembledResponse;
  };
}

export interface SessionSummary {
  /** `x-claude-code-session-id` when present, else `run-<relay instance>`. */
  id: string;
  firstTime: string;
  lastTime: string;
  requests: number;
  errors: number;
  tokens: Required<TokenCounts>;
  /** Sum of known costs; `partial` when some request had no known price. */
  cost?: { usd: number; apiEquivalent: boolean; partial: boolean };
  /** One point per ended request, in order: its context size, for the chart. */
  context: ContextPoint[];
}

/** A request's context size: input + cache read + cache creation tokens; absent when it reported no usage. */
export interface ContextPoint {
  id: number;
  time: string;
  tokens?: number;
}

/** What a live `session` event carries: the totals, and the point the ended request added (none when only a price arrived). */
export type SessionUpdate = Omit<SessionSummary, "context"> & { point?: ContextPoint };

export interface RequestList {
  requests: RequestSummary[];
  /** Ids whose bodies were evicted to stay within `inspect.maxBytes`. */
  evicted: number[];
  /** Bytes of bodies currently kept, and the bound. */
  capture: { bytes: number; maxBytes: number; maxBodyBytes: number };
}

export interface SessionList {
  sessions: SessionSummary[];
}

/** What an HTML snapshot embeds (`<script type="application/json" id="llm-relay-snapshot">`). */
export interface SnapshotData {
  version: 1;
  generatedAt: string;
  relayVersion: string;
  session: SessionSummary;
  requests: RequestDetail[];
}
