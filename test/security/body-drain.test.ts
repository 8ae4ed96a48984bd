/**
 * DESIGN §8: a refused body (413) reaches the client as a 413. With `limits.maxBodyBytes` at
 * 1 MiB and 8 MiB bodies, clients that are still uploading when the relay answers used to get
 * EPIPE/ECONNRESET instead; the relay now drains (bounded in bytes and time) before closing.
 * Each client kind sends 20 times and must read the 413 every time; the upstream receives nothing.
 */
import http from "node:http";
import net from "node:net";
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANTHROPIC_API_KEY } from "../fixtures/tokens.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults, startTestRelay, type TestRelay } from "../helpers/relay.js";
import { head, rawExchange } from "./raw-socket.js";

const LIMIT = 1024 * 1024;
const ROUNDS = 20;
/** ~8 MiB of JSON: a messages request with one long user turn. */
const BIG = JSON.stringify({ model: "claude-test", max_tokens: 1, messages: [{ role: "user", content: "x".repeat(8 * LIMIT) }] });

/** The same, with "model" last: a relay routing by model reads past the limit before it could decide. */
const BIG_MODEL_LAST = JSON.stringify({ max_tokens: 1, messages: [{ role: "user", content: "x".repeat(8 * LIMIT) }], model: "claude-test" });

let upstream: MockUpstream;
let relay: TestRelay;
/** Routes by model, so a chunked body is read (up to the limit) before anything is sent upstream. */
let modelRelay: TestRelay;

beforeAll(async () => {
  upstream = await startMockUpstream();
  relay = await startTestRelay({ ...mockedDefaults(upstream.url), limits: { maxBodyBytes: LIMIT } });
  modelRelay = await startTestRelay({
    ...mockedDefaults(upstream.url),
    routes: [{ model: "claude-*", provider: "anthropic" }],
    limits: { maxBodyBytes: LIMIT },
  });
});
afterAll(async () => {
  await relay?.close();
  await modelRelay?.close();
  await upstream?.close();
});

/** node:http, with or without Content-Length (chunked): resolves with the status it read, or the error code. */
function nodeHttpPost(chunked: boolean, target: TestRelay = relay, payload = BIG): Promise<number | string> {
  return new Promise((resolve) => {
    const url = new URL(`${target.url}/v1/messages`);
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: "POST",
        agent: false,
        headers: {
          "content-type": "application/json",
          "x-api-key": ANTHROPIC_API_KEY,
          "anthropic-version": "2023-06-01",
          ...(chunked ? {} : { "content-length": Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
      },
    );
    req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "error"));
    if (chunked) {
      // Several writes, as a streaming client would send them.
      const buf = Buffer.from(payload);
      for (let at = 0; at < buf.length; at += 256 * 1024) req.write(buf.subarray(at, at + 256 * 1024));
      req.end();
    } else {
      req.end(payload);
    }
  });
}

describe(`bodies over limits.maxBodyBytes (1 MiB, 8 MiB sent) get their 413, ${ROUNDS} times per client`, { timeout: 180_000 }, () => {
  it.each([
    ["node:http with Content-Length", false, () => relay, BIG],
    ["node:http with Content-Length, relay routing by model", false, () => modelRelay, BIG_MODEL_LAST],
    ["node:http chunked (no Content-Length), relay routing by model", true, () => modelRelay, BIG_MODEL_LAST],
  ])("%s: nothing reaches the upstream", async (_name, chunked, target, payload) => {
    const before = upstream.started;
    const outcomes: Array<number | string> = [];
    for (let i = 0; i < ROUNDS; i++) outcomes.push(await nodeHttpPost(chunked, target(), payload));
    expect(outcomes).toEqual(Array(ROUNDS).fill(413));
    expect(upstream.started).toBe(before);
  });

  // Without Content-Length and without a model route the body streams upstream as it arrives, so
  // the limit trips mid-upload (the upstream sees a request cut short); the client still reads its 413.
  it("node:http chunked, streamed: the client reads the 413", async () => {
    const outcomes: Array<number | string> = [];
    for (let i = 0; i < ROUNDS; i++) outcomes.push(await nodeHttpPost(true));
    expect(outcomes).toEqual(Array(ROUNDS).fill(413));
  });

  it("fetch (undici)", async () => {
    const before = upstream.started;
    const outcomes: Array<number | string> = [];
    for (let i = 0; i < ROUNDS; i++) {
      try {
        const res = await fetch(`${relay.url}/v1/messages`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-api-key": ANTHROPIC_API_KEY, "anthropic-version": "2023-06-01" },
          body: BIG,
        });
        const body = (await res.json()) as { error?: { type?: string } };
        outcomes.push(res.status);
        expect(body.error?.type).toBeDefined();
      } catch (error) {
        outcomes.push(String((error as { cause?: { code?: string } }).cause?.code ?? error));
      }
    }
    expect(outcomes).toEqual(Array(ROUNDS).fill(413));
    expect(upstream.started).toBe(before);
  });

  it("the Anthropic SDK (maxRetries: 0)", async () => {
    const before = upstream.started;
    const client = new Anthropic({ apiKey: ANTHROPIC_API_KEY, baseURL: relay.url, maxRetries: 0 });
    const outcomes: Array<number | string> = [];
    for (let i = 0; i < ROUNDS; i++) {
      try {
        await client.messages.create({ model: "claude-test", max_tokens: 1, messages: [{ role: "user", content: "x".repeat(8 * LIMIT) }] });
        outcomes.push("no error");
      } catch (error) {
        outcomes.push(error instanceof Anthropic.APIError && error.status !== undefined ? error.status : String(error));
      }
    }
    expect(outcomes).toEqual(Array(ROUNDS).fill(413));
    expect(upstream.started).toBe(before);
  });

  it("a raw socket writing the whole body without reading first", async () => {
    const before = upstream.started;
    const body = Buffer.from(BIG);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await rawExchange(
        relay.port,
        (socket) => {
          socket.write(head(["POST /v1/messages HTTP/1.1", `Host: 127.0.0.1:${relay.port}`, "Content-Type: application/json", `Content-Length: ${body.length}`]));
          socket.write(body);
        },
        { timeoutMs: 30_000 },
      );
      statuses.push(res.status);
      expect(res.body).toContain("maxBodyBytes");
    }
    expect(statuses).toEqual(Array(5).fill(413));
    expect(upstream.started).toBe(before);
  });

  it("a client that keeps uploading after the 413 is read to the end (no reset), then the connection closes", async () => {
    const before = upstream.started;
    const outcome = await new Promise<{ status: string; writeError?: string; closedAfterAllSent: boolean }>((resolve) => {
      const socket = net.connect(relay.port, "127.0.0.1");
      const total = 8 * LIMIT;
      let raw = "";
      let sent = 0;
      let writeError: string | undefined;
      socket.on("error", (e: NodeJS.ErrnoException) => (writeError ??= e.code ?? "error"));
      socket.on("data", (chunk: Buffer) => {
        const first = raw === "";
        raw += chunk.toString("latin1");
        if (!first || !raw.includes("\r\n\r\n")) return;
        // The answer is here; keep sending the rest of the declared body, in pieces, over time.
        const pump = () => {
          if (sent >= total || socket.destroyed) return;
          const piece = Buffer.alloc(Math.min(LIMIT, total - sent), 0x78);
          sent += piece.length;
          socket.write(piece, () => setTimeout(pump, 20));
        };
        pump();
      });
      socket.on("close", () => resolve({ status: raw.slice(0, 12), ...(writeError ? { writeError } : {}), closedAfterAllSent: sent >= total }));
      socket.on("connect", () => {
        socket.write(head(["POST /v1/messages HTTP/1.1", `Host: 127.0.0.1:${relay.port}`, "Content-Type: application/json", `Content-Length: ${total}`]));
      });
    });
    expect(outcome).toEqual({ status: "HTTP/1.1 413", closedAfterAllSent: true });
    expect(upstream.started).toBe(before);
  });

  it("after the refusals the relay still serves a normal request", async () => {
    const res = await fetch(`${relay.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": ANTHROPIC_API_KEY, "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "claude-test", max_tokens: 1, messages: [] }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  });
});
