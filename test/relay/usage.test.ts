/**
 * Usage end to end (DESIGN §9): recorded Anthropic and OpenAI responses served by the mock
 * upstream in awkward pieces (split inside a UTF-8 character, inside `data:` lines and inside
 * the `"usage"` key, with pauses), through the in-process relay. The client must get the
 * recorded bytes unchanged and the request record must carry the counts the recording holds.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send } from "../helpers/client.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults, startTestRelay, type TestRelay } from "../helpers/relay.js";

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "usage");
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name));
const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/**
 * Offsets that make a reader's life hard, found in the bytes themselves: the middle of each
 * multi-byte UTF-8 character, the middle of `data:` on every line that carries usage, and the
 * middle of the `"usage"` key and of the number after it.
 */
function awkwardOffsets(bytes: Buffer): number[] {
  const cuts = new Set<number>();
  for (let i = 0; i < bytes.length; i++) {
    // A UTF-8 lead byte of a 3- or 4-byte character (世, 👋, —): cut after its first byte.
    if (bytes[i]! >= 0xe0 && bytes[i]! <= 0xf4) cuts.add(i + 1);
  }
  for (let at = bytes.indexOf('"usage"'); at !== -1; at = bytes.indexOf('"usage"', at + 1)) {
    const lineStart = bytes.lastIndexOf("\n", at) + 1;
    cuts.add(lineStart + 2); // "da|ta:"
    cuts.add(at + 3); // '"us|age"'
    cuts.add(bytes.indexOf(":", bytes.indexOf("_tokens", at)) + 2); // after the first digit of the first count
  }
  return [...cuts].filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b);
}

function split(bytes: Buffer, offsets: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const at of offsets) {
    pieces.push(bytes.subarray(from, at));
    from = at;
  }
  pieces.push(bytes.subarray(from));
  return pieces;
}

function everyNBytes(bytes: Buffer, n: number): number[] {
  const offsets: number[] = [];
  for (let at = n; at < bytes.length; at += n) offsets.push(at);
  return offsets;
}

/** Serve `pieces` one write at a time with a pause between them (no Content-Length: chunked). */
async function servePieces(res: ServerResponse, contentType: string, pieces: Buffer[], pauseMs: number): Promise<void> {
  res.writeHead(200, { "content-type": contentType });
  for (const piece of pieces) {
    if (res.destroyed) return;
    res.write(piece);
    if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    else await new Promise((r) => setImmediate(r));
  }
  res.end();
}

let upstream: MockUpstream;
let relay: TestRelay;

beforeAll(async () => {
  upstream = await startMockUpstream();
  relay = await startTestRelay(mockedDefaults(upstream.url));
});
afterAll(async () => {
  await relay?.close();
  await upstream?.close();
});

// Expected counts are read off the recordings by hand (see the fixture files).
const CASES = [
  {
    name: "Anthropic Messages SSE",
    file: "anthropic-messages.sse",
    path: "/v1/messages",
    contentType: "text/event-stream; charset=utf-8",
    stream: true,
    // message_start: input 25, cache write 1024, cache read 2048; message_delta: output 15.
    // The text and tool input also hold "usage" with 9999 and 7777: they must not count.
    usage: { inputTokens: 25, outputTokens: 15, cacheReadTokens: 2048, cacheCreationTokens: 1024 },
  },
  {
    name: "OpenAI chat completions SSE",
    file: "openai-chat.sse",
    path: "/v1/chat/completions",
    contentType: "text/event-stream",
    stream: true,
    usage: { inputTokens: 1117, outputTokens: 46, cacheReadTokens: 1024 },
  },
  {
    name: "OpenAI Responses SSE",
    file: "openai-responses.sse",
    path: "/v1/responses",
    contentType: "text/event-stream",
    stream: true,
    usage: { inputTokens: 1337, outputTokens: 11, cacheReadTokens: 1152 },
  },
  {
    name: "Anthropic Messages JSON",
    file: "anthropic-message.json",
    path: "/v1/messages",
    contentType: "application/json",
    stream: false,
    usage: { inputTokens: 2095, outputTokens: 503, cacheReadTokens: 8192, cacheCreationTokens: 0 },
  },
  {
    name: "OpenAI chat completions JSON",
    file: "openai-chat.json",
    path: "/v1/chat/completions",
    contentType: "application/json",
    stream: false,
    usage: { inputTokens: 1117, outputTokens: 46, cacheReadTokens: 0 },
  },
  {
    name: "OpenAI Responses JSON",
    file: "openai-responses.json",
    path: "/v1/responses",
    contentType: "application/json",
    stream: false,
    usage: { inputTokens: 36, outputTokens: 87, cacheReadTokens: 0 },
  },
] as const;

const CHUNKINGS = [
  { chunking: "awkward offsets, 5 ms apart", offsets: awkwardOffsets, pauseMs: 5 },
  { chunking: "every 7 bytes", offsets: (b: Buffer) => everyNBytes(b, 7), pauseMs: 0 },
] as const;

describe.each(CASES)("$name through the relay", (c) => {
  it.each(CHUNKINGS)("$chunking: bytes unchanged, usage recorded", async ({ offsets, pauseMs }) => {
    const recorded = fixture(c.file);
    const cuts = offsets(recorded);
    expect(cuts.length).toBeGreaterThanOrEqual(3);
    upstream.handle((_req, res) => servePieces(res, c.contentType, split(recorded, cuts), pauseMs));

    const before = relay.records.length;
    const body = JSON.stringify({ model: "m-usage", stream: c.stream, messages: [{ role: "user", content: "hi" }] });
    const res = await send(`${relay.url}${c.path}`, { body, headers: { "content-type": "application/json" } });

    expect(res.status).toBe(200);
    expect(res.body.length).toBe(recorded.length);
    expect(sha256(res.body)).toBe(sha256(recorded));
    const record = (await relay.waitForRecords(before + 1))[before]!;
    expect(record).toMatchObject({ path: c.path, status: 200, stream: c.stream, model: "m-usage" });
    expect(record.usage).toEqual(c.usage);
    expect(record.ttfbMs).toBeGreaterThanOrEqual(0);
    expect(record.ttfbMs!).toBeLessThanOrEqual(record.durationMs);
  });
});

describe("awkward offsets", () => {
  it("do cut inside a multi-byte character and inside a data: line", () => {
    const recorded = fixture("anthropic-messages.sse");
    const pieces = split(recorded, awkwardOffsets(recorded));
    // Some piece is not valid UTF-8 on its own, and some piece ends in "da".
    expect(pieces.some((p) => Buffer.from(p.toString("utf8")).length !== p.length)).toBe(true);
    expect(pieces.some((p) => p.toString("latin1").endsWith("\nda"))).toBe(true);
  });
});

it("counts nothing for a response without usage, and still relays it unchanged", async () => {
  const recorded = Buffer.from('{"type":"message","content":[{"type":"text","text":"no usage here 👋"}]}');
  upstream.handle((_req, res) => servePieces(res, "application/json", split(recorded, everyNBytes(recorded, 5)), 0));
  const before = relay.records.length;
  const res = await send(`${relay.url}/v1/messages`, { body: '{"model":"m"}', headers: { "content-type": "application/json" } });
  expect(sha256(res.body)).toBe(sha256(recorded));
  const record = (await relay.waitForRecords(before + 1))[before]!;
  expect(record.status).toBe(200);
  expect(record.usage).toBeUndefined();
});
