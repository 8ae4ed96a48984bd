/**
 * Slow clients (DESIGN §8, slowloris): a client that drips its headers or its body is cut off
 * after `timeouts.clientHeadersMs` / `clientBodyMs`, while other clients are served meanwhile,
 * and the upstream never receives a complete request from the slow one.
 */
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults, startTestRelay, type TestRelay } from "../helpers/relay.js";
import { ANTHROPIC_API_KEY } from "../fixtures/tokens.js";
import { head, rawExchange } from "./raw-socket.js";

const BODY = JSON.stringify({ model: "claude-test", max_tokens: 8, messages: [{ role: "user", content: "hi" }] });

let upstream: MockUpstream;
let relay: TestRelay;

beforeAll(async () => {
  upstream = await startMockUpstream();
  relay = await startTestRelay({ ...mockedDefaults(upstream.url), timeouts: { clientHeadersMs: 500, clientBodyMs: 1500 } });
});
afterAll(async () => {
  await relay?.close();
  await upstream?.close();
});

async function normalRequest(): Promise<number> {
  const res = await fetch(`${relay.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": ANTHROPIC_API_KEY },
    body: BODY,
  });
  await res.arrayBuffer();
  return res.status;
}

/** Write `text` one byte per `everyMs` until the socket closes; returns a stop function. */
function drip(socket: Socket, text: string, everyMs: number): () => void {
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || i >= text.length) return clearInterval(timer);
    socket.write(text[i++]!);
  }, everyMs);
  socket.on("close", () => clearInterval(timer));
  return () => clearInterval(timer);
}

describe("slow clients", () => {
  it("closes a connection whose headers drip in (slowloris) and serves another client meanwhile", async () => {
    const received = upstream.received.length;
    const started = upstream.started;
    let stop = () => {};
    const slow = rawExchange(
      relay.port,
      (socket) => {
        // A header line that never ends in time: 1 byte every 50 ms, far past clientHeadersMs.
        socket.write(`POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1:${relay.port}\r\n`);
        stop = drip(socket, `X-Slow: ${"a".repeat(2000)}\r\n\r\n`, 50);
      },
      { timeoutMs: 20_000 },
    );
    // Another client is served while the slow one is still connected.
    expect(await normalRequest()).toBe(200);
    const res = await slow;
    stop();
    expect(res.closed).toBe(true);
    // Node answers 408 when it can; either way the connection is gone.
    expect([0, 408]).toContain(res.status);
    expect(upstream.started).toBe(started + 1);
    expect(upstream.received.length).toBe(received + 1);
    expect(await normalRequest()).toBe(200);
  });

  it("closes a connection whose body drips in; the upstream never gets a complete request", async () => {
    const received = upstream.received.length;
    let stop = () => {};
    const slow = rawExchange(
      relay.port,
      (socket) => {
        socket.write(
          head(["POST /v1/messages HTTP/1.1", `Host: 127.0.0.1:${relay.port}`, "Anthropic-Version: 2023-06-01", "Content-Length: 4000"]),
        );
        stop = drip(socket, "x".repeat(4000), 20);
      },
      { timeoutMs: 20_000 },
    );
    expect(await normalRequest()).toBe(200);
    const res = await slow;
    stop();
    expect(res.closed).toBe(true);
    expect(res.status).not.toBe(200);
    // The relay gave up on the exchange too (no request left hanging on the upstream).
    const deadline = Date.now() + 5000;
    while (relay.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(relay.inFlight).toBe(0);
    // Only the normal request completed at the upstream.
    expect(upstream.received.length).toBe(received + 1);
    expect(upstream.received.every((r) => r.bytes !== 4000)).toBe(true);
    expect(await normalRequest()).toBe(200);
  });
});
