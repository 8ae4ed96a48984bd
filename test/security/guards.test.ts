/**
 * DESIGN §8 against a live relay and a mock upstream: every refused request gets its status,
 * nothing reaches the upstream, and the relay still serves a normal request afterwards.
 * Raw-socket cases write the exact bytes a hostile client or web page would send.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults, startTestRelay, type TestRelay } from "../helpers/relay.js";
import { ANTHROPIC_API_KEY, INJECTED_KEY, RELAY_TOKEN } from "../fixtures/tokens.js";
import { DRAIN_LIMITS } from "../../src/relay/request-body.js";
import { head, rawExchange } from "./raw-socket.js";

const MAX_BODY = 64 * 1024;
const BODY = JSON.stringify({ model: "claude-test", max_tokens: 8, messages: [{ role: "user", content: "hi" }] });

let upstream: MockUpstream;
let relay: TestRelay;

/** A well-formed request from a local client: it must always be relayed. */
async function expectServesNormally(target: TestRelay = relay, headers: Record<string, string> = {}): Promise<void> {
  const before = upstream.received.length;
  const res = await fetch(`${target.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": ANTHROPIC_API_KEY, ...headers },
    body: BODY,
  });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { id: string }).id).toBe("msg_test");
  expect(upstream.received.length).toBe(before + 1);
}

/** Snapshot of what the upstream has seen, to assert that a case added nothing. */
function upstreamMark() {
  const started = upstream.started;
  const received = upstream.received.length;
  return {
    expectNothingArrived() {
      expect(upstream.started).toBe(started);
      expect(upstream.received.length).toBe(received);
    },
  };
}

beforeAll(async () => {
  upstream = await startMockUpstream();
  relay = await startTestRelay({
    ...mockedDefaults(upstream.url),
    providers: {
      ...mockedDefaults(upstream.url).providers,
      gw: { kind: "anthropic", baseUrl: upstream.url, apiKey: INJECTED_KEY },
      gwbearer: { kind: "openai", baseUrl: upstream.url, apiKey: INJECTED_KEY },
    },
    limits: { maxBodyBytes: MAX_BODY },
  });
});
afterAll(async () => {
  await relay?.close();
  await upstream?.close();
});

describe("Host guard (DNS rebinding)", () => {
  afterEach(() => expectServesNormally());

  it.each([
    ["a rebinding name with the relay's port", (port: number) => `evil.example:${port}`],
    ["a rebinding name without a port", () => "evil.example"],
    ["a name that resolves to loopback elsewhere", (port: number) => `127.0.0.1.nip.io:${port}`],
    ["loopback with another port", (port: number) => `127.0.0.1:${port + 1}`],
  ])("refuses %s with 403", async (_name, hostFor) => {
    const mark = upstreamMark();
    const res = await rawExchange(
      relay.port,
      head(["POST /v1/messages HTTP/1.1", `Host: ${hostFor(relay.port)}`, "Content-Type: application/json", `Content-Length: ${BODY.length}`]) + BODY,
    );
    expect(res.status).toBe(403);
    expect(res.body).toContain("DNS rebinding");
    mark.expectNothingArrived();
  });

  it.each(["127.0.0.1", "localhost", "[::1]"])("accepts Host %s:<port>", async (name) => {
    const res = await rawExchange(relay.port, head(["GET /_relay/health HTTP/1.1", `Host: ${name}:${relay.port}`, "Connection: close"]));
    expect(res.status).toBe(200);
  });
});

describe("Origin guard (cross-site browser requests)", () => {
  afterEach(() => expectServesNormally());

  it.each([
    ["JSON POST", "https://evil.example", "application/json"],
    ["text/plain simple POST (no preflight in browsers)", "https://evil.example", "text/plain"],
    ["opaque origin null (sandboxed iframe, file:)", "null", "text/plain"],
    // §8: loopback is localhost, 127.0.0.0/8 and ::1 only; a *.localhost page is another site.
    ["*.localhost page", "http://app.localhost:3000", "application/json"],
    ["look-alike localhost page", "http://localhost.evil.example", "text/plain"],
  ])("refuses a %s with 403 and no CORS allowance", async (_name, origin, type) => {
    const mark = upstreamMark();
    const res = await rawExchange(
      relay.port,
      head(["POST /v1/messages HTTP/1.1", `Host: 127.0.0.1:${relay.port}`, `Origin: ${origin}`, `Content-Type: ${type}`, `Content-Length: ${BODY.length}`]) + BODY,
    );
    expect(res.status).toBe(403);
    expect(res.body).toContain("cross-site");
    expect(Object.keys(res.headers).filter((h) => h.startsWith("access-control-"))).toEqual([]);
    mark.expectNothingArrived();
  });

  it("gives a foreign preflight OPTIONS no allowance", async () => {
    const mark = upstreamMark();
    const res = await rawExchange(
      relay.port,
      head([
        "OPTIONS /v1/messages HTTP/1.1",
        `Host: 127.0.0.1:${relay.port}`,
        "Origin: https://evil.example",
        "Access-Control-Request-Method: POST",
        "Access-Control-Request-Headers: content-type, x-api-key",
      ]),
    );
    expect(res.status).toBe(403);
    expect(Object.keys(res.headers).filter((h) => h.startsWith("access-control-"))).toEqual([]);
    mark.expectNothingArrived();
  });
});

describe("framing and limits", () => {
  afterEach(() => expectServesNormally());

  it("refuses Content-Length with Transfer-Encoding (request smuggling, RFC 9112 §6.1) with 400 and closes", async () => {
    const mark = upstreamMark();
    const res = await rawExchange(
      relay.port,
      head(["POST /v1/messages HTTP/1.1", `Host: 127.0.0.1:${relay.port}`, "Content-Length: 4", "Transfer-Encoding: chunked"]) +
        "0\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    );
    expect(res.status).toBe(400);
    expect(res.closed).toBe(true);
    mark.expectNothingArrived();
  });

  it("refuses differing duplicate Content-Length (RFC 9112 §6.3) with 400 and closes", async () => {
    const mark = upstreamMark();
    const res = await rawExchange(
      relay.port,
      head(["POST /v1/messages HTTP/1.1", `Host: 127.0.0.1:${relay.port}`, "Content-Length: 2", "Content-Length: 20"]) + "{}" + "x".repeat(18),
    );
    expect(res.status).toBe(400);
    expect(res.closed).toBe(true);
    mark.expectNothingArrived();
  });

  it("answers a 20 KiB header with 431", async () => {
    const mark = upstreamMark();
    const res = await rawExchange(
      relay.port,
      head(["POST /v1/messages HTTP/1.1", `Host: 127.0.0.1:${relay.port}`, `X-Big: ${"a".repeat(20 * 1024)}`, "Content-Length: 2"]) + "{}",
    );
    expect(res.status).toBe(431);
    mark.expectNothingArrived();
  });

  it("answers 2,500 small headers (under 16 KiB in all) with 431 rather than dropping the excess", async () => {
    const mark = upstreamMark();
    const many = Array.from({ length: 2500 }, () => "a: 1");
    const request = head(["POST /v1/messages HTTP/1.1", `Host: 127.0.0.1:${relay.port}`, ...many, "Content-Length: 2"]) + "{}";
    expect(request.length).toBeLessThan(16 * 1024);
    const res = await rawExchange(relay.port, request);
    expect(res.status).toBe(431);
    mark.expectNothingArrived();
  });

  it("relays exactly 1,000 headers", async () => {
    const before = upstream.received.length;
    const many = Array.from({ length: 996 }, (_, i) => `x-h${i}: 1`);
    const res = await rawExchange(
      relay.port,
      head(["POST /v1/messages HTTP/1.1", `Host: 127.0.0.1:${relay.port}`, "Anthropic-Version: 2023-06-01", ...many, "Connection: close", `Content-Length: ${BODY.length}`]) + BODY,
    );
    expect(res.status).toBe(200);
    expect(upstream.received.length).toBe(before + 1);
  });

  it("refuses a body over maxBodyBytes by Content-Length with 413, before reading it", async () => {
    const mark = upstreamMark();
    const res = await rawExchange(
      relay.port,
      head(["POST /v1/messages HTTP/1.1", `Host: 127.0.0.1:${relay.port}`, "Anthropic-Version: 2023-06-01", `Content-Length: ${MAX_BODY + 1}`]) + "{",
      // The relay drains a refused body before closing (§8), and gives up on a client that sends nothing more.
      { closeWaitMs: DRAIN_LIMITS.idleMs + 2_000 },
    );
    expect(res.status).toBe(413);
    expect(res.body).toContain("maxBodyBytes");
    expect(res.closed).toBe(true);
    mark.expectNothingArrived();
  });

  it("refuses a chunked body that grows over maxBodyBytes with 413; the upstream never gets a complete request", async () => {
    const received = upstream.received.length;
    const chunk = "x".repeat(16 * 1024);
    const chunks = Array.from({ length: 6 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join("") + "0\r\n\r\n";
    const res = await rawExchange(
      relay.port,
      head(["POST /v1/messages HTTP/1.1", `Host: 127.0.0.1:${relay.port}`, "Anthropic-Version: 2023-06-01", "Transfer-Encoding: chunked"]) + chunks,
    );
    expect(res.status).toBe(413);
    // Give an aborted upload time to show up if it wrongly completed.
    await new Promise((r) => setTimeout(r, 200));
    expect(upstream.received.length).toBe(received);
  });

  it("refuses Expect: 100-continue with an oversized Content-Length without inviting the body", async () => {
    const mark = upstreamMark();
    const res = await rawExchange(
      relay.port,
      head(["POST /v1/messages HTTP/1.1", `Host: 127.0.0.1:${relay.port}`, "Expect: 100-continue", `Content-Length: ${MAX_BODY + 1}`]),
    );
    expect(res.status).toBe(413);
    expect(res.raw).not.toContain("100 Continue");
    mark.expectNothingArrived();
  });

  it("answers Expect: 100-continue and relays the body without forwarding expect", async () => {
    const before = upstream.received.length;
    const res = await rawExchange(relay.port, (socket) => {
      socket.write(
        head(["POST /v1/messages HTTP/1.1", `Host: 127.0.0.1:${relay.port}`, "Anthropic-Version: 2023-06-01", "Expect: 100-continue", "Connection: close", `Content-Length: ${BODY.length}`]),
      );
      socket.once("data", () => socket.write(BODY));
    });
    expect(res.raw).toMatch(/^HTTP\/1\.1 100 Continue/);
    expect(res.status).toBe(200);
    expect(upstream.received.length).toBe(before + 1);
    expect(upstream.received.at(-1)!.headers.expect).toBeUndefined();
    expect(upstream.received.at(-1)!.body.toString()).toBe(BODY);
  });

  it.each([
    ["absolute-form target (forward-proxy use)", "GET http://evil.example/v1/models HTTP/1.1"],
    ["absolute-form target naming the relay", "POST http://127.0.0.1/v1/messages HTTP/1.1"],
    ["asterisk-form target", "OPTIONS * HTTP/1.1"],
  ])("refuses an %s with 405", async (_name, requestLine) => {
    const mark = upstreamMark();
    const res = await rawExchange(relay.port, head([requestLine, `Host: 127.0.0.1:${relay.port}`, "Content-Length: 0"]));
    expect(res.status).toBe(405);
    mark.expectNothingArrived();
  });

  it("refuses CONNECT (a tunnel to anywhere) with 405 and closes", async () => {
    const mark = upstreamMark();
    const res = await rawExchange(relay.port, head(["CONNECT evil.example:443 HTTP/1.1", "Host: evil.example:443"]));
    expect(res.status).toBe(405);
    expect(res.closed).toBe(true);
    mark.expectNothingArrived();
  });
});

describe("Connection cannot strip an injected key (RFC 9110 §7.6.1 applies to the client's hop only)", () => {
  afterEach(() => expectServesNormally());

  it.each([
    ["x-api-key", "/gw/v1/messages", "x-api-key", INJECTED_KEY],
    ["authorization", "/gwbearer/v1/chat/completions", "authorization", `Bearer ${INJECTED_KEY}`],
    ["x-api-key, authorization, via", "/gw/v1/messages", "x-api-key", INJECTED_KEY],
  ])("Connection: %s still delivers the configured key", async (listed, path, header, expected) => {
    const before = upstream.received.length;
    const res = await rawExchange(
      relay.port,
      head([
        `POST ${path} HTTP/1.1`,
        `Host: 127.0.0.1:${relay.port}`,
        `Connection: ${listed}`,
        "x-api-key: client-supplied-key-0123456789",
        "Authorization: Bearer client-supplied-token-0123456789",
        "Content-Type: application/json",
        `Content-Length: ${BODY.length}`,
      ]) + BODY,
    );
    expect(res.status).toBe(200);
    expect(upstream.received.length).toBe(before + 1);
    const got = upstream.received.at(-1)!;
    expect(got.headers[header]).toBe(expected);
    expect(JSON.stringify(got.headers)).not.toContain("client-supplied");
  });
});

describe("token guard", () => {
  let guarded: TestRelay;
  beforeAll(async () => {
    guarded = await startTestRelay(mockedDefaults(upstream.url), { token: RELAY_TOKEN });
  });
  afterAll(() => guarded?.close());
  afterEach(() => expectServesNormally(guarded, { "x-llm-relay-token": RELAY_TOKEN }));

  it.each([
    ["no token", "/v1/messages", []],
    ["a wrong header token", "/v1/messages", [`X-Llm-Relay-Token: ${RELAY_TOKEN.slice(0, -1)}x`]],
    ["a wrong path token", `/_t/${RELAY_TOKEN}x/v1/messages`, []],
    ["a right path token but a wrong header token", `/_t/${RELAY_TOKEN}/v1/messages`, ["X-Llm-Relay-Token: wrong-token-0123456789"]],
  ])("refuses %s with 401", async (_name, path, extra) => {
    const mark = upstreamMark();
    const res = await rawExchange(
      guarded.port,
      head([`POST ${path} HTTP/1.1`, `Host: 127.0.0.1:${guarded.port}`, "Content-Type: application/json", ...extra, `Content-Length: ${BODY.length}`]) + BODY,
    );
    expect(res.status).toBe(401);
    expect(res.raw).not.toContain(RELAY_TOKEN);
    mark.expectNothingArrived();
  });

  it("accepts the token as a path prefix and never forwards it", async () => {
    const before = upstream.received.length;
    const res = await fetch(`${guarded.url}/_t/${RELAY_TOKEN}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: BODY,
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(upstream.received.length).toBe(before + 1);
    const got = upstream.received.at(-1)!;
    expect(got.url).toBe("/v1/messages");
    expect(JSON.stringify(got)).not.toContain(RELAY_TOKEN);
  });
});
