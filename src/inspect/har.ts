/**
 * A session as HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/), for browser devtools
 * and HAR viewers: the requests as the client sent them to the relay and the responses as it
 * relayed them, already redacted like everything the store holds. Pure.
 */
import type { CapturedBody, RequestDetail } from "./types.js";

interface HarHeader {
  name: string;
  value: string;
}

export interface HarLog {
  log: {
    version: "1.2";
    creator: { name: string; version: string };
    pages: [];
    entries: HarEntry[];
    comment?: string;
  };
}

interface HarEntry {
  startedDateTime: string;
  time: number;
  request: {
    method: string;
    url: string;
    httpVersion: string;
    cookies: [];
    headers: HarHeader[];
    queryString: HarHeader[];
    postData?: { mimeType: string; text: string; comment?: string };
    headersSize: -1;
    bodySize: number;
  };
  response: {
    status: number;
    statusText: string;
    httpVersion: string;
    cookies: [];
    headers: HarHeader[];
    content: { size: number; mimeType: string; text?: string; comment?: string };
    redirectURL: string;
    headersSize: -1;
    bodySize: number;
  };
  cache: Record<string, never>;
  timings: { send: number; wait: number; receive: number };
  comment?: string;
}

const headers = (pairs: ReadonlyArray<readonly [string, string]>): HarHeader[] => pairs.map(([name, value]) => ({ name, value }));

function queryString(path: string): HarHeader[] {
  const q = path.indexOf("?");
  if (q === -1) return [];
  return [...new URLSearchParams(path.slice(q + 1))].map(([name, value]) => ({ name, value }));
}

function bodyNote(body: CapturedBody): string | undefined {
  if (body.evicted) return "body evicted from the capture (inspect.maxBytes)";
  if (body.withheld !== undefined) return `body withheld: ${body.withheld}`;
  if (body.truncated) return "body truncated at inspect.maxBodyBytes";
  return undefined;
}

export function toHar(requests: readonly RequestDetail[], options: { relayUrl: string; version: string }): HarLog {
  const entries = requests.map((r): HarEntry => {
    const total = r.durationMs ?? 0;
    const wait = Math.min(r.ttfbMs ?? total, total);
    const requestBody = r.request.body;
    const entry: HarEntry = {
      startedDateTime: r.time,
      time: total,
      request: {
        method: r.method,
        url: `${options.relayUrl}${r.path}`,
        httpVersion: "HTTP/1.1",
        cookies: [],
        headers: headers(r.request.headers),
        queryString: queryString(r.path),
        headersSize: -1,
        bodySize: requestBody?.bytes ?? 0,
      },
      response: {
        status: r.response?.status ?? r.status,
        statusText: "",
        httpVersion: "HTTP/1.1",
        cookies: [],
        headers: headers(r.response?.headers ?? []),
        content: { size: 0, mimeType: r.response?.body?.contentType ?? "" },
        redirectURL: "",
        headersSize: -1,
        bodySize: r.response?.body?.bytes ?? -1,
      },
      cache: {},
      timings: { send: 0, wait, receive: Math.max(0, total - wait) },
    };
    if (requestBody) {
      const postData: NonNullable<HarEntry["request"]["postData"]> = { mimeType: requestBody.contentType ?? "", text: requestBody.text ?? "" };
      const note = bodyNote(requestBody);
      if (note) postData.comment = note;
      entry.request.postData = postData;
    }
    const responseBody = r.response?.body;
    if (responseBody) {
      const content = entry.response.content;
      if (responseBody.text !== undefined) {
        content.text = responseBody.text;
        content.size = Buffer.byteLength(responseBody.text);
      } else {
        content.size = responseBody.bytes;
      }
      const note = bodyNote(responseBody);
      if (note) content.comment = note;
    }
    const comments = [r.provider && `provider ${r.provider}`, r.route && `route ${r.route}`, r.error].filter(Boolean);
    if (comments.length > 0) entry.comment = comments.join("; ");
    return entry;
  });
  return { log: { version: "1.2", creator: { name: "llm-relay", version: options.version }, pages: [], entries } };
}
