/**
 * The capture store (DESIGN §11): what the relay did, kept in memory for the inspector, fed by
 * the relay's observer hooks. In memory only and bounded: bodies of the oldest requests are
 * evicted first once `inspect.maxBytes` is reached, each body keeps at most `maxBodyBytes`.
 *
 * Nothing is stored before it is redacted (§8): headers, URLs, error texts and bodies pass
 * `redact` with every secret the relay knows (its token, the inspector token, configured
 * keys) plus each credential a client presented, so a key quoted in a prompt is caught too.
 * The raw exchange lives only in the hook calls waiting to be worked out (at most 50 ms, 256
 * calls or 1 MiB of body bytes; every reader works them out first) and, for a request that runs,
 * in the copy being captured; when it ends it is decoded, redacted and dropped, and a request
 * opened while it runs is redacted on the fly, never stored raw.
 *
 * Cheap per request, because the relay's throughput pays for it: the hooks only note their calls,
 * which are worked out in batches with code and data warm; what is kept of an ended request is
 * small and mostly shared with the requests before it (a client repeats its headers, so the same
 * header list, its redacted values and its header decisions are shared, per set of known secrets),
 * and a body that needed no redaction is kept as bytes outside the JS heap. Retained objects, not
 * the work, were much of the cost: the garbage collector copies each of them until it is old.
 */
import { performance } from "node:perf_hooks";
import { DEFAULT_INSPECT } from "../config/defaults.js";
import type { RequestRecord } from "../log/record.js";
import type { Decision } from "../policy/headers.js";
import { CREDENTIAL_HEADERS, classifyCredential } from "../policy/credentials.js";
import { printableHeaderValue } from "../policy/headers.js";
import { knownSecrets, redact, redactCutTail, type KnownSecrets } from "../policy/redact.js";
import { redactJson } from "../policy/redact-json.js";
import { estimateCost, loadPriceTable, totalInputTokens, type Cost, type PriceTable, type UsageConvention } from "../pricing/cost.js";
import type { RelayObserver, RequestFacts } from "../relay/observer.js";
import { assembleEvents, assembleJson, parseSse, type ParsedEvent } from "./assemble.js";
import { BodyBytes, BodyCapture, decodeForDisplay, isStandalone, isTextual, textOf, type KeptBytes } from "./body.js";
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
  /**
   * A record's path as shown, from the relay's (already redacted) path: `exec` drops its session's
   * own `/_t/<token>` prefix, which is its plumbing, not the client's request.
   */
  showPath?: ((path: string) => string) | undefined;
}

export type StoreEvent = { type: "request"; request: RequestSummary } | { type: "session"; session: SessionUpdate };

interface Entry {
  id: number;
  /** The relay's record while the request runs; once it ended, a compact copy (see `compactRecord`). */
  record: RequestRecord;
  sessionId: string;
  state: "active" | "done";
  /** performance.now() when the request arrived. */
  t0: number;
  convention: UsageConvention;
  oauthForwarded: boolean;
  oauthWithheld: boolean;
  /** Redacted request headers as flat name, value pairs (one array, strings shared with other requests). */
  headers?: string[];
  /** The request body's content type and coding, as its headers said. */
  bodyType?: string | undefined;
  bodyEncoding?: string | undefined;
  /** The bodies being captured, until the request ends and they are shown (`shown`). */
  requestBody?: BodyCapture | undefined;
  responseBody?: BodyCapture | undefined;
  /** The response head: as relayed until the request ends, then redacted flat pairs. */
  response?: { status: number; rawHeaders?: Readonly<Record<string, string | string[]>> | undefined; headers?: string[] };
  shown?: {
    request?: CapturedBody;
    response?: CapturedBody;
    events?: StreamEvent[];
    assembled?: AssembledResponse;
    /** A JSON response that held nothing to redact: assembled from its stored text when read (same result, no work per request). */
    assembleOnRead?: boolean;
    /**
     * A body's text when redacting it changed nothing: its UTF-8 bytes, packed outside the JS heap
     * (see `BodyBytes`), decoded when read. The collector copies a string until it is old; these
     * it never moves.
     */
    requestBytes?: KeptBytes | undefined;
    responseBytes?: KeptBytes | undefined;
  };
  cost?: Cost;
  /** The credentials its request presented (shared with its header list): its bodies are redacted with them. */
  taught?: readonly string[] | undefined;
  /** Bytes this entry holds: bodies (captured or shown) plus a fixed share for its metadata. */
  bodyBytes: number;
  metaBytes: number;
  evicted: boolean;
}

interface SessionTotals {
  summary: SessionSummary;
  unpriced: number;
}

/** Kinds of noted hook calls. */
const START = 0;
const REQUEST_CHUNK = 1;
const RESPONSE_START = 2;
const RESPONSE_CHUNK = 3;
const END = 4;
/** Noted calls wait for at most this many (a request makes four or five)… */
const PENDING_CALLS = 256;
/** …or these many body bytes, copied… */
const PENDING_BYTES = 1024 * 1024;
/** …or this long (ms). */
const PENDING_MS = 50;
/** A chunk larger than this is worked out at once rather than left to wait. */
const PENDING_CHUNK = 16 * 1024;

/** Requests kept at most, bodies or not (each costs its metadata). */
const MAX_ENTRIES = 10_000;
/** Sessions kept at most (totals and chart points; a client may invent a session per request). */
const MAX_SESSIONS = 1_000;
/** Context-size points kept per session for the chart. */
const MAX_CONTEXT_POINTS = 10_000;
/** Client credentials remembered for redacting bodies (most recent). */
const MAX_SEEN_SECRETS = 64;
/** Secrets one request's headers may add to those remembered. */
const MAX_LEARNED_PER_REQUEST = 8;
/** A fixed estimate of what an entry's record, decisions and summary cost. */
const ENTRY_OVERHEAD = 2048;
/** Header values remembered with their redacted form (a client repeats most headers on every request). */
const MAX_MEMO = 2048;

/** The value of a header in Node's `rawHeaders` pairs (names in any case), or undefined. */
function rawHeader(rawHeaders: readonly string[], lowerName: string): string | undefined {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === lowerName.length && (name === lowerName || name.toLowerCase() === lowerName)) return rawHeaders[i + 1];
  }
  return undefined;
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
  /** The one last in `seen` (remembered again, it stays where it is). */
  private newestSeen: string | undefined;
  /** `configured` and `seen` compiled for the redactor; rebuilt only when `seen` changes (compiling costs more than redacting). */
  private known: KnownSecrets | undefined;
  /** Bumped whenever the known secrets change (what was redacted before is worked out afresh). */
  private generation = 0;
  /** Redacted header values by name, then raw value, for the current known secrets. */
  private readonly memo = new Map<string, Map<string, MemoValue> & { name: string }>();
  private memoSize = 0;
  /** Shared decisions by value (see `sharedDecision`), and the last request's list. */
  private readonly decisionMemo = new Map<string, Decision[]>();
  private lastDecisions: Decision[] | undefined;
  /** The last request's and the last response's headers, raw and as kept (see `redactHeaders`). */
  private lastRequestHead: HeadMemo | undefined;
  private lastResponseHead: HeadMemo | undefined;
  /** One copy of strings that repeat (paths, models, upstream URLs): see `intern`. */
  private readonly strings = new Map<string, string>();
  /** While a request's own secrets are in use: the secrets to redact with instead of `known` (see `withSecrets`). */
  private showing: KnownSecrets | undefined;
  /**
   * Entries the bound dropped while their request ran, by the relay's record (found again at its
   * end, so it comes back as nothing new). Rare, so the relay's records are never marked instead.
   */
  private readonly droppedRunning = new WeakMap<RequestRecord, Entry>();
  /** Where clean bodies' bytes are packed. */
  private readonly bodyBytes: BodyBytes;
  /** Session ids by the raw header value, for the current known secrets. */
  private readonly sessionIds = new Map<string, string>();
  /** Hook calls not yet replayed, four slots each (kind, record, two arguments): see `drain`. */
  private pending: unknown[] = [];
  private pendingBytes = 0;
  private drainTimer: NodeJS.Timeout | undefined;
  private drainSoon = false;
  private draining = false;
  private table: PriceTable | undefined;
  private tableLoading: Promise<void> | undefined;
  private unpricedQueue: Entry[] = [];
  /** The session that ended a request last (already last in `sessionTotals`). */
  private lastActive: SessionTotals | undefined;

  constructor(private readonly options: CaptureOptions) {
    this.maxBytes = options.maxBytes ?? DEFAULT_INSPECT.maxBytes;
    this.maxBodyBytes = Math.min(options.maxBodyBytes ?? DEFAULT_INSPECT.maxBodyBytes, this.maxBytes);
    this.configured = options.secrets.filter((s) => s.length >= 4);
    this.bodyBytes = new BodyBytes(BodyBytes.slabSizeFor(this.maxBytes));
  }

  /** Every change, as it happens; returns the unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    // What happened before it listened is read with `list()`, not announced to it.
    this.drain();
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get listening(): boolean {
    return this.listeners.size > 0;
  }

  // ---- relay hooks -------------------------------------------------------------------------
  //
  // Each hook only notes the call (references, and a copy of a stream's small chunks); the calls
  // are replayed in a batch (`drain`), as the relay goes on: a batch runs with its code and data
  // warm, where a call between two of the relay's own steps ran cold, at two to three times the
  // cost. Every reader drains first, so nothing is read that was not redacted, and what waits is
  // bounded (PENDING_CALLS, PENDING_BYTES, PENDING_MS); with a page open it is drained at once.

  requestStart(record: RequestRecord, facts: RequestFacts): void {
    this.note(START, record, facts, undefined);
  }

  requestChunk(record: RequestRecord, chunk: Buffer): void {
    this.note(REQUEST_CHUNK, record, ownedCopy(chunk), undefined, chunk.length);
  }

  responseStart(record: RequestRecord, status: number, headers: Readonly<Record<string, string | string[]>>): void {
    this.note(RESPONSE_START, record, status, headers);
  }

  responseChunk(record: RequestRecord, chunk: Buffer): void {
    this.note(RESPONSE_CHUNK, record, ownedCopy(chunk), performance.now(), chunk.length);
  }

  requestEnd(record: RequestRecord): void {
    this.note(END, record, undefined, undefined);
  }

  /** `bytes`: the body bytes the call carries (a large chunk is worked out at once rather than left to wait). */
  private note(kind: number, record: RequestRecord, a: unknown, b: unknown, bytes = 0): void {
    this.pending.push(kind, record, a, b);
    this.pendingBytes += bytes;
    if (this.pending.length >= PENDING_CALLS * 4 || this.pendingBytes > PENDING_BYTES || bytes > PENDING_CHUNK) this.drain();
    else if (this.listeners.size > 0) {
      if (!this.drainSoon) {
        this.drainSoon = true;
        setImmediate(this.drainNow);
      }
    } else this.drainTimer ??= setTimeout(this.drainNow, PENDING_MS).unref();
  }

  private readonly drainNow = () => this.drain();

  /** Replay the noted calls, in order, then finish the requests that ended. */
  private drain(): void {
    if (this.draining) return;
    if (this.drainTimer !== undefined) {
      clearTimeout(this.drainTimer);
      this.drainTimer = undefined;
    }
    this.drainSoon = false;
    this.draining = true;
    try {
      // A hook called while replaying (none today) lands in a fresh list, replayed after.
      while (this.pending.length > 0) {
        const calls = this.pending;
        this.pending = [];
        this.pendingBytes = 0;
        for (let i = 0; i < calls.length; i += 4) {
          // Replayed off the relay's own guard (a timer, a reader): one call's bug must not take
          // the relay down, nor the calls after it.
          try {
            this.replay(calls, i);
          } catch (error) {
            process.emitWarning(`llm-relay: capture failed: ${(error as Error)?.name ?? "Error"}`);
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private replay(calls: unknown[], i: number): void {
    const record = calls[i + 1] as RequestRecord;
    switch (calls[i]) {
      case START:
        return this.onRequestStart(record, calls[i + 2] as RequestFacts);
      case REQUEST_CHUNK:
        return this.onRequestChunk(record, calls[i + 2] as Buffer);
      case RESPONSE_START:
        return this.onResponseStart(record, calls[i + 2] as number, calls[i + 3] as Readonly<Record<string, string | string[]>>);
      case RESPONSE_CHUNK:
        return this.onResponseChunk(record, calls[i + 2] as Buffer, calls[i + 3] as number);
      default:
        return this.onRequestEnd(record);
    }
  }

  private onRequestStart(record: RequestRecord, facts: RequestFacts): void {
    // What the client presented is learned before anything of this request is kept or sent (its
    // session id, its path in the live feed), and the headers are stored redacted. Cheap: a client
    // repeats its headers, and a value seen before costs two lookups.
    // At most MAX_LEARNED_PER_REQUEST of them, as of its headers: one request cannot push out every other client's key.
    const fromQuery = facts.target === undefined ? NONE : secretQueryValues(facts.target).slice(0, MAX_LEARNED_PER_REQUEST);
    for (const secret of fromQuery) this.remember(secret);
    const head = this.headOf(facts.rawHeaders, true);
    // What the list gives, worked out once per list (and per set of known secrets, like the list).
    // The body's type and coding are the client's text, shown with its body: redacted like its headers.
    const derived = (head.derived ??= this.withOwnSecrets(head.taught, () => ({
      sessionId: this.sessionIdOf(facts.rawHeaders),
      bodyType: this.redactOptional(rawHeader(facts.rawHeaders, "content-type")),
      bodyEncoding: this.redactOptional(nonIdentity(rawHeader(facts.rawHeaders, "content-encoding"))),
      bytes: pairBytes(head.out),
    })));
    const entry = this.open(record, facts, derived.sessionId);
    entry.headers = head.out;
    // Its own credentials redact its bodies however many others come before it ends.
    entry.taught = fromQuery.length === 0 ? head.taught : [...fromQuery, ...head.taught];
    entry.bodyType = derived.bodyType;
    entry.bodyEncoding = derived.bodyEncoding;
    this.addMetaBytes(entry, derived.bytes);
    this.emitRequest(entry);
    this.enforceBound();
  }

  private onRequestChunk(record: RequestRecord, chunk: Buffer): void {
    const entry = this.entries.get(record.id);
    if (!entry) return;
    if (entry.requestBody === undefined) {
      entry.requestBody = new BodyCapture(this.maxBodyBytes, entry.bodyType, entry.bodyEncoding);
      // Evicted before its body came (the bound, at its start): the body is still counted and shown evicted.
      if (entry.evicted) entry.requestBody.evict();
    }
    this.addBodyBytes(entry, entry.requestBody.push(chunk, undefined, true));
  }

  private onResponseStart(record: RequestRecord, status: number, headers: Readonly<Record<string, string | string[]>>): void {
    const entry = this.entries.get(record.id);
    if (!entry) return;
    // The relay's own object, never changed after it is relayed: redacted when the request ends.
    entry.response = { status, rawHeaders: headers, headers: undefined };
    entry.responseBody = new BodyCapture(
      this.maxBodyBytes,
      this.redactOptional(headerValue(headers, "content-type")),
      this.redactOptional(nonIdentity(headerValue(headers, "content-encoding"))),
    );
    if (entry.evicted) entry.responseBody.evict();
    this.emitRequest(entry);
  }

  private onResponseChunk(record: RequestRecord, chunk: Buffer, t: number): void {
    const entry = this.entries.get(record.id);
    if (!entry?.responseBody) return;
    // An evicted capture counts what it sees and keeps nothing.
    this.addBodyBytes(entry, entry.responseBody.push(chunk, t - entry.t0, true));
  }

  private onRequestEnd(record: RequestRecord): void {
    // Dropped by the bound while it ran: it still counts in its session, nothing of it comes back.
    // Ended with no start (a relay that reports none for it): it still happened, with no bodies.
    const entry = this.entries.get(record.id) ?? this.droppedRunning.get(record) ?? this.open(record, undefined);
    entry.record = record;
    this.finish(entry);
  }

  // ---- reading -----------------------------------------------------------------------------

  list(): RequestList {
    this.drain();
    const requests: RequestSummary[] = [];
    const evicted: number[] = [];
    for (let i = this.head; i < this.order.length; i++) {
      const entry = this.order[i]!;
      requests.push(this.summaryOf(entry));
      if (entry.evicted) evicted.push(entry.id);
    }
    return { requests, evicted, capture: { bytes: this.held, maxBytes: this.maxBytes, maxBodyBytes: this.maxBodyBytes } };
  }

  detail(id: number): RequestDetail | undefined {
    this.drain();
    const entry = this.entries.get(id);
    return entry ? this.detailOf(entry) : undefined;
  }

  sessions(): SessionList {
    this.drain();
    return { sessions: [...this.sessionTotals.values()].map((s) => summaryCopy(s.summary)) };
  }

  session(id: string): { summary: SessionSummary; requests: RequestDetail[] } | undefined {
    this.drain();
    const totals = this.sessionTotals.get(id);
    if (!totals) return undefined;
    const requests: RequestDetail[] = [];
    for (let i = this.head; i < this.order.length; i++) {
      const entry = this.order[i]!;
      if (entry.sessionId === id) requests.push(this.detailOf(entry));
    }
    return { summary: summaryCopy(totals.summary), requests };
  }

  /** Resolves once every ended request has been processed (tests, exports). */
  async settled(): Promise<void> {
    this.drain();
    while (this.tableLoading) {
      await this.tableLoading;
      this.drain();
    }
  }

  /** Hook calls noted and not yet worked out (never more than PENDING_CALLS). */
  get pendingCalls(): number {
    return this.pending.length / 4;
  }

  /** The bytes held now (bodies and metadata), never above `maxBytes` for long. */
  get heldBytes(): number {
    this.drain();
    return this.held;
  }

  /** Bodies and metadata, and what the slabs of kept bodies hold for none. */
  private get held(): number {
    return this.bytes + this.bodyBytes.waste;
  }

  // ---- internals ---------------------------------------------------------------------------

  private open(record: RequestRecord, facts: RequestFacts | undefined, sessionId?: string): Entry {
    const arrived = facts?.startedAt ?? performance.now() - Math.max(0, Date.now() - Date.parse(record.time));
    const decisions = record.decisions ?? [];
    const entry: Entry = {
      id: record.id,
      record,
      sessionId: sessionId ?? this.options.runSession,
      state: "active",
      t0: arrived,
      convention: facts?.providerKind === "openai" || facts?.providerKind === "generic" ? "openai" : "anthropic",
      oauthForwarded: facts?.oauthForwarded ?? false,
      oauthWithheld: decisions.some((d) => d.action === "withhold" && d.value.includes("sk-ant-oat")),
      // Every field from the start: one shape for every entry, its fields in the object itself.
      headers: undefined,
      bodyType: undefined,
      bodyEncoding: undefined,
      requestBody: undefined,
      responseBody: undefined,
      response: undefined,
      shown: undefined,
      cost: undefined,
      taught: undefined,
      bodyBytes: 0,
      metaBytes: ENTRY_OVERHEAD,
      evicted: false,
    };
    this.bytes += entry.metaBytes;
    this.entries.set(entry.id, entry);
    this.order.push(entry);
    this.sessionFor(entry);
    return entry;
  }

  /** The request's session: Claude Code's header, made a safe bounded token; undefined without one. */
  private sessionIdOf(rawHeaders: readonly string[]): string | undefined {
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!;
      if (name.length !== SESSION_HEADER.length || name.toLowerCase() !== SESSION_HEADER) continue;
      const value = rawHeaders[i + 1]!;
      // It is the same on every request of a session: worked out once.
      let id = this.sessionIds.get(value);
      if (id === undefined) {
        // It comes from the client and ends up in URLs and file names: a safe, bounded token, and
        // a secret put there is redacted like anywhere else.
        id = this.redact(value.trim()).replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 100);
        if (this.sessionIds.size >= MAX_SESSIONS) this.sessionIds.clear();
        this.sessionIds.set(value, id);
      }
      if (id !== "") return id;
    }
    return undefined;
  }

  /**
   * Remember what one request's headers carry, at most MAX_LEARNED_PER_REQUEST of them, its
   * credential headers' tokens first (a cookie of many parts comes after): one request cannot push
   * out the secrets others presented, nor its own credential.
   */
  private learn(secrets: readonly string[]): void {
    const unique = secrets.length <= 1 ? secrets : [...new Set(secrets)].slice(0, MAX_LEARNED_PER_REQUEST);
    // Least important first, so the credentials end most recent.
    for (let i = unique.length - 1; i >= 0; i--) this.remember(unique[i]!);
  }

  /**
   * A client credential is a secret wherever else it turns up. Most recently presented last: a
   * client presenting its credential on every request keeps it known however many others come and go.
   */
  private remember(token: string): void {
    if (token.length < 8 || token === this.newestSeen) return;
    this.newestSeen = token;
    if (this.seen.has(token)) {
      // The same set of secrets, only its order changed: nothing redacted needs redoing.
      this.seen.delete(token);
      this.seen.add(token);
      return;
    }
    if (this.seen.size >= MAX_SEEN_SECRETS) this.seen.delete(this.seen.values().next().value!);
    this.seen.add(token);
    this.forget();
  }

  /** The known secrets changed: everything redacted with the old set is worked out afresh. */
  private forget(): void {
    this.known = undefined;
    this.generation++;
    this.memo.clear();
    this.memoSize = 0;
    this.sessionIds.clear();
  }

  /**
   * Headers as name, value pairs, each value as the header policy prints it and then redacted
   * with every secret known. With `learn` (a client's request headers), the credentials they carry
   * are remembered first, so a token quoted in another header is caught too; a response's headers
   * teach nothing (a rate-limit reset time is no secret of the client's). A value seen before
   * with the same secrets known is not worked out again, but what it carries is still remembered.
   */
  private redactHeaders(pairs: readonly string[], learn: boolean): string[] {
    return this.headOf(pairs, learn).out;
  }

  private headOf(pairs: readonly string[], learn: boolean): HeadMemo {
    // A client sends the same headers request after request (and an upstream answers with the
    // same, but for its date): the same raw pairs as last time, with the same secrets known, give
    // the same array, shared. What they carry is still remembered, most recent last.
    const last = learn ? this.lastRequestHead : this.lastResponseHead;
    if (last !== undefined && last.generation === this.generation && sameStrings(last.raw, pairs)) {
      if (last.taught.length > 0) this.learn(last.taught);
      if (last.generation === this.generation) return last;
    }
    const taught: string[] = [];
    const out = this.redactHeadersAfresh(pairs, learn, taught);
    const head: HeadMemo = { raw: pairs, out, taught, generation: this.generation, derived: undefined };
    if (learn) this.lastRequestHead = head;
    else this.lastResponseHead = head;
    return head;
  }

  private redactHeadersAfresh(pairs: readonly string[], learn: boolean, taught: string[]): string[] {
    const out = new Array<string>(pairs.length);
    const generation = this.generation;
    let missed = false;
    /** What this request's headers carry: credential headers' tokens, then the rest (cookie parts…). */
    let credentials: string[] | undefined;
    let others: string[] | undefined;
    for (let i = 0; i < pairs.length; i += 2) {
      const name = pairs[i]!;
      const value = pairs[i + 1]!;
      out[i] = name;
      const values = this.memo.get(name);
      const known = values?.get(value);
      if (known !== undefined) {
        out[i] = values!.name;
        out[i + 1] = known.shown;
        if (learn && known.secrets.length > 0) (known.credential ? (credentials ??= []) : (others ??= [])).push(...known.secrets);
        continue;
      }
      missed = true;
      if (learn) {
        const lower = name.toLowerCase();
        const secrets = headerSecrets(lower, value);
        if (secrets.length > 0) (CREDENTIAL_HEADERS.has(lower) ? (credentials ??= []) : (others ??= [])).push(...secrets);
      }
    }
    if (credentials || others) {
      taught.push(...(credentials ?? []), ...(others ?? []));
      this.learn(taught);
    }
    // A new secret learned makes every value of this request (memoised or not) worked out afresh;
    // so do secrets it carries beyond those remembered (a value remembered from before knew none of them).
    const extra = learn ? this.secretsWith(taught) : undefined;
    const all = this.generation !== generation || extra !== undefined;
    if (!missed && !all) return out;
    // What it carries beyond those remembered (more than MAX_LEARNED_PER_REQUEST) still redacts its own values.
    return this.withSecrets(extra, () => this.redactMissed(pairs, out, all));
  }

  private redactMissed(pairs: readonly string[], out: string[], all: boolean): string[] {
    for (let i = 0; i < pairs.length; i += 2) {
      if (!all && out[i + 1] !== undefined) continue;
      const name = pairs[i]!;
      const value = pairs[i + 1]!;
      const lower = name.toLowerCase();
      const shown = this.redact(printableHeaderValue(lower, value));
      let values = this.memo.get(name);
      // A name is the client's text too (a key pasted where a name goes): shown redacted.
      if (!values) this.memo.set(name, (values = Object.assign(new Map<string, MemoValue>(), { name: this.redact(name) })));
      out[i] = values.name;
      out[i + 1] = shown;
      if (this.memoSize++ >= MAX_MEMO) {
        this.memo.clear();
        this.memoSize = 0;
      } else values.set(value, { shown, secrets: headerSecrets(lower, value), credential: CREDENTIAL_HEADERS.has(lower) });
    }
    return out;
  }

  /** Response headers (an object of the relay's) as flat redacted pairs. */
  private redactResponseHeaders(headers: Readonly<Record<string, string | string[]>>): string[] {
    const pairs: string[] = [];
    for (const name in headers) {
      const value = headers[name]!;
      if (Array.isArray(value)) for (const one of value) pairs.push(name, one);
      else pairs.push(name, value);
    }
    return this.redactHeaders(pairs, false);
  }

  /**
   * What the inspector keeps of an ended request's record: the fields it shows, its decisions
   * shared with earlier requests that decided the same (a client's headers, so its decisions,
   * repeat request after request). Holding the relay's own record would keep every decision
   * object of every request alive: most of the capture's cost was the garbage collector moving
   * them, not the work of capturing.
   */
  private compactRecord(record: RequestRecord): RequestRecord {
    // Every field present (absent ones undefined): one shape for every kept record, its fields in the object itself.
    return {
      type: "request",
      time: record.time,
      id: record.id,
      method: this.intern(record.method),
      path: this.intern(this.redact(this.shownPath(record.path))),
      status: record.status,
      stream: record.stream,
      durationMs: record.durationMs,
      model: record.model === undefined ? undefined : this.intern(this.redact(record.model)),
      provider: record.provider,
      route: record.route === undefined ? undefined : this.intern(record.route),
      upstream: record.upstream === undefined ? undefined : this.intern(record.upstream),
      upstreamModel: record.upstreamModel === undefined ? undefined : this.intern(this.redact(record.upstreamModel)),
      ttfbMs: record.ttfbMs,
      usage: record.usage === undefined ? undefined : { ...record.usage },
      error: record.error === undefined ? undefined : this.redact(record.error),
      decisions: record.decisions === undefined ? undefined : this.sharedDecisions(record.decisions),
    };
  }

  /**
   * The decisions as a frozen list shared with earlier requests: the previous request's list when
   * every decision is the same (a client sends the same headers each time), else a list of
   * shared decisions. Shared objects are never changed (readers copy).
   */
  private sharedDecisions(list: readonly Decision[]): Decision[] {
    const last = this.lastDecisions;
    if (last !== undefined && last.length === list.length) {
      let same = true;
      for (let i = 0; i < list.length && same; i++) same = sameDecision(list[i]!, last[i]!);
      if (same) return last;
    }
    const shared = new Array<Decision>(list.length);
    for (let i = 0; i < list.length; i++) shared[i] = this.sharedDecision(list[i]!);
    return (this.lastDecisions = Object.freeze(shared) as Decision[]);
  }

  /** One frozen object for every equal decision (found by its value, then compared; bounded). */
  private sharedDecision(d: Decision): Decision {
    let bucket = this.decisionMemo.get(d.value);
    if (bucket !== undefined) for (const shared of bucket) if (sameDecision(d, shared)) return shared;
    const shared = Object.freeze({ header: d.header, action: d.action, reason: d.reason, value: d.value });
    if (this.decisionMemo.size >= MAX_MEMO) this.decisionMemo.clear();
    if (bucket === undefined || bucket.length >= 16) this.decisionMemo.set(d.value, (bucket = []));
    bucket.push(shared);
    return shared;
  }

  /** The one copy of a string that repeats from request to request (a path, a model, a header name). */
  private intern(text: string): string {
    if (text.length > 512) return text;
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    if (this.strings.size >= MAX_MEMO) this.strings.clear();
    this.strings.set(text, text);
    return text;
  }

  /** The response head redacted for storage; the relay's object is let go. */
  private sealResponseHead(entry: Entry): void {
    const response = entry.response;
    if (!response?.rawHeaders) return;
    response.headers = this.redactResponseHeaders(response.rawHeaders);
    response.rawHeaders = undefined;
    this.addMetaBytes(entry, pairBytes(response.headers));
  }

  private redact(text: string): string {
    return redact(text, this.secrets());
  }

  private redactOptional(text: string | undefined): string | undefined {
    return text === undefined ? undefined : this.redact(text);
  }

  private shownPath(path: string): string {
    return this.options.showPath === undefined ? path : this.options.showPath(path);
  }

  /** The secrets to redact with now: those known, or an ended request's own as well (`withSecrets`). */
  private secrets(): KnownSecrets {
    return this.showing ?? (this.known ??= knownSecrets([...this.configured, ...this.seen]));
  }

  /** Headers kept for an entry count toward `maxBytes` with its metadata. */
  private addMetaBytes(entry: Entry, n: number): void {
    entry.metaBytes += n;
    this.bytes += n;
  }

  private addBodyBytes(entry: Entry, n: number): void {
    if (n === 0) return;
    entry.bodyBytes += n;
    this.bytes += n;
    if (this.held > this.maxBytes) this.enforceBound();
  }

  /** Evict bodies oldest first, then whole entries, until the bound holds. */
  private enforceBound(): void {
    while (this.order.length - this.head > MAX_ENTRIES) this.dropOldest();
    while (this.held > this.maxBytes) {
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
      this.releaseBytes(shown);
      delete shown.events;
      delete shown.assembled;
    }
    entry.bodyBytes = 0;
    this.bytes -= held;
    if (held > 0 || entry.state === "active" || entry.requestBody || entry.responseBody || shown?.request || shown?.response) entry.evicted = true;
  }

  /** Bodies kept as bytes are given back (their slab is used again once all of its are). */
  private releaseBytes(shown: NonNullable<Entry["shown"]>): void {
    if (shown.requestBytes) this.bodyBytes.release(shown.requestBytes);
    if (shown.responseBytes) this.bodyBytes.release(shown.responseBytes);
    shown.requestBytes = undefined;
    shown.responseBytes = undefined;
  }

  private dropOldest(): void {
    const entry = this.order[this.head]!;
    // Gone with all it holds: nothing to clear one by one, only the bytes to give back.
    this.bytes -= entry.bodyBytes + entry.metaBytes;
    entry.bodyBytes = 0;
    entry.requestBody?.evict();
    entry.responseBody?.evict();
    if (entry.shown) this.releaseBytes(entry.shown);
    entry.evicted = true;
    this.entries.delete(entry.id);
    if (entry.state === "active") this.droppedRunning.set(entry.record, entry);
    this.order[this.head++] = undefined as unknown as Entry;
    if (this.head > 1024 && this.head * 2 > this.order.length) {
      this.order = this.order.slice(this.head);
      this.bodyCursor = Math.max(0, this.bodyCursor - this.head);
      this.head = 0;
    }
  }

  /** An ended request, worked out as its end is replayed (what follows it in the batch came after it). */
  private finish(entry: Entry): void {
    entry.state = "done";
    // Dropped while it ran (the bound): it still counts in its session, nothing of it is kept.
    const kept = this.entries.get(entry.id) === entry;
    if (kept) {
      // Its own credentials redact what is kept of it, however many others came since it started.
      this.withOwnSecrets(entry.taught, () => {
        entry.record = this.compactRecord(entry.record);
        this.sealResponseHead(entry);
        this.show(entry);
      });
      // Each one: a batch of large decoded bodies must not pile up beyond the bound first.
      this.enforceBound();
    }
    this.price(entry);
    const point = this.countInSession(entry);
    if (kept) this.emitRequest(entry);
    this.emitSession(entry.sessionId, point);
  }

  /**
   * Decode, redact and parse what was captured; the raw copies are dropped. What is shown
   * assembled (text, thinking, tool calls) is assembled from the raw events and then redacted,
   * so a secret the model streamed in small pieces is caught whole; when the raw events do not
   * redact to the same (the pieces each looked harmless), the raw text and events are withheld.
   */
  private show(entry: Entry): void {
    // Every field from the start (one shape, fields in the object itself).
    const shown: NonNullable<Entry["shown"]> = {
      request: undefined,
      response: undefined,
      events: undefined,
      assembled: undefined,
      assembleOnRead: undefined,
      requestBytes: undefined,
      responseBytes: undefined,
    };
    let bytes = 0;
    // A body cut off (kept up to maxBodyBytes, or the exchange broke off) may end in the first
    // characters of a known secret, which only a match of the ending catches.
    const brokeOff = entry.record.error !== undefined;
    const isCut = (display: { whole: boolean } | undefined) => brokeOff || display?.whole === false;
    const tail = (text: string | undefined, display: { whole: boolean } | undefined) =>
      text !== undefined && isCut(display) ? redactCutTail(text, this.secrets()) : text;
    if (entry.requestBody) {
      const display = this.displayText(entry.requestBody);
      const raw = display?.text;
      const text = tail(raw === undefined ? undefined : this.redactBody(raw), display);
      const kept = this.keepShown(entry.requestBody, display, text);
      shown.request = kept.body;
      shown.requestBytes = kept.bytes;
      bytes += kept.size;
      if (raw !== undefined && text === undefined) shown.request.withheld = WITHHELD_ENCODED;
    }
    const body = entry.responseBody;
    if (body) {
      const display = this.displayText(body);
      const rawText = display?.text;
      let text = rawText === undefined ? undefined : this.redactBody(rawText);
      let withheld = rawText !== undefined && text === undefined ? WITHHELD_ENCODED : undefined;
      text = tail(text, display);
      const cutOff = isCut(display);
      if (rawText !== undefined) {
        if (entry.record.stream) {
          const rawEvents = parseSse(rawText);
          const assembled = this.redactAssembled(assembleEvents(rawEvents), cutOff);
          shown.assembled = assembled;
          if (text !== undefined) {
            const events = streamEvents(rawText, rawEvents, text, body.encoding === undefined ? body.arrivals : [], entry.record.durationMs);
            if (sameAssembly(assembleEvents(events), assembled)) {
              shown.events = events;
              // What an event costs as kept: its strings and the object holding them.
              bytes += events.reduce((n, e) => n + textBytes(e.data) + textBytes(e.event) + EVENT_OVERHEAD, 0);
            } else {
              text = undefined;
              withheld = WITHHELD_SPLIT;
            }
          }
        } else if (text === rawText && !mayJoinPieces(rawText)) {
          // Nothing in it was redacted and it has one block of each kind, so assembling the stored
          // text when it is read gives what assembling the raw text would (redacted then, whole).
          shown.assembleOnRead = true;
        } else {
          const assembled = assembleJson(rawText);
          if (assembled) {
            shown.assembled = this.redactAssembled(assembled, cutOff);
            // Blocks that each looked harmless may join into a secret, as stream events can.
            const fromText = text === undefined ? undefined : assembleJson(text);
            if (fromText && !sameAssembly(fromText, shown.assembled)) {
              text = undefined;
              withheld = WITHHELD_BLOCKS;
            }
          }
        }
        if (shown.assembled) bytes += textBytes(shown.assembled.text) + textBytes(shown.assembled.thinking);
      }
      const kept = this.keepShown(body, display, text);
      shown.response = kept.body;
      shown.responseBytes = kept.bytes;
      bytes += kept.size;
      if (withheld !== undefined) shown.response.withheld = withheld;
    }
    entry.shown = shown;
    // The captures are spent: only what is shown stays.
    entry.requestBody = undefined;
    entry.responseBody = undefined;
    this.bytes += bytes - entry.bodyBytes;
    entry.bodyBytes = bytes;
    if (entry.evicted) this.evictBodies(entry);
  }

  /**
   * A body as kept: as bytes when redacting its text changed nothing (and no character was cut
   * off), else as the redacted text; with the bytes it counts for.
   */
  private keepShown(capture: BodyCapture, display: { text: string; bytes: Buffer; whole: boolean } | undefined, text: string | undefined): { body: CapturedBody; bytes: KeptBytes | undefined; size: number } {
    if (display !== undefined && text === display.text && display.whole) {
      return { body: capture.describe(undefined), bytes: this.bodyBytes.keep(display.bytes), size: display.bytes.length };
    }
    return { body: capture.describe(text), bytes: undefined, size: textBytes(text) };
  }

  /**
   * The raw text of a capture, decoded for display (still unredacted), with the bytes it was
   * decoded from; `whole` when those bytes decode to exactly that text (no character cut off).
   */
  private displayText(capture: BodyCapture): { text: string; bytes: Buffer; whole: boolean } | undefined {
    const raw = capture.take();
    if (raw === undefined || !isTextual(capture.contentType)) return undefined;
    const decoded = decodeForDisplay(raw, capture.encoding, this.maxBodyBytes);
    if (!decoded) return undefined;
    const cut = capture.truncated || decoded.cut;
    const text = textOf(decoded.bytes, cut);
    return text === undefined ? undefined : { text, bytes: decoded.bytes, whole: !cut };
  }

  /** A body as the page and exports show it: JSON escapes cannot hide a secret either. */
  private redactBody(text: string): string | undefined {
    return redactJson(text, this.secrets());
  }

  /**
   * Run `work` with a request's `own` secrets known too, when some are not among those
   * remembered: what is kept of it is redacted with its own credentials even once other clients'
   * have pushed them out.
   */
  private withOwnSecrets<T>(own: readonly string[] | undefined, work: () => T): T {
    return this.withSecrets(this.secretsWith(own), work);
  }

  private withSecrets<T>(extra: KnownSecrets | undefined, work: () => T): T {
    if (extra === undefined) return work();
    const before = this.showing;
    this.showing = extra;
    try {
      return work();
    } finally {
      this.showing = before;
    }
  }

  /** Every secret known plus `own`, or undefined when `own` adds none. */
  private secretsWith(own: readonly string[] | undefined): KnownSecrets | undefined {
    if (own === undefined || own.every((secret) => secret.length < 8 || this.seen.has(secret))) return undefined;
    return knownSecrets([...this.configured, ...this.seen, ...own]);
  }

  /** `cutOff`: the response was cut off, so each part may end in a secret's first characters. */
  private redactAssembled(a: AssembledResponse, cutOff = false): AssembledResponse {
    const tail = (text: string) => (cutOff ? redactCutTail(text, this.secrets()) : text);
    const out: AssembledResponse = {
      text: tail(this.redact(a.text)),
      thinking: tail(this.redact(a.thinking)),
      toolCalls: a.toolCalls.map((call) => {
        const input = this.redactBody(call.input);
        const shown = { ...call, input: input === undefined ? `[withheld: ${WITHHELD_ENCODED}]` : tail(input) };
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
      this.lastActive = totals;
      // Session ids come from clients: the table is bounded like the rest (the one idle longest).
      if (this.sessionTotals.size > MAX_SESSIONS) this.sessionTotals.delete(this.sessionTotals.keys().next().value!);
    }
    return totals;
  }

  /** Adds an ended request to its session's totals; returns its chart point. */
  private countInSession(entry: Entry): ContextPoint {
    const totals = this.sessionFor(entry);
    // Most recently active last: the bound drops the session idle longest.
    if (this.lastActive !== totals) {
      this.sessionTotals.delete(entry.sessionId);
      this.sessionTotals.set(entry.sessionId, totals);
      this.lastActive = totals;
    }
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
    const point: ContextPoint = { id: entry.id, time: record.time, tokens: undefined };
    if (u) point.tokens = totalInputTokens(u, entry.convention);
    s.context.push(point);
    // Trimmed a quarter at a time (a shift per request moved the whole list each time); readers see the last MAX_CONTEXT_POINTS.
    if (s.context.length > MAX_CONTEXT_POINTS * 1.25) s.context.splice(0, s.context.length - MAX_CONTEXT_POINTS);
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
    // A running request's record is the relay's, redacted here; an ended one's was redacted as it ended (`finish`).
    return entry.state === "active" ? this.withOwnSecrets(entry.taught, () => this.summaryNow(entry)) : this.summaryNow(entry);
  }

  private summaryNow(entry: Entry): RequestSummary {
    const { record } = entry;
    const summary: RequestSummary = {
      id: entry.id,
      sessionId: entry.sessionId,
      time: record.time,
      state: entry.state,
      method: record.method,
      path: this.redact(this.shownPath(record.path)),
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
    return entry.state === "active" ? this.withOwnSecrets(entry.taught, () => this.detailNow(entry)) : this.detailNow(entry);
  }

  private detailNow(entry: Entry): RequestDetail {
    const detail: RequestDetail = {
      ...this.summaryNow(entry),
      decisions: (entry.record.decisions ?? []).map((d) => ({ ...d, value: this.redact(d.value) })),
      request: { headers: toPairs(entry.headers ?? []) },
    };
    if (entry.record.upstream !== undefined) detail.upstream = this.redact(entry.record.upstream);
    const shown = entry.shown;
    const pendingBody = (capture: BodyCapture | undefined) => capture?.describe(undefined);
    const requestBody = shown?.request ? withText(shown.request, shown.requestBytes) : pendingBody(entry.requestBody);
    if (requestBody) detail.request.body = requestBody;
    if (entry.response) {
      const { status, rawHeaders, headers } = entry.response;
      const response: NonNullable<RequestDetail["response"]> = {
        status,
        headers: toPairs(headers ?? (rawHeaders ? this.redactResponseHeaders(rawHeaders) : [])),
      };
      const body = shown?.response ? withText(shown.response, shown.responseBytes) : pendingBody(entry.responseBody);
      if (body) response.body = body;
      if (shown?.events) response.events = shown.events;
      if (shown?.assembled) response.assembled = shown.assembled;
      else if (shown?.assembleOnRead && body?.text !== undefined) {
        const assembled = assembleJson(body.text);
        if (assembled) response.assembled = this.redactAssembled(assembled);
      }
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

/** What one kept stream event costs beside its strings (the object, its fields, two string headers). */
const EVENT_OVERHEAD = 128;

/** Bytes a kept string takes: one per character, two once any is beyond Latin-1. */
function textBytes(text: string | undefined): number {
  if (text === undefined) return 0;
  return BEYOND_LATIN1.test(text) ? 2 * text.length : text.length;
}
const BEYOND_LATIN1 = /[^\u0000-\u00ff]/;

const WITHHELD_ENCODED = "it holds a secret in an encoding that cannot be redacted in place";
const WITHHELD_SPLIT = "a secret was streamed in pieces across events; the assembled view shows it redacted";
const WITHHELD_BLOCKS = "a secret was split across content blocks; the assembled view shows it redacted";

/**
 * Whether a JSON response may assemble pieces into one text, so that its assembly must be checked
 * against its text: more than one text or thinking block (each block spells the word twice, as its
 * type and as its key, however the JSON is spaced; a quote inside a string is escaped, so content
 * cannot spell it), or escapes that could spell a key name.
 */
function mayJoinPieces(json: string): boolean {
  return occursMoreThanTwice(json, '"text"') || occursMoreThanTwice(json, '"thinking"') || json.includes("\\u");
}

function occursMoreThanTwice(text: string, word: string): boolean {
  let at = text.indexOf(word);
  for (let seen = 1; at !== -1; seen++) {
    if (seen > 2) return true;
    at = text.indexOf(word, at + word.length);
  }
  return false;
}

/** A session's totals as served: a copy, with at most the last MAX_CONTEXT_POINTS chart points. */
function summaryCopy(summary: SessionSummary): SessionSummary {
  const { context, ...rest } = summary;
  return { ...structuredClone(rest), context: context.slice(-MAX_CONTEXT_POINTS).map((point) => ({ ...point })) };
}

function sameDecision(a: Decision, b: Decision): boolean {
  return a.value === b.value && a.header === b.header && a.action === b.action && a.reason === b.reason;
}

/** One header list as received and as kept, with what it taught, for the known secrets of `generation`. */
interface HeadMemo {
  raw: readonly string[];
  out: string[];
  taught: readonly string[];
  generation: number;
  /** Of a request's list: its session, its body's type and coding, the bytes it counts for. */
  derived: { sessionId: string | undefined; bodyType: string | undefined; bodyEncoding: string | undefined; bytes: number } | undefined;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A header value's redacted form, and the secrets it carries as a client's credential. */
interface MemoValue {
  shown: string;
  secrets: readonly string[];
  /** From a credential header (`authorization`, `x-api-key`…): learned before anything else. */
  credential: boolean;
}

const NONE: readonly string[] = Object.freeze([]);

/** What a client header carries that is a secret elsewhere: a credential's token, or a value the policy prints redacted (and each cookie's value). Pure. */
function headerSecrets(lower: string, value: string): readonly string[] {
  if (CREDENTIAL_HEADERS.has(lower)) {
    const token = classifyCredential(value).token;
    if (token.length < 8) return NONE;
    // Basic (RFC 7617): the password is the secret a response or a prompt would quote, not its base64.
    const blob = /^\s*basic\s+(\S+)/i.exec(value)?.[1];
    const basic = blob === undefined ? undefined : basicPassword(blob);
    return basic === undefined ? [token] : [token, basic];
  }
  // A gateway token in a cookie or any header named like a secret, quoted in the prompt later.
  if (printableHeaderValue(lower, value) === value) return NONE;
  const secrets = [value.trim()];
  if (lower === "cookie") for (const part of value.split(";")) secrets.push(part.slice(part.indexOf("=") + 1).trim());
  return secrets;
}

/** The password of a Basic credential's `user:password` (base64), when it is long enough to be one. */
function basicPassword(blob: string): string | undefined {
  const decoded = Buffer.from(blob, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const password = colon === -1 ? "" : decoded.slice(colon + 1);
  return password.length >= 8 ? password : undefined;
}

/** A shown body as served: its text decoded from the kept bytes when it was kept as bytes. */
function withText(body: CapturedBody, bytes: KeptBytes | undefined): CapturedBody {
  return bytes === undefined ? body : { ...body, text: textOf(BodyBytes.view(bytes), false) ?? "" };
}

/** Flat name, value pairs as the API's `[name, value]` tuples. */
function toPairs(flat: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  return pairs;
}

function pairBytes(flat: readonly string[]): number {
  let n = 0;
  for (const text of flat) n += text.length;
  return n;
}

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

/** The chunk itself when it is a standalone Buffer, else a copy (a view may pin a larger buffer). */
function ownedCopy(chunk: Buffer): Buffer {
  return isStandalone(chunk) ? chunk : Buffer.from(chunk);
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
