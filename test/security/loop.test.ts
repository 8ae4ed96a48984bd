/**
 * Loop detection (DESIGN §8): a provider whose baseUrl is the relay itself is a startup error,
 * and a request that comes back through the same relay (A → B → A) is answered 508 by its `Via`
 * marker instead of bouncing forever. The real upstream receives nothing either way.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/client.js";
import { startRelay, type RelayHandle } from "../../src/index.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults } from "../helpers/relay.js";

const BODY = JSON.stringify({ model: "claude-test", max_tokens: 8, messages: [{ role: "user", content: "hi" }] });

/** A port that was free a moment ago (the relay under test needs to know it before it listens). */
async function post(url: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: BODY,
  });
  return { status: res.status, text: await res.text() };
}

let upstream: MockUpstream;
beforeAll(async () => {
  upstream = await startMockUpstream();
});
afterAll(() => upstream?.close());

describe("loops", () => {
  it.each([
    ["127.0.0.1", (port: number) => `http://127.0.0.1:${port}`],
    ["localhost", (port: number) => `http://localhost:${port}`],
    ["a path prefix", (port: number) => `http://127.0.0.1:${port}/api`],
  ])("refuses to start when a provider's baseUrl is the relay itself (%s)", async (_name, urlFor) => {
    const port = await freePort();
    const start = startRelay({
      port,
      host: "127.0.0.1",
      config: { providers: { self: { kind: "anthropic", baseUrl: urlFor(port) } } },
    });
    await expect(start).rejects.toMatchObject({ name: "RelayStartError", code: "LOOP" });
    await expect(start).rejects.toThrow(/provider "self" .*this relay itself/);
    // The port was released: a correct config can start there now.
    const ok = await startRelay({ port, host: "127.0.0.1", config: mockedDefaults(upstream.url) });
    expect((await post(ok.url)).status).toBe(200);
    await ok.close();
  });

  it("answers 508 when a request comes back through the same relay (A → B → A), then still serves", async () => {
    const portB = await freePort();
    const relayA: RelayHandle = await startRelay({
      port: 0,
      host: "127.0.0.1",
      config: {
        providers: { ...mockedDefaults(upstream.url).providers, viaB: { kind: "anthropic", baseUrl: `http://127.0.0.1:${portB}` } },
        routes: [{ header: { "x-route": "b" }, provider: "viaB" }],
      },
    });
    const relayB: RelayHandle = await startRelay({
      port: portB,
      host: "127.0.0.1",
      config: { providers: { anthropic: { kind: "anthropic", baseUrl: relayA.url } } },
    });
    try {
      const started = upstream.started;
      const res = await fetch(`${relayA.url}/v1/messages`, {
        method: "POST",
        headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-route": "b" },
        body: BODY,
      });
      // A's 508 travels back through B and A untouched (upstream errors pass through, §6).
      expect(res.status).toBe(508);
      expect(await res.text()).toContain("already passed through this relay");
      expect(upstream.started).toBe(started);
      // Both relays still serve a normal request.
      expect((await post(relayA.url)).status).toBe(200);
      expect((await post(relayB.url)).status).toBe(200);
    } finally {
      await relayB.close();
      await relayA.close();
    }
  });
});
