/**
 * Request bodies reach the upstream byte for byte (DESIGN §3, §6): whatever the framing, size or
 * encoding, and whether or not the relay had to read "model" out of them to route.
 */
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { open, readAll, send, sha256 } from "../helpers/client.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults, startTestRelay, type TestRelay } from "../helpers/relay.js";

const MiB = 1024 * 1024;

let upstream: MockUpstream;
/** Routes by path and header only: the relay never needs the whole body. */
let plain: TestRelay;
/** Routes by model too: the relay must find "model" before it can pick a provider. */
let byModel: TestRelay;

beforeAll(async () => {
  upstream = await startMockUpstream();
  plain = await startTestRelay(mockedDefaults(upstream.url));
  byModel = await startTestRelay({
    providers: {
      ...mockedDefaults(upstream.url).providers,
      // Same mock, own path prefix: the URL the upstream sees says which provider was chosen.
      cheap: { kind: "anthropic", baseUrl: `${upstream.url}/cheap` },
    },
    routes: [{ model: "claude-*-haiku*", provider: "cheap" }],
  });
});
afterAll(async () => {
  await plain?.close();
  await byModel?.close();
  await upstream?.close();
});

/** A JSON body of roughly `size` bytes with "model" first or last. */
function bigBody(size: number, model: string, modelAt: "first" | "last"): Buffer {
  const filler = randomBytes(Math.ceil((size * 3) / 4)).toString("base64");
  const messages = `"messages":[{"role":"user","content":"${filler}"}]`;
  const text = modelAt === "first" ? `{"model":"${model}",${messages},"max_tokens":8}` : `{${messages},"max_tokens":8,"model":"${model}"}`;
  return Buffer.from(text);
}

const multibyte = JSON.stringify({
  max_tokens: 8,
  messages: [{ role: "user", content: "héllo ✓ 日本語 😀 — \u2028 \"quoted\" \\ back" }],
  model: "claude-sonnet-4-5",
  metadata: { note: "ünïcödé before and after" },
});

describe("request bodies are relayed byte for byte", () => {
  const cases: Array<[string, () => Buffer | Buffer[], "plain" | "byModel", string]> = [
    ['"model" not the first key, multibyte UTF-8 (Content-Length)', () => Buffer.from(multibyte), "plain", "/v1/messages"],
    ['"model" not the first key, multibyte UTF-8, model routes on', () => Buffer.from(multibyte), "byModel", "/v1/messages"],
    // A multibyte character split across chunk boundaries must survive the sniff-and-replay.
    [
      "chunked (no Content-Length), UTF-8 split across chunks",
      () => {
        const bytes = Buffer.from(multibyte);
        return [bytes.subarray(0, 37), bytes.subarray(37, 38), bytes.subarray(38, 101), bytes.subarray(101)];
      },
      "plain",
      "/v1/messages",
    ],
    [
      "chunked (no Content-Length), model routes on",
      () => {
        const bytes = Buffer.from(multibyte);
        return [bytes.subarray(0, 50), bytes.subarray(50)];
      },
      "byModel",
      "/v1/messages",
    ],
    ["20 MiB body (Content-Length)", () => bigBody(20 * MiB, "claude-sonnet-4-5", "first"), "plain", "/v1/messages"],
    [
      "20 MiB body sent chunked in 1 MiB pieces",
      () => {
        const bytes = bigBody(20 * MiB, "claude-sonnet-4-5", "first");
        const chunks: Buffer[] = [];
        for (let at = 0; at < bytes.length; at += MiB) chunks.push(bytes.subarray(at, at + MiB));
        return chunks;
      },
      "plain",
      "/v1/messages",
    ],
    ['8 MiB body, "model" at the very end, model routes on', () => bigBody(8 * MiB, "claude-3-5-haiku-latest", "last"), "byModel", "/cheap/v1/messages"],
    ['20 MiB body, "model" first, model routes on', () => bigBody(20 * MiB, "claude-3-5-haiku-latest", "first"), "byModel", "/cheap/v1/messages"],
  ];

  it.each(cases)("%s", async (_name, make, which, expectedUrl) => {
    const relay = which === "plain" ? plain : byModel;
    const body = make();
    const whole = Array.isArray(body) ? Buffer.concat(body) : body;
    const before = upstream.received.length;
    const res = await send(`${relay.url}/v1/messages`, {
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body,
    });
    expect(res.status).toBe(200);
    const got = upstream.received[before]!;
    expect(got.url).toBe(expectedUrl);
    expect(got.bytes).toBe(whole.length);
    expect(got.sha256).toBe(sha256(whole));
    if (!Array.isArray(body)) expect(got.headers["content-length"]).toBe(String(whole.length));
  });

  it("routes by a model found at the end of a body, and logs that model", async () => {
    const before = byModel.records.length;
    const body = bigBody(2 * MiB, "claude-3-5-haiku-20241022", "last");
    const res = await send(`${byModel.url}/v1/messages`, { headers: { "content-type": "application/json" }, body });
    expect(res.status).toBe(200);
    const [record] = (await byModel.waitForRecords(before + 1)).slice(before);
    expect(record).toMatchObject({ provider: "cheap", model: "claude-3-5-haiku-20241022", status: 200 });
  });

  it("a body without a model falls through to the other rules, intact", async () => {
    const before = upstream.received.length;
    const body = Buffer.from('{"messages":[],"max_tokens":1}');
    const res = await send(`${byModel.url}/v1/messages`, { body: [body] });
    expect(res.status).toBe(200);
    const got = upstream.received[before]!;
    expect(got.url).toBe("/v1/messages");
    expect(got.sha256).toBe(sha256(body));
  });
});

describe("response bodies are relayed byte for byte", () => {
  it("a 20 MiB response, read by a client that pauses, arrives intact", async () => {
    const payload = randomBytes(20 * MiB);
    upstream.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": payload.length });
      res.end(payload);
    });
    const res = await open(`${plain.url}/v1/files/file_1/content`, { headers: { "anthropic-version": "2023-06-01" } }).response;
    // Stall the reader: the relay must hold back (backpressure), not drop or reorder bytes.
    res.pause();
    await new Promise((resolve) => setTimeout(resolve, 200));
    res.resume();
    const body = await readAll(res);
    expect(res.headers["content-length"]).toBe(String(payload.length));
    expect(body.length).toBe(payload.length);
    expect(sha256(body)).toBe(sha256(payload));
  });

  it("a gzip-encoded response is passed on as the compressed bytes, not decoded", async () => {
    const json = JSON.stringify({ id: "msg_gz", content: [{ type: "text", text: "zipped ✓".repeat(100) }] });
    const compressed = gzipSync(json);
    upstream.handle((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip", "content-length": compressed.length });
      res.end(compressed);
    });
    const res = await send(`${plain.url}/v1/messages`, { body: multibyte, headers: { "accept-encoding": "gzip" } });
    expect(res.headers["content-encoding"]).toBe("gzip");
    expect(res.body.equals(compressed)).toBe(true);
    expect(upstream.received.at(-1)!.headers["accept-encoding"]).toBe("gzip");
  });
});
