/**
 * A bare HTTP client for relay tests: node:http with no agent (one connection per request), so a
 * test controls exactly how the body is framed (Content-Length or chunked) and when it arrives,
 * and sees the status, headers and body bytes a real client would.
 */
import { createHash } from "node:crypto";
import http, { type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import net from "node:net";

export interface ClientResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Raw header names as sent, to check that no hop-by-hop header slipped through. */
  rawHeaders: string[];
  body: Buffer;
  text: string;
  json(): unknown;
}

export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  /**
   * A Buffer/string goes with Content-Length; an array of chunks goes chunked (no
   * Content-Length), each written separately.
   */
  body?: Buffer | string | Array<Buffer | string>;
  /** Leave the request open after `body` (the test writes more, or disconnects mid-body). */
  keepOpen?: boolean;
  /**
   * Send this request target byte for byte instead of the URL's: a URL string is normalised by
   * WHATWG parsing (`/a/../b` → `/b`, `%2e%2e` → `..`), which a raw client need not do.
   */
  rawTarget?: string;
}

export function sha256(data: Buffer | string): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Start a request and get the live objects, for tests that stall, stream or disconnect. */
export function open(url: string, options: SendOptions = {}): { req: ClientRequest; response: Promise<IncomingMessage> } {
  const { body } = options;
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined && !Array.isArray(body)) headers["content-length"] ??= String(Buffer.byteLength(body));
  const method = options.method ?? (body === undefined ? "GET" : "POST");
  const req =
    options.rawTarget === undefined
      ? http.request(url, { method, headers, agent: false })
      : http.request({ hostname: new URL(url).hostname.replace(/^\[|\]$/g, ""), port: new URL(url).port, path: options.rawTarget, method, headers, agent: false });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.on("response", resolve);
    req.on("error", reject);
  });
  // Tests that disconnect on purpose never await this; the rejection is theirs to ignore.
  response.catch(() => {});
  if (Array.isArray(body)) {
    for (const chunk of body) req.write(chunk);
  } else if (body !== undefined) {
    req.write(body);
  }
  if (!options.keepOpen) req.end();
  return { req, response };
}

export async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Send a request and read the whole response. */
export async function send(url: string, options: SendOptions = {}): Promise<ClientResponse> {
  const res = await open(url, options).response;
  const body = await readAll(res);
  const text = body.toString("utf8");
  return { status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body, text, json: () => JSON.parse(text) };
}

/** Resolves when `predicate` holds, polling; for conditions observed on another server. */
export async function eventually(predicate: () => boolean, timeoutMs = 5000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A loopback port that was free a moment ago (for a relay that must be told its port, or a closed one). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
