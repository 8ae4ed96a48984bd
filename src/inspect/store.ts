/**
 * The capture store (DESIGN §11): what the relay did, kept in memory for the inspector, fed by
 * the relay's observer hooks. In memory only and bounded: bodies of the oldest requests are
 * evicted first once `inspect.maxBytes` is reached, each body keeps at most `maxBodyBytes`.
 *
 * Nothing is stored before it is redacted (§8): headers, URLs, error texts and bodies pass
 * `redact` with every secret the relay knows (its token, the inspector token, configured
 * keys) plus each credential a client presented, so a key quoted in a prompt is caught too.
 * The raw bytes of an exchange live only as the copy being captured; when the exchange ends they
 * are decoded, redacted and dropped, off the request's own path (`setImmediate`).
 */
import { performance } from "node:perf_hooks";
import { DEFAULT_INSPECT } from "../config/defaults.js";
import type { RequestRecord } from "../log/record.js";
import { CREDENTIAL_HEADERS, classifyCredential } from "../policy/credentials.js";
import { printableHeaderValue } from "../policy/headers.js";
import { knownSecrets, redact, type KnownSecrets } from "../policy/redact.js";
import { redactJson } from "../policy/redact-json.js";
import { estimateCost, loadPriceTable, totalInputTokens, type Cost, type PriceTable, type UsageConvention } from "../pricing/cost.js";
import type { RelayObserver, RequestFacts } from "../relay/observer.js";
import { assembleEvents, assembleJson, parseSse, type ParsedEvent } from "./assemble.js";
import { BodyCapture, decodeForDisplay, isTextual, textOf } from "./body.js";
import type {
  AssembledResponse,
  CapturedBody,
  RequestDetail,
  RequestList,
  RequestSummary,
  SessionList,
  SessionSummary,
  SessionUpdate,
  StreamEvent,
  ContextPoint,
} from "./types.js";


/** Claude Code names its session in every request (the page groups by it). */
export const SESSION_HEADER = "x-claude-code-session-id";

export interface CaptureOptions {
  maxBytes?: number | undefined;
  maxBodyBytes?: number | undefined;
  /** Values to redact wherever they appear (relay token, inspector token, configured keys). */
  secrets: readonly string[];
  /** The session of requests without a session header: `run-<relay instance>`. */
  runSession: string;
  /** Where a provider sends requests (prices are the vendor's at that URL). */
  baseUrlOf: (provider: string) => string | undefined;
  /** The price table; loaded on first need by default (tests pass one in). */
  prices?: (() => Promise<PriceTable>) | undefined;
}

export type StoreEvent = { type: "request"; request: RequestSummary } | { type: "session"; session: SessionUpdate };

interface Entry {
  id: number;
  record: RequestRecord;
  sessionId: string;
  state: "active" | "done";
  /** performance.now() when the request arrived. */
  t0: number;
  convention: UsageConvention;
  oauthForwarded: boolean;
  oauthWithheld: boolean;
  headers: Array<[string, string]>;
  requestBody?: BodyCapture;
  responseBody?: BodyCapture;
  response?: { status: number; headers: Array<[string, string]> };
  shown?: { request?: CapturedBody; response?: CapturedBody; events?: StreamEvent[]; assembled?: AssembledResponse };
  cost?: Cost;
  /** Bytes this entry holds: bodies (captured or shown) plus a fixed share for its metadata. */
  bodyBytes: number;
  metaBytes: number;
  evicted: boolean;
}

interface SessionTotals {
  summary: SessionSummary;
  unpriced: number;
}

/** Requests kept at most, bodies or not (each costs its metadata). */
const MAX_ENTRIES = 10_000;
/** Sessions kept at most (totals and chart points; a client may invent a session per request). */
const MAX_SESSIONS = 1_000;
/** Context-size points kept per session for the chart. */
const MAX_CONTEXT_POINTS = 10_000;
/** Client credentials remembered for redacting bodies (most recent). */
const MAX_SEEN_SECRETS = 64;
/** A fixed estimate of what an entry's record, decisions and summary cost. */
const ENTRY_OVERHEAD = 2048;

function sessionIdOf(rawHeaders: readonly string[], fallback: string, redact: (text: string) => string): string {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === SESSION_HEADER) {
      // It comes from the client and ends up in URLs and file names: a safe, bounded token, and
      // a secret put there is redacted like anywhere else.
      const id = redact(rawHeaders[i + 1]!.trim()).replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 100);
      if (id !== "") return id;
    }
  }
  return fallback;
}

function headerValue(headers: Readonly<Record<string, string | string[]>>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export class CaptureStore implements RelayObserver {
  readonly maxBytes: number;
  readonly maxBodyBytes: number;
  private readonly entries = new Map<number, Entry>();
  /** Entries oldest first; `head` skips those dropped. Bodies before `bodyCursor` are evicted. */
  private order: Entry[] = [];
  private head = 0;
  private bodyCursor = 0;
  private bytes = 0;
  private readonly sessionTotals = new Map<string, SessionTotals>();
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private readonly configured: readonly string[];
  private readonly seen = new Set<string>();
  /** `configured` and `seen` compiled for the redactor; rebuilt only when `seen` changes (compiling costs more than redacting). */
  private known: KnownSecrets | undefined;
  private finishing: Entry[] = [];
  private finishScheduled = false;
  private table: PriceTable | undefined;
  private tableLoading: Promise<void> | undefined;
  private unpricedQueue: Entry[] = [];

  constructor(private readonly options: CaptureOptions) {
    this.maxBytes = options.maxBytes ?? DEFAULT_INSPECT.maxBytes;
    this.maxBodyBytes = Math.min(options.maxBodyBytes ?? DEFAULT_INSPECT.maxBodyBytes, this.maxBytes);
    this.configured = options.secrets.filter((s) => s.length >= 4);
  }

  /** Every change, as it happens; returns the unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listening(): boolean {
    return this.listeners.size > 0;
  }

  // ---- relay hooks -------------------------------------------------------------------------

  requestStart(record: RequestRecord, facts: RequestFacts): void {
    const entry = this.open(record, facts);
    const headers: Array<[string, string]> = [];
    const raw = facts.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      const value = raw[i + 1]!;
      const lower = name.toLowerCase();
      // Each value's printable form is computed once: it decides what to remember and is what gets redacted below.
      const printable = printableHeaderValue(lower, value);
      if (CREDENTIAL_HEADERS.has(lower)) this.remember(classifyCredential(value).token);
      // What the header policy would print redacted is a secret wherever else it turns up (a
      // gateway token in a cookie, quoted in the prompt): remember it, and each cookie's value.
      else if (printable !== value) {
        this.remember(value.trim());
        if (lower === "cookie") for (const part of value.split(";")) this.remember(part.slice(part.indexOf("=") + 1).trim());
      }
      headers.push([name, printable]);
    }
    if (facts.target !== undefined) for (const secret of secretQueryValues(facts.target)) this.remember(secret);
    // Redacted once every credential of this request is known.
    for (const pair of headers) pair[1] = this.redact(pair[1]);
    entry.headers = headers;
    entry.metaBytes += headers.reduce((n, [k, v]) => n + k.length + v.length, 0);
    this.bytes += entry.metaBytes;
    this.emitRequest(entry);
    this.enforceBound();
  }

  requestChunk(record: RequestRecord, chunk: Buffer): void {
    const entry = this.entries.get(record.id);
    if (!entry || entry.evicted) return;
    if (!entry.requestBody) {
      const type = entry.headers.find(([name]) => name.toLowerCase() === "content-type")?.[1];
      const encoding = entry.headers.find(([name]) => name.toLowerCase() === "content-encoding")?.[1];
      entry.requestBody = new BodyCapture(this.maxBodyBytes, type, encoding);
    }
    // The first chunk of a body that is not yet flowing is the whole body the relay read (a Buffer).
    this.addBodyBytes(entry, entry.requestBody.push(chunk, undefined, entry.requestBody.seen === 0 && chunk.length === chunk.buffer.byteLength));
  }

  responseStart(record: RequestRecord, status: number, headers: Readonly<Record<string, string | string[]>>): void {
    const entry = this.entries.get(record.id);
    if (!entry) return;
    const pairs: Array<[string, string]> = [];
    for (const name in headers) {
      const value = headers[name]!;
      for (const one of Array.isArray(value) ? value : [value]) pairs.push([name, this.redact(printableHeaderValue(name, one))]);
    }
    entry.response = { status, headers: pairs };
    const added = pairs.reduce((n, [k, v]) => n + k.length + v.length, 0);
    entry.metaBytes += added;
    this.bytes += added;
    entry.responseBody = new BodyCapture(this.maxBodyBytes, headerValue(headers, "content-type"), nonIdentity(headerValue(headers, "content-encoding")));
    if (entry.evicted) entry.responseBody.evict();
    this.emitRequest(entry);
  }

  responseChunk(record: RequestRecord, chunk: Buffer): void {
    const entry = this.entries.get(record.id);
    if (!entry?.responseBody || entry.evicted) return;
    this.addBodyBytes(entry, entry.responseBody.push(chunk, performance.now() - entry.t0));
  }

  requestEnd(record: RequestRecord): void {
    // Refused before it was planned (401, 404, 413…): it still happened, with no bodies.
    const entry = this.entries.get(record.id) ?? this.open(record, undefined);
    entry.record = record;
    this.finishing.push(entry);
    if (!this.finishScheduled) {
      this.finishScheduled = true;
      setImmediate(() => this.finishPending());
    }
  }

  // ---- reading -----------------------------------------------------------------------------

  list(): RequestList {
    const requests: RequestSummary[] = [];
    const evicted: number[] = [];
    for (let i = this.head; i < this.order.length; i++) {
      const entry = this.order[i]!;
      requests.push(this.summaryOf(entry));
      if (entry.evicted) evicted.push(entry.id);
    }
    return { requests, evicted, capture: { bytes: this.bytes, maxBytes: this.maxBytes, maxBodyBytes: this.maxBodyBytes } };
  }

  detail(id: number): RequestDetail | undefined {
    const entry = this.entries.get(id);
    return entry ? this.detailOf(entry) : undefined;
  }

  sessions(): SessionList {
    return { sessions: [...this.sessionTotals.values()].map((s) => structuredClone(s.summary)) };
  }

  session(id: string): { summary: SessionSummary; requests: RequestDetail[] } | undefined {
    const totals = this.sessionTotals.get(id);
    if (!totals) return undefined;
    const requests: RequestDetail[] = [];
    for (let i = this.head; i < this.order.length; i++) {
      const entry = this.order[i]!;
      if (entry.sessionId === id) requests.push(this.detailOf(entry));
    }
    return { summary: structuredClone(totals.summary), requests };
  }

  /** Resolves once every ended request has been processed (tests, exports). */
  async settled(): Promise<void> {
    while (this.finishScheduled || this.tableLoading) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.tableLoading) await this.tableLoading;
    }
  }

  /** The bytes held now (bodies and metadata), never above `maxBytes` for long. */
  get heldBytes(): number {
    return this.bytes;
  }

  // ---- internals ---------------------------------------------------------------------------

  private open(record: RequestRecord, facts: RequestFacts | undefined): Entry {
    const arrived = performance.now() - Math.max(0, Date.now() - Date.parse(record.time));
    const decisions = record.decisions ?? [];
    const entry: Entry = {
      id: record.id,
      record,
      sessionId: facts ? sessionIdOf(facts.rawHeaders, this.options.runSession, (text) => this.redact(text)) : this.options.runSession,
      state: "active",
      t0: arrived,
      convention: facts?.providerKind === "openai" || facts?.providerKind === "generic" ? "openai" : "anthropic",
      oauthForwarded: facts?.oauthForwarded ?? false,
      oauthWithheld: decisions.some((d) => d.action === "withhold" && d.value.includes("sk-ant-oat")),
      headers: [],
      bodyBytes: 0,
      metaBytes: ENTRY_OVERHEAD,
      evicted: false,
    };
    if (!facts) this.bytes += entry.metaBytes;
    this.entries.set(entry.id, entry);
    this.order.push(entry);
    this.sessionFor(entry);
    return entry;
  }

  private remember(token: string): void {
    if (token.length < 8 || this.seen.has(token)) return;
    if (this.seen.size >= MAX_SEEN_SECRETS) this.seen.delete(this.seen.values().next().value!);
    this.seen.add(token);
    this.known = undefined;
  }

  private redact(text: string): string {
    this.known ??= knownSecrets([...this.configured, ...this.seen]);
    return redact(text, this.known);
  }

  private addBodyBytes(entry: Entry, n: number): void {
    if (n === 0) return;
    entry.bodyBytes += n;
    this.bytes += n;
    if (this.bytes > this.maxBytes) this.enforceBound();
  }

  /** Evict bodies oldest first, then whole entries, until the bound holds. */
  private enforceBound(): void {
    while (this.order.length - this.head > MAX_ENTRIES) this.dropOldest();
    while (this.bytes > this.maxBytes) {
      if (this.bodyCursor < this.head) this.bodyCursor = this.head;
      if (this.bodyCursor < this.order.length) {
        this.evictBodies(this.order[this.bodyCursor++]!);
      } else if (this.order.length - this.head > 1) {
        this.dropOldest();
      } else {
        break;
      }
    }
  }

  private evictBodies(entry: Entry): void {
    const held = entry.bodyBytes;
    entry.requestBody?.evict();
    entry.responseBody?.evict();
    const shown = entry.shown;
    if (shown) {
      for (const body of [shown.request, shown.response]) {
        if (!body) continue;
        delete body.text;
        body.evicted = true;
      }
      delete shown.events;
      delete shown.assembled;
    }
    entry.bodyBytes = 0;
    this.bytes -= held;
    if (held > 0 || entry.state === "active" || entry.requestBody || entry.responseBody) entry.evicted = true;
  }

  private dropOldest(): void {
    const entry = this.order[this.head]!;
    this.evictBodies(entry);
    this.bytes -= entry.metaBytes;
    this.entries.delete(entry.id);
    this.order[this.head++] = undefined as unknown as Entry;
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.bodyCursor = Math.max(0, this.bodyCursor - this.head);
      this.head = 0;
    }
  }

  private finishPending(): void {
    this.finishScheduled = false;
    const batch = this.finishing;
    this.finishing = [];
    for (const entry of batch) {
      entry.state = "done";
      this.show(entry);
      this.price(entry);
      const point = this.countInSession(entry);
      this.emitRequest(entry);
      this.emitSession(entry.sessionId, point);
    }
    this.enforceBound();
  }

  /**
   * Decode, redact and parse what was captured; the raw copies are dropped. What is shown
   * assembled (text, thinking, tool calls) is assembled from the raw events and then redacted,
   * so a secret the model streamed in small pieces is caught whole; when the raw events do not
   * redact to the same (the pieces each looked harmless), the raw text and events are withheld.
   */
  private show(entry: Entry): void {
    const shown: NonNullable<Entry["shown"]> = {};
    let bytes = 0;
    if (entry.requestBody) {
      const raw = this.displayText(entry.requestBody);
      const text = raw === undefined ? undefined : this.redactBody(raw);
      shown.request = entry.requestBody.describe(text);
      if (raw !== undefined && text === undefined) shown.request.withheld = WITHHELD_ENCODED;
      bytes += text?.length ?? 0;
    }
    const body = entry.responseBody;
    if (body) {
      const rawText = this.displayText(body);
      let text = rawText === undefined ? undefined : this.redactBody(rawText);
      let withheld = rawText !== undefined && text === undefined ? WITHHELD_ENCODED : undefined;
      if (rawText !== undefined) {
        if (entry.record.stream) {
          const rawEvents = parseSse(rawText);
          const assembled = this.redactAssembled(assembleEvents(rawEvents));
          shown.assembled = assembled;
          if (text !== undefined) {
            const events = streamEvents(rawText, rawEvents, text, body.encoding === undefined ? body.arrivals : [], entry.record.durationMs);
            if (sameAssembly(assembleEvents(events), assembled)) {
              shown.events = events;
              bytes += events.reduce((n, e) => n + e.data.length + (e.event?.length ?? 0) + 16, 0);
            } else {
              text = undefined;
              withheld = WITHHELD_SPLIT;
            }
          }
        } else {
          const assembled = assembleJson(rawText);
          if (assembled) shown.assembled = this.redactAssembled(assembled);
        }
        if (shown.assembled) bytes += shown.assembled.text.length + shown.assembled.thinking.length;
      }
      shown.response = body.describe(text);
      if (withheld !== undefined) shown.response.withheld = withheld;
      bytes += text?.length ?? 0;
    }
    entry.shown = shown;
    this.bytes += bytes - entry.bodyBytes;
    entry.bodyBytes = bytes;
    if (entry.evicted) this.evictBodies(entry);
  }

  /** The raw text of a capture, decoded for display (still unredacted). */
  private displayText(capture: BodyCapture): string | undefined {
    const raw = capture.take();
    if (raw === undefined || !isTextual(capture.contentType)) return undefined;
    const decoded = decodeForDisplay(raw, capture.encoding, this.maxBodyBytes);
    if (!decoded) return undefined;
    return textOf(decoded.bytes, capture.truncated || decoded.cut);
  }

  /** A body as the page and exports show it: JSON escapes cannot hide a secret either. */
  private redactBody(text: string): string | undefined {
    this.known ??= knownSecrets([...this.configured, ...this.seen]);
    return redactJson(text, this.known);
  }

  private redactAssembled(a: AssembledResponse): AssembledResponse {
    const out: AssembledResponse = {
      text: this.redact(a.text),
      thinking: this.redact(a.thinking),
      toolCalls: a.toolCalls.map((call) => {
        const shown = { ...call, input: this.redactBody(call.input) ?? `[withheld: ${WITHHELD_ENCODED}]` };
        if (call.id !== undefined) shown.id = this.redact(call.id);
        if (call.name !== undefined) shown.name = this.redact(call.name);
        return shown;
      }),
    };
    if (a.stopReason !== undefined) out.stopReason = this.redact(a.stopReason);
    return out;
  }

  private price(entry: Entry): void {
    const { record } = entry;
    if (!record.usage || record.provider === undefined) return;
    if (!this.table) {
      this.unpricedQueue.push(entry);
      this.tableLoading ??= (this.options.prices ?? loadPriceTable)()
        .then((table) => {
          this.table = table;
          const queued = this.unpricedQueue;
          this.unpricedQueue = [];
          for (const waiting of queued) {
            this.price(waiting);
            const totals = this.sessionTotals.get(waiting.sessionId);
            if (!totals) continue;
            if (waiting.cost) this.addCost(totals, waiting.cost);
            else {
              totals.unpriced++;
              this.markPartial(totals);
            }
            this.emitRequest(waiting);
            this.emitSession(waiting.sessionId);
          }
        })
        .catch(() => {
          // No price table, no prices: costs stay absent, never guessed.
          this.unpricedQueue = [];
        })
        .finally(() => {
          this.tableLoading = undefined;
        });
      return;
    }
    const baseUrl = this.options.baseUrlOf(record.provider);
    if (baseUrl === undefined) return;
    const cost = estimateCost(this.table, {
      model: record.model,
      baseUrl,
      usage: record.usage,
      usageConvention: entry.convention,
      apiEquivalent: entry.oauthForwarded,
    });
    if (cost) entry.cost = cost;
  }

  private sessionFor(entry: Entry): SessionTotals {
    let totals = this.sessionTotals.get(entry.sessionId);
    if (!totals) {
      totals = {
        summary: {
          id: entry.sessionId,
          firstTime: entry.record.time,
          lastTime: entry.record.time,
          requests: 0,
          errors: 0,
          tokens: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 },
          context: [],
        },
        unpriced: 0,
      };
      this.sessionTotals.set(entry.sessionId, totals);
      // Session ids come from clients: the table is bounded like the rest (the one idle longest).
      if (this.sessionTotals.size > MAX_SESSIONS) this.sessionTotals.delete(this.sessionTotals.keys().next().value!);
    }
    return totals;
  }

  /** Adds an ended request to its session's totals; returns its chart point. */
  private countInSession(entry: Entry): ContextPoint {
    const totals = this.sessionFor(entry);
    // Most recently active last: the bound drops the session idle longest.
    this.sessionTotals.delete(entry.sessionId);
    this.sessionTotals.set(entry.sessionId, totals);
    const s = totals.summary;
    const { record } = entry;
    s.requests++;
    if (record.status >= 400 || record.error !== undefined) s.errors++;
    if (record.time > s.lastTime) s.lastTime = record.time;
    const u = record.usage;
    if (u) {
      s.tokens.inputTokens += u.inputTokens ?? 0;
      s.tokens.outputTokens += u.outputTokens ?? 0;
      s.tokens.cacheReadTokens += u.cacheReadTokens ?? 0;
      s.tokens.cacheCreationTokens += u.cacheCreationTokens ?? 0;
      if (entry.cost) this.addCost(totals, entry.cost);
      else if (this.table) {
        totals.unpriced++;
        this.markPartial(totals);
      }
    }
    const point: ContextPoint = { id: entry.id, time: record.time };
    if (u) point.tokens = totalInputTokens(u, entry.convention);
    if (s.context.length >= MAX_CONTEXT_POINTS) s.context.shift();
    s.context.push(point);
    return point;
  }

  private addCost(totals: SessionTotals, cost: Cost): void {
    const previous = totals.summary.cost;
    totals.summary.cost = {
      usd: (previous?.usd ?? 0) + cost.usd,
      apiEquivalent: (previous?.apiEquivalent ?? false) || cost.apiEquivalent,
      partial: totals.unpriced > 0,
    };
  }

  private markPartial(totals: SessionTotals): void {
    if (totals.summary.cost) totals.summary.cost.partial = true;
  }

  private summaryOf(entry: Entry): RequestSummary {
    const { record } = entry;
    const summary: RequestSummary = {
      id: entry.id,
      sessionId: entry.sessionId,
      time: record.time,
      state: entry.state,
      method: record.method,
      path: this.redact(record.path),
      status: record.status,
      stream: record.stream,
    };
    if (record.model !== undefined) summary.model = this.redact(record.model);
    if (record.provider !== undefined) summary.provider = record.provider;
    if (record.route !== undefined) summary.route = record.route;
    if (entry.state === "done") summary.durationMs = record.durationMs;
    if (record.ttfbMs !== undefined) summary.ttfbMs = record.ttfbMs;
    if (record.usage) {
      summary.usage = { ...record.usage };
      const total = totalInputTokens(record.usage, entry.convention);
      summary.cacheHitRate = total > 0 ? (record.usage.cacheReadTokens ?? 0) / total : 0;
    }
    if (entry.cost) summary.cost = { ...entry.cost };
    if (entry.oauthWithheld) summary.oauthWithheld = true;
    if (record.error !== undefined) summary.error = this.redact(record.error);
    return summary;
  }

  private detailOf(entry: Entry): RequestDetail {
    const detail: RequestDetail = {
      ...this.summaryOf(entry),
      decisions: (entry.record.decisions ?? []).map((d) => ({ ...d, value: this.redact(d.value) })),
      request: { headers: entry.headers.map(([k, v]) => [k, v]) },
    };
    if (entry.record.upstream !== undefined) detail.upstream = this.redact(entry.record.upstream);
    const shown = entry.shown;
    const pendingBody = (capture: BodyCapture | undefined) => capture?.describe(undefined);
    const requestBody = shown?.request ?? pendingBody(entry.requestBody);
    if (requestBody) detail.request.body = requestBody;
    if (entry.response) {
      const response: NonNullable<RequestDetail["response"]> = {
        status: entry.response.status,
        headers: entry.response.headers.map(([k, v]) => [k, v]),
      };
      const body = shown?.response ?? pendingBody(entry.responseBody);
      if (body) response.body = body;
      if (shown?.events) response.events = shown.events;
      if (shown?.assembled) response.assembled = shown.assembled;
      detail.response = response;
    }
    return detail;
  }

  private emitRequest(entry: Entry): void {
    if (this.listeners.size === 0) return;
    const event: StoreEvent = { type: "request", request: this.summaryOf(entry) };
    for (const listener of this.listeners) listener(event);
  }

  private emitSession(id: string, point?: ContextPoint): void {
    if (this.listeners.size === 0) return;
    const totals = this.sessionTotals.get(id);
    if (!totals) return;
    // Only the new point: resending the whole context list made each event grow with the session.
    const { context: _all, ...rest } = totals.summary;
    const session: SessionUpdate = structuredClone(rest);
    if (point) session.point = { ...point };
    const event: StoreEvent = { type: "session", session };
    for (const listener of this.listeners) listener(event);
  }
}

const WITHHELD_ENCODED = "it holds a secret in an encoding that cannot be redacted in place";
const WITHHELD_SPLIT = "a secret was streamed in pieces across events; the assembled view shows it redacted";

/** Whether two assemblies show the same text, thinking and tool calls. */
function sameAssembly(a: AssembledResponse, b: AssembledResponse): boolean {
  return (
    a.text === b.text &&
    a.thinking === b.thinking &&
    a.toolCalls.length === b.toolCalls.length &&
    a.toolCalls.every((call, i) => call.input === b.toolCalls[i]!.input && call.name === b.toolCalls[i]!.name && call.id === b.toolCalls[i]!.id)
  );
}

/** Values of query parameters the URL redaction treats as secret (`?key=`, `?api_key=`…). */
function secretQueryValues(target: string): string[] {
  const q = target.indexOf("?");
  if (q === -1) return [];
  // A client sends the same target on every request (`/v1/messages?beta=true`): parsed once.
  const known = queryValuesSeen.get(target);
  if (known !== undefined) return known;
  const values = parseSecretQueryValues(target, q);
  if (target.length <= 512) {
    if (queryValuesSeen.size >= 256) queryValuesSeen.clear();
    queryValuesSeen.set(target, values);
  }
  return values;
}

const queryValuesSeen = new Map<string, string[]>();

function parseSecretQueryValues(target: string, q: number): string[] {
  const values: string[] = [];
  for (const [name, value] of new URLSearchParams(target.slice(q + 1))) {
    if (value !== "" && redact(`/?${name}=${encodeURIComponent(value)}`) !== `/?${name}=${encodeURIComponent(value)}`) values.push(value);
  }
  return values;
}

function nonIdentity(encoding: string | undefined): string | undefined {
  const coding = encoding?.trim().toLowerCase();
  return coding === undefined || coding === "" || coding === "identity" ? undefined : coding;
}

/**
 * The events of a streamed response with their arrival times: offsets come from the raw text
 * (matched against the byte offsets at which chunks arrived), data from the redacted text
 * (redaction never adds or removes a line, so the two parse into the same events).
 */
function streamEvents(rawText: string, raw: readonly ParsedEvent[], redacted: string, arrivals: ReadonlyArray<[number, number]>, endMs: number): StreamEvent[] {
  const shown = parseSse(redacted);
  const events: StreamEvent[] = [];
  let byteEnd = 0;
  let previous = 0;
  let chunk = 0;
  for (let i = 0; i < shown.length; i++) {
    const at = raw[i]?.end ?? rawText.length;
    byteEnd += Buffer.byteLength(rawText.slice(previous, at));
    previous = at;
    while (chunk < arrivals.length && arrivals[chunk]![1] < byteEnd) chunk++;
    const t = arrivals[chunk]?.[0] ?? endMs;
    const event: StreamEvent = { t: Math.round(t * 100) / 100, data: shown[i]!.data };
    if (shown[i]!.event !== undefined) event.event = shown[i]!.event!;
    events.push(event);
  }
  return events;
}
