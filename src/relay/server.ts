/**
 * The relay's listener (DESIGN §6, §8): where a request enters. It checks who is asking, finds
 * the route, asks the header policy what to send, and hands the exchange to `forward.ts`.
 * Every decision is made by the pure core; this file only does I/O and bookkeeping.
 */
import { randomBytes } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { performance } from "node:perf_hooks";
import type { Dispatcher } from "undici";
import type { ResolvedConfig, ResolvedProvider } from "../config/resolve.js";
import type { RequestRecord } from "../log/record.js";
import { redact } from "../policy/redact.js";
import { spliceModel } from "../routing/model-rewrite.js";
import { parseJsonBody } from "../routing/request-features.js";
import { bodyReading } from "../routing/route.js";
import { VERSION } from "../version.js";
import { apiShapeFor, errorBody, noRouteMessage, type ApiShape, type RelayErrorCode } from "./api-errors.js";
import { forwardExchange } from "./forward.js";
import { upstreamDispatcher } from "./upstream-dispatcher.js";
import { readTarget, type Target } from "../policy/target.js";
import { isRefusal, planRequest, planSecrets } from "./plan.js";
import { isLoopbackHost } from "../net/loopback.js";
import { allowedHosts, isLoopbackOrigin, isWildcardHost, takePathToken, tokenAccepted } from "./guards.js";
import { guarded, type RelayObserver, type RelayTokenCheck, type ReservedPathHandler } from "./observer.js";
import { endAfterDrain, limitBody, observeBody, readBodyHead, replayBody, type BodyHead } from "./request-body.js";

export interface RelayServerOptions {
  config: ResolvedConfig;
  /** Overrides config.host / config.port. */
  host?: string | undefined;
  port?: number | undefined;
  /** A token clients must present (overrides config.token); `exec` passes its session token. */
  token?: string | undefined;
  /** Called once per finished request. */
  onRecord?: ((record: RequestRecord) => void) | undefined;
  /**
   * Called when a planned request leaves for its upstream (provider and model are on the record,
   * which stays live until `onRecord` gets it); what a "requests in flight" display listens to.
   */
  onRequestStart?: ((record: RequestRecord) => void) | undefined;
  /** The HTTP client for upstreams; defaults to undici's env-proxy-aware agent. */
  dispatcher?: Dispatcher | undefined;
  /** Told about every exchange as it happens (the inspector's capture); never awaited. */
  observer?: RelayObserver | undefined;
  /** Serves `/_relay/…` but `/_relay/health`; without one those paths are 404. */
  reservedPaths?: ReservedPathHandler | undefined;
  /** More values to scrub from error messages (e.g. the inspector token). */
  secrets?: readonly string[] | undefined;
}

export interface RelayHandle {
  /** `http://127.0.0.1:8742` (IPv6 hosts in brackets). */
  url: string;
  host: string;
  port: number;
  /** Stop accepting, let in-flight requests finish up to `timeouts.shutdownMs`, then close. */
  close(options?: { graceMs?: number }): Promise<void>;
  /** Requests currently in flight. */
  readonly inFlight: number;
  readonly server: http.Server;
}

/** Thrown by `startRelay` when the listener cannot start; `code` says why. */
export class RelayStartError extends Error {
  constructor(
    message: string,
    readonly code: "EADDRINUSE" | "EACCES" | "LOOP" | "TOKEN_REQUIRED" | "LISTEN",
  ) {
    super(message);
    this.name = "RelayStartError";
  }
}

function contentLength(req: IncomingMessage): number | undefined {
  const value = req.headers["content-length"];
  if (value === undefined) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function hasBody(req: IncomingMessage): boolean {
  const length = contentLength(req);
  return (length !== undefined && length > 0) || req.headers["transfer-encoding"] !== undefined;
}

/** This machine's interface addresses and name: how other machines reach a wildcard listener. */
function machineNames(): string[] {
  const names = [hostname()];
  for (const entries of Object.values(networkInterfaces())) {
    for (const entry of entries ?? []) if (!entry.internal && !entry.address.includes("%")) names.push(entry.address);
  }
  return names;
}

/** The `/_t/<token>` prefix a client used, as a placeholder (the token itself is never echoed). */
function tokenPrefix(pathToken: string | undefined): string {
  return pathToken === undefined ? "" : "/_t/<token>";
}

/** Marks a request record that has left the in-flight count; JSON output never shows it. */
const SETTLED = Symbol("settled");

/** Node keeps at most this many headers per request and silently drops the rest; we refuse instead. */
const MAX_HEADERS = 1000;

export async function startRelay(options: RelayServerOptions): Promise<RelayHandle> {
  const { config } = options;
  const host = options.host ?? config.host;
  const requestedPort = options.port ?? config.port;
  const token = options.token ?? config.token?.reveal();
  const reading = bodyReading(config);
  // Every secret this relay knows by value, for every string it prints (§8).
  const extraSecrets = options.secrets ?? [];
  const secrets = planSecrets(config, token, extraSecrets);
  const instance = randomBytes(4).toString("hex");
  const viaEntry = `1.1 llm-relay-${instance}`;
  const maxBodyBytes = config.limits.maxBodyBytes;
  const { timeouts } = config;
  const { observer, reservedPaths, onRequestStart } = options;

  if (!isLoopbackHost(host) && token === undefined) {
    throw new RelayStartError(
      `refusing to listen on ${host} without a token: anyone who can reach it could use your credentials.\n` +
        `  Set one with --token, LLM_RELAY_TOKEN or "token" in the config, or listen on 127.0.0.1.`,
      "TOKEN_REQUIRED",
    );
  }

  // undici is loaded on the first request that needs it, not before listening: ~90 ms of start-up
  // (evaluating the package) move to the first relayed request, once.
  let dispatcher: Dispatcher | undefined = options.dispatcher;
  let loadingDispatcher: Promise<Dispatcher> | undefined;
  const loadDispatcher = () =>
    (loadingDispatcher ??= upstreamDispatcher(timeouts, process.env).then((loaded) => (dispatcher = loaded)));

  let hosts = new Set<string>();
  let requestSeq = 0;
  let inFlight = 0;
  let closing = false;
  const shutdown: { reason?: string } = {};
  let drained: (() => void) | undefined;

  // Every request leaves the in-flight count exactly once, whichever path ends it (even a bug).
  // A symbol-keyed mark (not a WeakSet: one ephemeron per request doubled GC time under load).
  const settle = (record: RequestRecord & { [SETTLED]?: true }, report: boolean) => {
    if (record[SETTLED]) return;
    record[SETTLED] = true;
    inFlight--;
    if (report) {
      // Hundredths of a millisecond: finer digits are timer noise in the logs.
      record.durationMs = Math.round(record.durationMs * 100) / 100;
      if (record.ttfbMs !== undefined) record.ttfbMs = Math.round(record.ttfbMs * 100) / 100;
      options.onRecord?.(record);
      if (observer) guarded(() => observer.requestEnd(record));
    }
    if (closing && inFlight === 0) drained?.();
  };
  const finishRecord = (record: RequestRecord) => settle(record, true);

  const refuse = (
    req: IncomingMessage,
    res: ServerResponse,
    record: RequestRecord,
    started: number,
    status: number,
    code: RelayErrorCode,
    message: string,
    provider?: ResolvedProvider,
    shape?: ApiShape,
  ) => {
    const path = takePathToken((req.url ?? "/").split("?")[0]!).path;
    // Messages may quote the path, where a client may have pasted a key: the redacted form only.
    const safeMessage = redact(message, secrets);
    const body = errorBody(shape ?? apiShapeFor(provider?.kind, path), status, code, safeMessage);
    // The request body (if any) is not relayed: the connection closes after this answer. A refused
    // body is drained first (bounded), so a client still uploading reads the 413, not a reset (§8).
    const shouldClose = status === 413 || status === 400 || hasBody(req) && !req.complete;
    res.writeHead(status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      ...(shouldClose ? { connection: "close" } : {}),
    });
    if (status === 413) {
      res.write(body);
      endAfterDrain(req, res);
    } else {
      res.end(body);
    }
    record.status = status;
    record.error = safeMessage;
    record.durationMs = performance.now() - started;
    endUnplanned(req, record, started);
  };

  /**
   * A request that ends before it was planned (refused, or its client left) still happened: the
   * onlooker sees its headers as sent (a credential there is what its path or error may quote),
   * with no body, then its end.
   */
  const endUnplanned = (req: IncomingMessage, record: RequestRecord, started: number) => {
    if (observer) guarded(() => observer.requestStart(record, { rawHeaders: req.rawHeaders, target: req.url, oauthForwarded: false, startedAt: started }));
    finishRecord(record);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, record: RequestRecord, started: number) => {
    const rawUrl = req.url ?? "/";
    const fail = (status: number, code: RelayErrorCode, message: string, provider?: ResolvedProvider, shape?: ApiShape) =>
      refuse(req, res, record, started, status, code, message, provider, shape);

    if (closing) return fail(503, "shutting_down", "the relay is shutting down");
    // RFC 9112 §3.2.2 absolute-form and §3.2.4 asterisk-form: we are not a forward proxy.
    if (rawUrl.charCodeAt(0) !== 47 /* / */) {
      return fail(405, "method_not_allowed", "absolute-form and asterisk request targets are not relayed; the upstream is chosen by config");
    }
    const hostHeader = (req.headers.host ?? "").toLowerCase();
    if (!hosts.has(hostHeader)) {
      return fail(403, "forbidden_host", "Host is not this relay's loopback address (DNS rebinding guard)");
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !isLoopbackOrigin(origin)) {
      return fail(403, "forbidden_origin", "cross-site requests from browsers are refused");
    }
    if (req.rawHeaders.length / 2 > MAX_HEADERS) {
      return fail(431, "headers_too_large", `more than ${MAX_HEADERS} request headers`);
    }

    const queryAt = rawUrl.indexOf("?");
    const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
    const query = queryAt === -1 ? "" : rawUrl.slice(queryAt);
    // The target is policy (§8): token prefixes taken off, dot segments resolved, before anything looks at the path.
    const target = readTarget(rawPath, query, token, secrets);
    const refused = "refused" in target ? target : undefined;
    const path = refused ? takePathToken(rawPath).path : (target as Target).path;
    const presented = (refused ? refused.presented : (target as Target).presented) ?? [];
    const pathToken = presented[0];
    // The path as an error message may quote it: a key a client pasted there is redacted.
    const shown = () => redact(path, secrets);

    if (!refused && path === "/_relay/health" && (req.method === "GET" || req.method === "HEAD")) {
      // An unavailable provider (§3: its apiKey variable is unset) is named with the variable, never a value.
      const unavailable = [...config.providers.values()].flatMap((p) => (p.unavailable ? [{ provider: p.name, env: p.unavailable.env }] : []));
      const body = JSON.stringify({ ok: true, version: VERSION, providers: [...config.providers.keys()], unavailable });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      res.end(req.method === "HEAD" ? undefined : body);
      // Health probes (exec's readiness check, monitors) are not traffic: no record.
      return settle(record, false);
    }
    const headerToken = req.headers["x-llm-relay-token"];
    const fromHeader = Array.isArray(headerToken) ? headerToken[0] : headerToken;
    // Every token presented must be this relay's (a doubled prefix included).
    const tokenCheck: RelayTokenCheck =
      token === undefined
        ? "none-configured"
        : presented.length === 0 && fromHeader === undefined
          ? "missing"
          : (presented.length === 0 ? tokenAccepted(token, undefined, fromHeader) : presented.every((p) => tokenAccepted(token, p, fromHeader)))
            ? "accepted"
            : "refused";
    const reserved = !refused && (path.startsWith("/_relay/") || path === "/_relay");
    if (reserved && reservedPaths) {
      // Not traffic: the page and its API make no request records (and are never captured).
      settle(record, false);
      const mount = presented.length === 0 ? "" : `/_t/${presented[0]}`;
      reservedPaths(req, res, { path, query, mount, relayToken: tokenCheck });
      return;
    }
    if (tokenCheck === "missing" || tokenCheck === "refused") {
      return fail(401, "token_required", "this relay requires its token (path prefix /_t/<token> or header x-llm-relay-token)");
    }
    if (refused) return fail(refused.refused.status, refused.refused.code, refused.refused.message);
    if (reserved) return fail(404, "no_route", `${shown()} is reserved by the relay`);
    const via = req.headers.via;
    if (via !== undefined && via.includes(viaEntry)) {
      return fail(508, "loop_detected", "this request already passed through this relay (a provider's baseUrl points back at it)");
    }

    const length = contentLength(req);
    if (length !== undefined && length > maxBodyBytes) {
      return fail(413, "body_too_large", `request body of ${length} bytes exceeds limits.maxBodyBytes (${maxBodyBytes})`);
    }

    let head: BodyHead | undefined;
    if (hasBody(req)) {
      head = await readBodyHead(req, { read: reading, limit: maxBodyBytes, length });
      if (head.aborted) {
        record.status = 499;
        record.error = "client closed the connection before sending its body";
        record.durationMs = performance.now() - started;
        return endUnplanned(req, record, started);
      }
      if (head.tooLarge) {
        return fail(413, "body_too_large", `request body exceeds limits.maxBodyBytes (${maxBodyBytes})`);
      }
    }
    const model = head?.model;
    // Routed by as sent; printed (request line, NDJSON, inspector) redacted like every client field.
    if (model !== undefined) record.model = redact(model, secrets);
    // `when` reads a parsed copy; the bytes relayed stay the client's.
    const json = reading === "whole" && head?.complete ? parseJsonBody(head.head) : undefined;

    const plan = planRequest({ path, query, target: target as Target, method: req.method, headers: req.headers, model, modelSpan: head?.span, json, config, relayToken: token, extraSecrets, via: viaEntry });
    if (!plan) {
      return fail(404, "no_route", noRouteMessage(req.method ?? "GET", path, shown(), `http://${hostHeader}${tokenPrefix(pathToken)}`));
    }
    if (isRefusal(plan)) return fail(plan.refused.status, plan.refused.code, plan.refused.message);
    const { provider } = plan.route;
    record.provider = provider.name;
    record.route = plan.route.matchedBy;
    record.rule = plan.route.rule;
    if (plan.upstreamModel !== undefined) record.upstreamModel = redact(plan.upstreamModel, secrets);
    if (plan.route.inputTokensEstimate !== undefined) record.inputTokensEstimate = plan.route.inputTokensEstimate;
    record.decisions = plan.decisions;
    if (plan.relayAnswer) {
      // The relay answers itself (§3 unavailable provider, §10 countTokens: false): nothing leaves.
      const { status, code, message, shape } = plan.relayAnswer;
      return fail(status, code, message, provider, shape);
    }
    record.upstream = plan.upstreamDisplay;

    let body: Buffer | import("node:stream").Readable | null = null;
    if (head) {
      // Only the model's string token changes; the rest is replayed (or still streaming) untouched.
      const bytes = plan.modelRewrite ? spliceModel(head.head, plan.modelRewrite) : head.head;
      body = head.complete ? bytes : replayBody(req, bytes);
      if (!Buffer.isBuffer(body) && length === undefined) body = limitBody(body, maxBodyBytes);
    }
    if (onRequestStart) guarded(() => onRequestStart(record));
    if (observer) {
      const facts = { rawHeaders: req.rawHeaders, target: rawUrl, oauthForwarded: plan.headers.oauthForwarded, providerKind: provider.kind, startedAt: started };
      guarded(() => observer.requestStart(record, facts));
      // The inspector sees what goes upstream: a Buffer is shown as is, a stream is passed through a tap.
      if (Buffer.isBuffer(body)) {
        const whole = body;
        guarded(() => observer.requestChunk(record, whole));
      } else if (body !== null) {
        body = observeBody(body, (chunk) => guarded(() => observer.requestChunk(record, chunk)));
      }
    }

    forwardExchange({
      req,
      res,
      dispatcher: dispatcher ?? (await loadDispatcher()),
      shutdown,
      provider,
      method: req.method ?? "GET",
      path: plan.upstreamPath,
      headers: plan.headers.headers,
      body,
      record,
      started,
      timeouts,
      secrets,
      observer,
      onDone: finishRecord,
    });
  };

  const server = http.createServer(
    {
      noDelay: true,
      maxHeaderSize: 16 * 1024,
      headersTimeout: Math.min(timeouts.clientHeadersMs, timeouts.clientBodyMs),
      requestTimeout: timeouts.clientBodyMs,
      // Node checks the two timeouts above on this interval (default 30 s): slowloris must not wait that long.
      connectionsCheckingInterval: Math.min(1000, timeouts.clientHeadersMs),
    },
    (req, res) => {
      const started = performance.now();
      inFlight++;
      const record: RequestRecord = {
        type: "request",
        time: new Date().toISOString(),
        id: ++requestSeq,
        method: req.method ?? "GET",
        path: redact(req.url ?? "/", secrets),
        status: 0,
        stream: false,
        durationMs: 0,
      };
      handle(req, res, record, started).catch((error: unknown) => {
        // A bug, not a user error: answer 502 without details that could hold a secret.
        process.emitWarning(`llm-relay: internal error: ${(error as Error)?.name ?? "Error"}`);
        if (!res.headersSent) {
          res.writeHead(502, { "content-type": "application/json", connection: "close" });
          res.end(errorBody("anthropic", 502, "upstream_broken", "internal relay error"));
        } else {
          res.destroy();
        }
        record.status = 502;
        record.error = "internal relay error";
        record.durationMs = performance.now() - started;
        finishRecord(record);
      });
    },
  );
  server.maxHeadersCount = MAX_HEADERS + 1;
  // `Expect: 100-continue` (RFC 9110 §10.1.1): refuse an oversized body before the client sends it.
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    const length = contentLength(req);
    if (length === undefined || length <= maxBodyBytes) res.writeContinue();
    server.emit("request", req, res);
  });
  // CONNECT would make us a tunnel to anywhere; §8 says the upstream is chosen by config alone.
  server.on("connect", (_req: IncomingMessage, socket: Socket) => {
    socket.end("HTTP/1.1 405 Method Not Allowed\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      if (error.code === "EADDRINUSE") {
        reject(new RelayStartError(`port ${requestedPort} on ${host} is already in use; choose another with --port`, "EADDRINUSE"));
      } else if (error.code === "EACCES") {
        reject(new RelayStartError(`no permission to listen on ${host}:${requestedPort}`, "EACCES"));
      } else {
        reject(new RelayStartError(`cannot listen on ${host}:${requestedPort}: ${error.code ?? error.message}`, "LISTEN"));
      }
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(requestedPort, host);
  });

  const address = server.address();
  const port = typeof address === "object" && address ? address.port : requestedPort;
  hosts = allowedHosts(port, host, isWildcardHost(host) ? machineNames() : []);
  const urlHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;

  // A provider pointing back at this listener would relay to itself forever.
  for (const provider of config.providers.values()) {
    const target = new URL(provider.origin);
    const targetPort = Number(target.port || (target.protocol === "https:" ? 443 : 80));
    const sameHost = isLoopbackHost(target.hostname) || target.hostname === host;
    if (sameHost && targetPort === port && target.protocol === "http:") {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw new RelayStartError(
        `provider "${provider.name}" has baseUrl ${provider.baseUrl}, which is this relay itself (a loop); point it at the real upstream`,
        "LOOP",
      );
    }
  }

  const close = async ({ graceMs = timeouts.shutdownMs }: { graceMs?: number } = {}) => {
    if (closing) return;
    closing = true;
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    if (inFlight > 0) {
      await new Promise<void>((resolve) => {
        drained = resolve;
        setTimeout(resolve, graceMs).unref();
      });
    }
    if (inFlight > 0) shutdown.reason = `the relay shut down: timeouts.shutdownMs (${graceMs} ms) passed`;
    server.closeAllConnections();
    await stopped;
    if (!options.dispatcher && loadingDispatcher) await (await loadingDispatcher).destroy().catch(() => {});
  };

  return {
    url: `http://${urlHost}:${port}`,
    host,
    port,
    close,
    get inFlight() {
      return inFlight;
    },
    server,
  };
}
