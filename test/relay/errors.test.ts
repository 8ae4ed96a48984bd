/**
 * What clients see when something goes wrong (DESIGN §6): relay-made errors in their API's shape
 * (502 unreachable, 504 timeout, 404 no route, 413 too large), upstream errors passed through
 * untouched, and the response framing rules (query kept, hop-by-hop headers not relayed).
 */
import net, { type AddressInfo, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ClientResponse, eventually, freePort, open, readAll, send, sha256 } from "../helpers/client.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults, startTestRelay, type TestRelay } from "../helpers/relay.js";
import { OAUTH_TOKEN } from "../fixtures/tokens.js";

let upstream: MockUpstream;
let relay: TestRelay;
/** A port nothing listens on: connections are refused. */
let closedPort: number;
/** Accepts TCP connections and never says a word (a TLS handshake that never completes). */
let silent: Server;
const silentSockets = new Set<net.Socket>();

beforeAll(async () => {
  upstream = await startMockUpstream();
  closedPort = await freePort();
  silent = net.createServer((socket) => {
    silentSockets.add(socket);
    socket.on("close", () => silentSockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  relay = await startTestRelay({
    providers: {
      ...mockedDefaults(upstream.url).providers,
      gone: { kind: "anthropic", baseUrl: `http://127.0.0.1:${closedPort}` },
      goneai: { kind: "openai", baseUrl: `http://127.0.0.1:${closedPort}/v1` },
    },
    limits: { maxBodyBytes: 1024 },
  });
});
afterAll(async () => {
  await relay?.close();
  await upstream?.close();
  for (const socket of silentSockets) socket.destroy();
  await new Promise((resolve) => silent?.close(resolve));
});

const ANTHROPIC_BODY = JSON.stringify({ model: "claude-test", max_tokens: 8, messages: [{ role: "user", content: "hi" }] });
const OPENAI_BODY = JSON.stringify({ model: "gpt-test", messages: [{ role: "user", content: "hi" }] });

/** A relay-made error: JSON, framed right, in the given API's shape, with an `llm-relay:` message. */
function expectRelayError(res: ClientResponse, status: number, shape: "anthropic" | "openai", type: string): string {
  expect(res.status).toBe(status);
  expect(res.headers["content-type"]).toBe("application/json");
  expect(res.headers["content-length"]).toBe(String(res.body.length));
  const body = res.json() as Record<string, unknown>;
  if (shape === "anthropic") {
    expect(body).toEqual({ type: "error", error: { type, message: expect.stringMatching(/^llm-relay: /) } });
    return (body.error as { message: string }).message;
  }
  expect(body).toEqual({ error: { message: expect.stringMatching(/^llm-relay: /), type, code: expect.any(String) } });
  return (body.error as { message: string }).message;
}

describe("relay-made errors, in the client's API shape", () => {
  it.each([
    ["502: anthropic-kind provider refuses the connection", "/gone/v1/messages", ANTHROPIC_BODY, 502, "anthropic", "api_error"],
    ["502: openai-kind provider refuses the connection", "/goneai/chat/completions", OPENAI_BODY, 502, "openai", "server_error"],
    ["404: no route for a path no rule matches", "/nowhere/v1/thing", ANTHROPIC_BODY, 404, "anthropic", "not_found_error"],
    // An OpenAI client whose base URL names a provider that does not exist (a typo).
    ["404: no route for an OpenAI path under an unknown provider prefix", "/olama/v1/chat/completions", OPENAI_BODY, 404, "openai", "not_found_error"],
    ["404: /_relay/ paths are reserved", "/_relay/nope", ANTHROPIC_BODY, 404, "anthropic", "not_found_error"],
  ] as const)("%s", async (_name, path, body, status, shape, type) => {
    const res = await send(`${relay.url}${path}`, { body, headers: { "content-type": "application/json" } });
    const message = expectRelayError(res, status, shape, type);
    if (status === 502) expect(message).toContain(`127.0.0.1:${closedPort}`);
  });

  it.each([
    ["Content-Length over the limit, Anthropic path", "/v1/messages", "anthropic", "request_too_large", "content-length"],
    ["Content-Length over the limit, OpenAI path", "/v1/chat/completions", "openai", "invalid_request_error", "content-length"],
    ["chunked body that grows past the limit, Anthropic path", "/v1/messages", "anthropic", "request_too_large", "chunked"],
    ["chunked body that grows past the limit, OpenAI path", "/v1/chat/completions", "openai", "invalid_request_error", "chunked"],
  ] as const)("413: %s; the upstream never gets the body", async (_name, path, shape, type, framing) => {
    const received = upstream.received.length;
    const big = `{"model":"m","pad":"${"x".repeat(1500)}"}`;
    const body = framing === "chunked" ? [big.slice(0, 600), big.slice(600, 1000), big.slice(1000)] : big;
    const res = await send(`${relay.url}${path}`, { body });
    expectRelayError(res, 413, shape, type);
    expect(upstream.received.length).toBe(received);
  });

  it("413 for a chunked body that passes the limit after it began streaming upstream; the upstream request is cut", async () => {
    const started = upstream.started;
    const received = upstream.received.length;
    const { req, response } = open(`${relay.url}/v1/messages`, { body: [`{"model":"m","pad":"${"x".repeat(500)}`], keepOpen: true });
    await eventually(() => upstream.started === started + 1, 3000, "upstream request started");
    req.end(`${"y".repeat(1000)}"}`);
    const res = await response;
    const body = await readAll(res);
    expectRelayError(
      { status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString(), json: () => JSON.parse(body.toString()) },
      413,
      "anthropic",
      "request_too_large",
    );
    expect(upstream.received.length).toBe(received);
  });

  it("413 for a chunked body over the limit while the relay looks for a late \"model\"; nothing reaches the upstream", async () => {
    const own = await startTestRelay({
      ...mockedDefaults(upstream.url),
      routes: [{ model: "claude-*", provider: "anthropic" }],
      limits: { maxBodyBytes: 1024 },
    });
    const started = upstream.started;
    const big = `{"pad":"${"x".repeat(1500)}","model":"claude-test"}`;
    const res = await send(`${own.url}/v1/messages`, { body: [big.slice(0, 500), big.slice(500)] });
    expectRelayError(res, 413, "anthropic", "request_too_large");
    expect(upstream.started).toBe(started);
    await own.close();
  });

  it("a body exactly at the limit passes", async () => {
    const body = `{"model":"m","pad":"${"x".repeat(1024 - 22)}"}`;
    expect(Buffer.byteLength(body)).toBe(1024);
    const res = await send(`${relay.url}/v1/messages`, { body: [body] });
    expect(res.status).toBe(200);
    expect(upstream.received.at(-1)!.sha256).toBe(sha256(body));
  });
});

describe("timeouts → 504", () => {
  let timing: TestRelay;
  beforeAll(async () => {
    timing = await startTestRelay({
      providers: {
        ...mockedDefaults(upstream.url).providers,
        // TLS to a server that accepts TCP and never answers: the handshake is part of connecting.
        mute: { kind: "openai", baseUrl: `https://127.0.0.1:${(silent.address() as AddressInfo).port}` },
      },
      timeouts: { headersMs: 300, connectMs: 300, idleMs: 300 },
    });
  });
  afterAll(async () => {
    await timing?.close();
  });

  it("upstream sends no headers within headersMs", async () => {
    upstream.handle(() => {});
    const res = await send(`${timing.url}/v1/messages`, { body: ANTHROPIC_BODY });
    const message = expectRelayError(res, 504, "anthropic", "timeout_error");
    expect(message).toMatch(/headersMs/);
    await timing.waitForRecords(1);
    expect(timing.records[0]).toMatchObject({ status: 504, provider: "anthropic" });
  });

  it("upstream goes idle mid-stream past idleMs: the stream ends with an error event in the route's API shape", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write('data: {"id":"c1","choices":[{"index":0,"delta":{"content":"a"}}]}\n\n');
    });
    const res = await send(`${timing.url}/v1/chat/completions`, { body: OPENAI_BODY });
    expect(res.status).toBe(200);
    const events = res.text.split("\n\n").filter(Boolean);
    expect(events).toHaveLength(2);
    expect(events[1]).toMatch(/^event: error\ndata: /);
    const error = JSON.parse(events[1]!.slice(events[1]!.indexOf("data: ") + 6)) as { error: { message: string; code: string } };
    expect(error.error.code).toBe("upstream_timeout");
    expect(error.error.message).toMatch(/^llm-relay: .*idleMs/);
  });

  it("upstream connection not established within connectMs", async () => {
    const res = await send(`${timing.url}/mute/v1/chat/completions`, { body: OPENAI_BODY });
    const message = expectRelayError(res, 504, "openai", "server_error");
    expect(message).toMatch(/timed out connecting/);
  });
});

describe("upstream responses pass through untouched", () => {
  it.each([
    [
      429,
      { "content-type": "application/json", "retry-after": "30", "request-id": "req_011CTx", "anthropic-ratelimit-requests-remaining": "0" },
      '{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit"}}',
    ],
    [529, { "content-type": "application/json", "request-id": "req_overloaded", "x-should-retry": "true" }, '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'],
    [500, { "content-type": "text/plain; charset=utf-8", "x-request-id": "abc" }, "upstream exploded ✗\n"],
    [401, { "content-type": "application/json", "www-authenticate": 'Bearer realm="x"' }, '{"error":{"message":"Incorrect API key","type":"invalid_request_error","code":"invalid_api_key"}}'],
  ] as const)("%i with its headers and body bytes", async (status, headers, body) => {
    upstream.handle((_req, res) => {
      res.writeHead(status, { ...headers, "content-length": Buffer.byteLength(body) });
      res.end(body);
    });
    const res = await send(`${relay.url}/v1/messages`, { body: ANTHROPIC_BODY });
    expect(res.status).toBe(status);
    for (const [name, value] of Object.entries(headers)) expect(res.headers[name]).toBe(value);
    expect(res.body.equals(Buffer.from(body))).toBe(true);
  });

  // Review findings: an upstream's 103 Early Hints used to turn its 200 into an empty reply, and
  // a reason phrase with non-ASCII bytes used to leave the client waiting forever.
  it.each([
    ["a 103 Early Hints before the 200", "HTTP/1.1 103 Early Hints\r\nlink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\n"],
    ["a reason phrase with non-ASCII bytes", "HTTP/1.1 200 \xe9\xff odd\r\n"],
  ])("relays the final answer after %s", async (_label, statusLines) => {
    const raw = net.createServer((socket) => {
      socket.once("data", () => {
        const body = '{"ok":true}';
        socket.end(Buffer.from(`${statusLines}content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`, "latin1"));
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, "127.0.0.1", resolve));
    const rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
    const odd = await startTestRelay({ providers: { anthropic: { kind: "anthropic", baseUrl: rawUrl } } });
    try {
      const res = await send(`${odd.url}/v1/messages`, { body: ANTHROPIC_BODY });
      expect(res.status).toBe(200);
      expect(res.text).toBe('{"ok":true}');
      expect((await odd.waitForRecords(1))[0]).toMatchObject({ status: 200 });
      expect(odd.inFlight).toBe(0);
    } finally {
      await odd.close();
      raw.close();
    }
  });

  it("a 404 for a path holding a key names the path with the key redacted, in the body and the record", async () => {
    const before = relay.records.length;
    const res = await send(`${relay.url}/nowhere/${OAUTH_TOKEN}/x`, { method: "GET" });
    expect(res.status).toBe(404);
    expect(res.text).not.toContain(OAUTH_TOKEN.slice(-20));
    const record = (await relay.waitForRecords(before + 1))[before]!;
    expect(JSON.stringify(record)).not.toContain(OAUTH_TOKEN.slice(-20));
    expect(record.error).toMatch(/sk-ant-oat01-…\[len=108 #[0-9a-f]{6}\]/);
  });

  it("keeps the query string, through routes and provider prefixes", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
    const before = upstream.received.length;
    await send(`${relay.url}/v1/messages?beta=true&q=a%20b&empty=`, { body: ANTHROPIC_BODY });
    await send(`${relay.url}/openai/v1/models?limit=5&after=x%2Fy`);
    expect(upstream.received.slice(before).map((r) => r.url)).toEqual([
      "/v1/messages?beta=true&q=a%20b&empty=",
      "/v1/models?limit=5&after=x%2Fy",
    ]);
  });

  it("does not relay hop-by-hop response headers, nor those Connection names", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200, {
        "content-type": "application/json",
        connection: "keep-alive, x-hop-secret",
        "keep-alive": "timeout=77",
        "x-hop-secret": "per-connection",
        "proxy-authenticate": 'Basic realm="upstream"',
        "x-end-to-end": "kept",
        "request-id": "req_hop",
      });
      res.end("{}");
    });
    const res = await send(`${relay.url}/v1/messages`, { body: ANTHROPIC_BODY });
    expect(res.status).toBe(200);
    expect(res.headers["x-end-to-end"]).toBe("kept");
    expect(res.headers["request-id"]).toBe("req_hop");
    expect(res.headers["x-hop-secret"]).toBeUndefined();
    expect(res.headers["proxy-authenticate"]).toBeUndefined();
    // Node writes its own keep-alive for the client hop; the upstream's must not be copied.
    expect(res.headers["keep-alive"]).not.toBe("timeout=77");
    expect(res.text).toBe("{}");
  });
});
