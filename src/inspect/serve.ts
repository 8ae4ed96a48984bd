/**
 * The inspector over HTTP (DESIGN §11): the page, its assets, the JSON API, the live SSE feed
 * and the session exports, all under `/_relay/`. The relay hands these paths over after its
 * Host and Origin guards; this file decides access (see access.ts) and answers.
 *
 * Every answer carries `Content-Security-Policy: default-src 'self'` (the page loads nothing
 * from anywhere else and runs no inline script), `nosniff` and `no-store` (prompts stay out of
 * caches), and `Referrer-Policy: no-referrer`.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ReservedPathHandler } from "../relay/observer.js";
import { cookieName, cookieValue, decideAccess, loginCookie } from "./access.js";
import type { EventFeed } from "./events.js";
import { toHar } from "./har.js";
import type { CaptureStore } from "./store.js";
import type { SnapshotData } from "./types.js";

export interface PageAssets {
  livePageHtml(): string;
  appScript(): string;
  pageCss: string;
  /** The page's icon; without it the browser asks for /favicon.ico, which would be relayed. */
  iconSvg?: string;
  snapshotHtml(data: SnapshotData): string;
}

export interface ServeOptions {
  store: CaptureStore;
  feed: EventFeed;
  assets: PageAssets;
  inspectorToken?: string | undefined;
  relayVersion: string;
  /** The relay's own URL (for HAR request URLs). */
  relayUrl: () => string;
}

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'self'",
  "x-content-type-options": "nosniff",
  "cache-control": "no-store",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

function send(res: ServerResponse, req: IncomingMessage, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": type, "content-length": Buffer.byteLength(body), ...extra });
  res.end(req.method === "HEAD" ? undefined : body);
}

function sendJson(res: ServerResponse, req: IncomingMessage, status: number, value: unknown, extra: Record<string, string> = {}): void {
  send(res, req, status, "application/json; charset=utf-8", JSON.stringify(value), extra);
}

function sendError(res: ServerResponse, req: IncomingMessage, status: number, type: string, message: string): void {
  sendJson(res, req, status, { error: { type, message: `llm-relay: ${message}` } });
}

/** What a browser shows for a refused page: the message, as text (nothing of the request is echoed). */
function refusedPage(message: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>llm-relay inspector: token needed</title></head>\n<body><h1>llm-relay inspector</h1><p>${message.replace(/&/g, "&amp;").replace(/</g, "&lt;")}.</p></body></html>\n`;
}

/** A session id as a file name: the store already limits it to `[A-Za-z0-9._-]`. */
function fileName(id: string, ext: string): string {
  return `llm-relay-session-${id.replace(/[^A-Za-z0-9._-]/g, "_")}.${ext}`;
}

export function createInspectorHandler(options: ServeOptions): ReservedPathHandler {
  const { store, feed, assets } = options;
  return (req, res, { path, query, mount, relayToken }) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return sendError(res, req, 405, "method_not_allowed", "the inspector only answers GET");
    }
    // Before the access check: the cookie's Path is /_relay/, so a browser asking for /_relay has none to send.
    if (path === "/_relay") return send(res, req, 308, "text/plain; charset=utf-8", "", { location: `${mount}/_relay/${query}` });
    const params = new URLSearchParams(query.slice(1));
    const isPage = path === "/_relay/";
    const headerToken = req.headers["x-llm-relay-token"];
    const cookie = cookieName(options.relayUrl());
    const access = decideAccess({
      relayToken,
      cookieName: cookie,
      inspectorToken: options.inspectorToken,
      cookie: req.headers.cookie,
      headerToken: Array.isArray(headerToken) ? headerToken[0] : headerToken,
      queryToken: isPage ? (params.get("token") ?? undefined) : undefined,
    });
    if (access === "denied") {
      // A token that was sent and refused is most often an earlier run's: each run makes a new one.
      const presented = params.has("token") || headerToken !== undefined || cookieValue(req.headers.cookie, cookie) !== undefined;
      const message = presented
        ? "the inspector refused this token: each run of the relay makes a new one (was it restarted?); open the inspector URL it printed (…/_relay/?token=…)"
        : "the inspector needs its token: open the inspector URL the relay printed (…/_relay/?token=…)";
      // A browser opening the page gets a page, not JSON.
      if (isPage && /\btext\/html\b/.test(req.headers.accept ?? "")) return send(res, req, 401, "text/html; charset=utf-8", refusedPage(message));
      return sendError(res, req, 401, "unauthorized", message);
    }
    if (access === "login") {
      // 303 (RFC 9110 §15.4.4): the token leaves the address bar and the history at once.
      return send(res, req, 303, "text/plain; charset=utf-8", "", {
        location: `${mount}/_relay/`,
        "set-cookie": loginCookie(cookie, options.inspectorToken!),
      });
    }
    if (isPage) return send(res, req, 200, "text/html; charset=utf-8", assets.livePageHtml());
    if (path === "/_relay/assets/app.js") return send(res, req, 200, "text/javascript; charset=utf-8", assets.appScript());
    if (path === "/_relay/assets/app.css") return send(res, req, 200, "text/css; charset=utf-8", assets.pageCss);
    if (path === "/_relay/assets/icon.svg" && assets.iconSvg) return send(res, req, 200, "image/svg+xml", assets.iconSvg);
    if (path === "/_relay/api/requests") return sendJson(res, req, 200, store.list());
    if (path === "/_relay/api/sessions") return sendJson(res, req, 200, store.sessions());
    if (path === "/_relay/api/events") {
      if (req.method === "HEAD") return send(res, req, 200, "text/event-stream; charset=utf-8", "");
      return feed.add(res, SECURITY_HEADERS as Record<string, string>);
    }
    const request = /^\/_relay\/api\/requests\/(\d+)$/.exec(path);
    if (request) {
      const detail = store.detail(Number(request[1]));
      if (!detail) return sendError(res, req, 404, "not_found", `no request ${request[1]}: ids number every request the relay answered (its own pages and refusals too), and the oldest are dropped to stay within inspect.maxBytes`);
      return sendJson(res, req, 200, detail);
    }
    const exported = /^\/_relay\/api\/sessions\/([^/]+)\.(har|html)$/.exec(path);
    if (exported) {
      let id: string;
      try {
        id = decodeURIComponent(exported[1]!);
      } catch {
        return sendError(res, req, 400, "bad_request", "malformed session id");
      }
      const session = store.session(id);
      if (!session) return sendError(res, req, 404, "not_found", "no such session");
      const ext = exported[2]!;
      const disposition = { "content-disposition": `attachment; filename="${fileName(session.summary.id, ext)}"` };
      if (ext === "har") {
        const har = toHar(session.requests, { relayUrl: options.relayUrl(), version: options.relayVersion });
        return sendJson(res, req, 200, har, disposition);
      }
      const data: SnapshotData = {
        version: 1,
        generatedAt: new Date().toISOString(),
        relayVersion: options.relayVersion,
        session: session.summary,
        requests: session.requests,
      };
      return send(res, req, 200, "text/html; charset=utf-8", assets.snapshotHtml(data), disposition);
    }
    // The path is not echoed: whatever a caller put in it (a token pasted by mistake) stays out of the answer.
    return sendError(res, req, 404, "not_found", "no such inspector path: the page is /_relay/, the API /_relay/api/… (see the README)");
  };
}
