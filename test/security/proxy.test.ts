/**
 * DESIGN §8: loopback upstreams are always reached directly, never through HTTP(S)_PROXY (the
 * proxy would see every header sent to them, an OAuth token included), while other origins still
 * go through it. A real loopback proxy (node:http: CONNECT and absolute-form requests, each
 * recorded and refused) and a loopback mock upstream; no request leaves the machine.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { startTestRelay, type TestRelay } from "../helpers/relay.js";
import { OAUTH_TOKEN } from "../fixtures/tokens.js";

interface RecordingProxy {
  url: string;
  /** `CONNECT host:port` targets and absolute-form request URLs, in arrival order. */
  seen: string[];
  /** Every header block the proxy received, raw, to grep for the token. */
  headers: string[];
  close(): Promise<void>;
}

async function startRecordingProxy(): Promise<RecordingProxy> {
  const seen: string[] = [];
  const headers: string[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? "");
    headers.push(req.rawHeaders.join("\n"));
    req.resume();
    res.writeHead(502, { "content-type": "text/plain", connection: "close" });
    res.end("recording proxy: refused");
  });
  server.on("connect", (req: http.IncomingMessage, socket: Socket) => {
    seen.push(`CONNECT ${req.url}`);
    headers.push(req.rawHeaders.join("\n"));
    socket.end("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    headers,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const PROXY_VARS = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"] as const;
const saved: Partial<Record<(typeof PROXY_VARS)[number], string | undefined>> = {};

let proxy: RecordingProxy;
let upstream: MockUpstream;
let relay: TestRelay | undefined;

beforeAll(async () => {
  proxy = await startRecordingProxy();
  upstream = await startMockUpstream();
  for (const name of PROXY_VARS) saved[name] = process.env[name];
});
afterEach(async () => {
  await relay?.close();
  relay = undefined;
  for (const name of PROXY_VARS) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  proxy.seen.length = 0;
  proxy.headers.length = 0;
});
afterAll(async () => {
  await proxy?.close();
  await upstream?.close();
});

function setProxyEnv(vars: Partial<Record<(typeof PROXY_VARS)[number], string>>): void {
  for (const name of PROXY_VARS) delete process.env[name];
  Object.assign(process.env, vars);
}

const post = (base: string, path = "/v1/messages") =>
  fetch(`${base}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${OAUTH_TOKEN}`, "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model: "claude-test", max_tokens: 1, messages: [] }),
  });

describe("loopback upstreams bypass HTTP(S)_PROXY", () => {
  const PROXY_ENVS = {
    "HTTPS_PROXY and HTTP_PROXY": (url: string) => ({ HTTPS_PROXY: url, HTTP_PROXY: url }),
    "http_proxy only": (url: string) => ({ http_proxy: url }),
    "HTTP_PROXY with an unrelated NO_PROXY": (url: string) => ({ HTTP_PROXY: url, NO_PROXY: ".corp.example" }),
  };
  const LOOPBACK = { "127.0.0.1": (port: number) => `http://127.0.0.1:${port}`, localhost: (port: number) => `http://localhost:${port}` };
  const cases = (Object.keys(PROXY_ENVS) as Array<keyof typeof PROXY_ENVS>).flatMap((env) =>
    (Object.keys(LOOPBACK) as Array<keyof typeof LOOPBACK>).map((host) => [env, host] as const),
  );

  it.each(cases)(
    "%s set, upstream on %s: the upstream gets the request directly, the proxy sees nothing",
    async (envName, host) => {
      setProxyEnv(PROXY_ENVS[envName](proxy.url));
      const baseUrl = LOOPBACK[host](upstream.port);
      relay = await startTestRelay({ providers: { anthropic: { kind: "anthropic", baseUrl, oauth: "forward" } } });
      const before = upstream.received.length;
      for (let i = 0; i < 3; i++) {
        const res = await post(relay.url);
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
      expect(upstream.received.length).toBe(before + 3);
      expect(upstream.received.at(-1)!.headers.authorization).toBe(`Bearer ${OAUTH_TOKEN}`);
      expect(proxy.seen).toEqual([]);
      expect(proxy.headers.join("\n")).not.toContain(OAUTH_TOKEN);
    },
  );

  it.each([
    // undici's proxy agent tunnels plain http through CONNECT too.
    ["http", "http://gw.invalid:8080", "CONNECT gw.invalid:8080"],
    ["https", "https://gw.invalid", "CONNECT gw.invalid:443"],
    ["http, a *.localhost name (not loopback)", "http://llm.localhost:9", "CONNECT llm.localhost:9"],
  ])("a non-loopback %s origin still goes through the proxy", async (_name, baseUrl, expected) => {
    setProxyEnv({ HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url });
    relay = await startTestRelay({ providers: { anthropic: { kind: "anthropic", baseUrl } } });
    const before = upstream.started;
    const res = await post(relay.url);
    // The recording proxy refuses everything: the relay answers 502, nothing left the machine.
    expect(res.status).toBe(502);
    await res.arrayBuffer();
    expect(proxy.seen).toEqual([expected]);
    expect(upstream.started).toBe(before);
  });

  it("one relay, two providers: the loopback one direct, the other through the proxy", async () => {
    setProxyEnv({ HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url });
    relay = await startTestRelay({
      providers: {
        anthropic: { kind: "anthropic", baseUrl: upstream.url, oauth: "forward" },
        gw: { kind: "anthropic", baseUrl: "http://gw.invalid:8080" },
      },
    });
    const direct = await post(relay.url);
    expect(direct.status).toBe(200);
    await direct.arrayBuffer();
    const viaProxy = await post(relay.url, "/gw/v1/messages");
    expect(viaProxy.status).toBe(502);
    await viaProxy.arrayBuffer();
    expect(proxy.seen).toEqual(["CONNECT gw.invalid:8080"]);
    expect(proxy.headers.join("\n")).not.toContain(OAUTH_TOKEN);
  });
});
