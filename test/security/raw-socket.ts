/**
 * Exact bytes to the relay over `node:net`, for the security cases an HTTP client library would
 * refuse to send (CL+TE, duplicate Content-Length, absolute-form, CONNECT, dripped headers).
 * Reads the first response (status, headers, body) and whether the relay closed the connection.
 */
import net from "node:net";

export interface RawResponse {
  status: number;
  /** Lower-case header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** Everything received, for asserting what is absent. */
  raw: string;
  /** The relay ended or reset the connection (within `closeWaitMs` after the response). */
  closed: boolean;
}

function parseHead(text: string): { status: number; headers: Record<string, string>; headEnd: number } | undefined {
  // Skip interim 1xx responses (100 Continue) to reach the final one.
  let offset = 0;
  for (;;) {
    const end = text.indexOf("\r\n\r\n", offset);
    if (end === -1) return undefined;
    const lines = text.slice(offset, end).split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
    if (status >= 100 && status < 200) {
      offset = end + 4;
      continue;
    }
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    return { status, headers, headEnd: end + 4 };
  }
}

export interface RawOptions {
  /** Give up waiting for a response after this long (then `status` is 0). */
  timeoutMs?: number;
  /** After a full response, how long to wait to see whether the relay closes the connection. */
  closeWaitMs?: number;
}

/** Open a connection, write `bytes` (or let `drive` write them over time), read one response. */
export function rawExchange(
  port: number,
  bytes: string | Buffer | ((socket: net.Socket) => void),
  { timeoutMs = 10_000, closeWaitMs = 300 }: RawOptions = {},
): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let raw = "";
    let settled = false;
    let closeTimer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(closeTimer);
      socket.destroy();
      const head = parseHead(raw);
      resolve({
        status: head?.status ?? 0,
        headers: head?.headers ?? {},
        body: head ? raw.slice(head.headEnd) : "",
        raw,
        closed,
      });
    };
    const deadline = setTimeout(() => finish(false), timeoutMs);
    socket.on("data", (chunk: Buffer) => {
      raw += chunk.toString("latin1");
      const head = parseHead(raw);
      if (!head || closeTimer) return;
      const length = Number(head.headers["content-length"] ?? NaN);
      const bodyComplete = Number.isFinite(length) ? raw.length - head.headEnd >= length : false;
      if (bodyComplete) closeTimer = setTimeout(() => finish(false), closeWaitMs);
    });
    socket.on("end", () => finish(true));
    socket.on("close", () => finish(true));
    socket.on("error", () => finish(true));
    socket.on("connect", () => {
      if (typeof bytes === "function") bytes(socket);
      else socket.write(bytes);
    });
  });
}

/** A request head from lines; `\r\n` line ends and the blank line are added here. */
export function head(lines: string[]): string {
  return `${lines.join("\r\n")}\r\n\r\n`;
}
