import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  MAX_JSON_BODY_BYTES,
  MAX_SSE_LINE_BYTES,
  createUsageTap,
  type Usage,
} from "../../src/relay/usage-tap.js";

const SSE = "text/event-stream";
const JSON_TYPE = "application/json";

function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/usage/${name}`, import.meta.url));
}

/** Push every chunk into a fresh tap for `contentType` and return what it found. */
function usageOf(contentType: string, chunks: Iterable<Uint8Array>): Usage | undefined {
  const tap = createUsageTap(contentType);
  if (tap === undefined) throw new Error(`no tap for ${contentType}`);
  for (const chunk of chunks) tap.push(chunk);
  return tap.end();
}

/** Views (not copies) of `bytes` cut at `positions`, like the slices a socket hands over. */
function splitAt(bytes: Buffer, positions: readonly number[]): Buffer[] {
  const cuts = [...new Set([0, ...positions, bytes.length])].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  for (let i = 1; i < cuts.length; i += 1) chunks.push(bytes.subarray(cuts[i - 1], cuts[i]));
  return chunks;
}

function everyByte(bytes: Buffer): Buffer[] {
  return Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
}

function inChunksOf(bytes: Buffer, size: number): Buffer[] {
  const positions: number[] = [];
  for (let at = size; at < bytes.length; at += size) positions.push(at);
  return splitAt(bytes, positions);
}

/** Deterministic chunk sizes from 1 to 64 bytes (mulberry32), so a failure reproduces. */
function randomChunks(bytes: Buffer, seed: number): Buffer[] {
  let state = seed;
  const next = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const positions: number[] = [];
  for (let at = 1 + Math.floor(next() * 64); at < bytes.length; at += 1 + Math.floor(next() * 64)) positions.push(at);
  return splitAt(bytes, positions);
}

/** Plain Uint8Array views with a non-zero offset: the tap must not assume Buffers. */
function asPlainViews(chunks: Buffer[]): Uint8Array[] {
  return chunks.map((chunk) => new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
}

/** Every index where `needle` starts in `bytes`. */
function indexesOf(bytes: Buffer, needle: string | Buffer): number[] {
  const found: number[] = [];
  for (let at = bytes.indexOf(needle); at !== -1; at = bytes.indexOf(needle, at + 1)) found.push(at);
  return found;
}

function withLineEnds(bytes: Buffer, lineEnd: "\n" | "\r\n" | "\r"): Buffer {
  return Buffer.from(bytes.toString("utf8").replaceAll("\n", lineEnd), "utf8");
}

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

const sseStreams = [
  {
    name: "Anthropic Messages",
    file: "anthropic-messages.sse",
    expected: { inputTokens: 25, outputTokens: 15, cacheReadTokens: 2048, cacheCreationTokens: 1024 },
    // message_start, the tool block named "usage" (a value, not a key), message_delta.
    parsedLines: 3,
  },
  {
    name: "OpenAI chat completions",
    file: "openai-chat.sse",
    expected: { inputTokens: 1117, outputTokens: 46, cacheReadTokens: 1024 },
    // Only the include_usage chunk; the `"usage":null` chunks are skipped without parsing.
    parsedLines: 1,
  },
  {
    name: "OpenAI Responses",
    file: "openai-responses.sse",
    expected: { inputTokens: 1337, outputTokens: 11, cacheReadTokens: 1152 },
    parsedLines: 1,
  },
] as const;

const lineEndings = [
  { label: "LF", lineEnd: "\n" },
  { label: "CRLF", lineEnd: "\r\n" },
  { label: "CR", lineEnd: "\r" },
] as const;

const sseCases = sseStreams.flatMap((stream) =>
  lineEndings.map(({ label, lineEnd }) => ({
    ...stream,
    label,
    bytes: withLineEnds(fixture(stream.file), lineEnd),
  })),
);

afterEach(() => {
  vi.restoreAllMocks();
});

describe("createUsageTap: which responses get a tap", () => {
  it.each([
    { contentType: "application/json", encoding: undefined },
    { contentType: "application/json; charset=utf-8", encoding: undefined },
    { contentType: "Application/JSON ; charset=UTF-8", encoding: undefined },
    { contentType: "application/problem+json", encoding: undefined },
    { contentType: "text/event-stream", encoding: undefined },
    { contentType: "text/event-stream; charset=utf-8", encoding: undefined },
    { contentType: "application/json", encoding: "identity" },
    { contentType: "text/event-stream", encoding: "Identity" },
    { contentType: "application/json", encoding: "" },
  ])("$contentType with content-encoding $encoding → a tap", ({ contentType, encoding }) => {
    expect(createUsageTap(contentType, encoding)).toBeDefined();
  });

  it.each([
    { contentType: undefined, encoding: undefined },
    { contentType: "", encoding: undefined },
    { contentType: "text/plain", encoding: undefined },
    { contentType: "text/html; charset=utf-8", encoding: undefined },
    { contentType: "application/octet-stream", encoding: undefined },
    { contentType: "application/x-ndjson", encoding: undefined },
    { contentType: "application/json", encoding: "gzip" },
    { contentType: "text/event-stream", encoding: "br" },
    { contentType: "application/json", encoding: "identity, gzip" },
    { contentType: "text/event-stream", encoding: "zstd" },
  ])("$contentType with content-encoding $encoding → no tap", ({ contentType, encoding }) => {
    expect(createUsageTap(contentType, encoding)).toBeUndefined();
  });
});

describe("SSE streams", () => {
  it.each(sseCases)("$name ($label): whole, byte by byte, in random chunks, as plain Uint8Arrays", (stream) => {
    expect(usageOf(SSE, [stream.bytes])).toEqual(stream.expected);
    expect(usageOf(SSE, everyByte(stream.bytes))).toEqual(stream.expected);
    for (let seed = 1; seed <= 20; seed += 1) {
      expect(usageOf(SSE, randomChunks(stream.bytes, seed)), `seed ${seed}`).toEqual(stream.expected);
    }
    expect(usageOf(SSE, asPlainViews(randomChunks(stream.bytes, 99)))).toEqual(stream.expected);
  });

  it.each(sseCases)("$name ($label): split in two at every position", (stream) => {
    for (let at = 0; at <= stream.bytes.length; at += 1) {
      expect(usageOf(SSE, splitAt(stream.bytes, [at])), `split at ${at}`).toEqual(stream.expected);
    }
  });

  it.each(sseCases)("$name ($label): split at every awkward position at once", (stream) => {
    const { bytes } = stream;
    const insideCharacters = ["é", "👋", "世", "界"].flatMap((character) => {
      const width = Buffer.byteLength(character);
      return indexesOf(bytes, character).flatMap((at) => Array.from({ length: width - 1 }, (_, i) => at + 1 + i));
    });
    const insideDataField = indexesOf(bytes, "data:").flatMap((at) => [at + 1, at + 2, at + 4, at + 5]);
    const insideUsageKey = indexesOf(bytes, '"usage"').flatMap((at) => [at + 1, at + 3, at + 6]);
    const betweenCrAndLf = indexesOf(bytes, "\r\n").map((at) => at + 1);
    const aroundLineEnds = [...indexesOf(bytes, "\n"), ...indexesOf(bytes, "\r")].flatMap((at) => [at, at + 1]);

    expect(insideCharacters.length).toBeGreaterThanOrEqual(4);
    if (stream.label === "CRLF") expect(betweenCrAndLf.length).toBeGreaterThan(10);

    for (const positions of [insideCharacters, insideDataField, insideUsageKey, betweenCrAndLf, aroundLineEnds]) {
      expect(usageOf(SSE, splitAt(bytes, positions))).toEqual(stream.expected);
    }
    const all = [...insideCharacters, ...insideDataField, ...insideUsageKey, ...betweenCrAndLf, ...aroundLineEnds];
    expect(usageOf(SSE, splitAt(bytes, all))).toEqual(stream.expected);
  });

  it.each(sseStreams)("$name: parses only the lines that can hold usage", (stream) => {
    const parse = vi.spyOn(JSON, "parse");
    expect(usageOf(SSE, [fixture(stream.file)])).toEqual(stream.expected);
    expect(parse).toHaveBeenCalledTimes(stream.parsedLines);
  });

  it("a stream without usage → undefined, and nothing is parsed", () => {
    const parse = vi.spyOn(JSON, "parse");
    const stream = Buffer.from(
      'event: ping\ndata: {"type":"ping"}\n\n' +
        'data: {"choices":[{"delta":{"content":"token usage"}}],"usage":null}\n\ndata: [DONE]\n\n',
    );
    expect(usageOf(SSE, [stream])).toBeUndefined();
    expect(usageOf(SSE, everyByte(stream))).toBeUndefined();
    expect(usageOf(SSE, [])).toBeUndefined();
    expect(parse).not.toHaveBeenCalled();
  });

  it("later events override earlier ones per field (message_delta with full counts)", () => {
    const stream = Buffer.from(
      "event: message_start\n" +
        'data: {"type":"message_start","message":{"usage":{"input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}}}\n\n' +
        "event: message_delta\n" +
        'data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":310,"cache_creation_input_tokens":64,"cache_read_input_tokens":4096,"output_tokens":42}}\n\n',
    );
    expect(usageOf(SSE, [stream])).toEqual({
      inputTokens: 310,
      outputTokens: 42,
      cacheReadTokens: 4096,
      cacheCreationTokens: 64,
    });
  });

  it("reads a last usage line that has no line end", () => {
    const text = fixture("openai-chat.sse").toString("utf8");
    const truncated = Buffer.from(text.slice(0, text.indexOf("\n\ndata: [DONE]")));
    const expected = { inputTokens: 1117, outputTokens: 46, cacheReadTokens: 1024 };
    expect(usageOf(SSE, [truncated])).toEqual(expected);
    expect(usageOf(SSE, everyByte(truncated))).toEqual(expected);
  });

  it("a usage line cut off mid-JSON at the end of the body counts nothing", () => {
    const stream = Buffer.from('data: {"usage":{"prompt_tokens":5,"completion_tokens":');
    expect(usageOf(SSE, [stream])).toBeUndefined();
  });

  it("ignores usage outside a data: line and in malformed data lines", () => {
    const stream = Buffer.from(
      ': comment {"usage":{"input_tokens":1}}\n' +
        'event: {"usage":{"input_tokens":2}}\n' +
        'Data: {"usage":{"input_tokens":3}}\n' +
        'data: {"usage":{"input_tokens":4}\n' +
        'data: {"usage":{"output_tokens":7}}\n\n',
    );
    expect(usageOf(SSE, [stream])).toEqual({ outputTokens: 7 });
  });

  describe("over-long lines", () => {
    const start = 'event: message_start\ndata: {"type":"message_start","message":{"usage":{"input_tokens":10,"output_tokens":1}}}\n\n';
    const end = 'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":5}}\n\n';

    /** A usage data line of exactly `length` bytes, with counts that must never show up if it is skipped. */
    function dataLineOfLength(length: number): string {
      const head = 'data: {"type":"message_delta","usage":{"input_tokens":999,"output_tokens":999},"pad":"';
      const tail = '"}';
      return head + "x".repeat(length - head.length - tail.length) + tail;
    }

    it.each([
      { chunking: "whole", split: (bytes: Buffer) => [bytes] },
      { chunking: "64 KiB chunks", split: (bytes: Buffer) => inChunksOf(bytes, 64 * 1024) },
      { chunking: "1000-byte chunks", split: (bytes: Buffer) => inChunksOf(bytes, 1000) },
      { chunking: "cut 1 byte after the line starts", split: (bytes: Buffer) => splitAt(bytes, [start.length + 1]) },
      {
        chunking: "64 KiB chunks, then the later usage byte by byte",
        split: (bytes: Buffer) => {
          const laterUsage = bytes.length - end.length;
          return [...inChunksOf(bytes.subarray(0, laterUsage), 64 * 1024), ...everyByte(bytes.subarray(laterUsage))];
        },
      },
    ])("a line over the cap is skipped without breaking later usage ($chunking)", ({ split }) => {
      // Far enough over the cap that the cap trips while the line is still being carried.
      const stream = Buffer.from(start + dataLineOfLength(MAX_SSE_LINE_BYTES + 200_000) + "\n\n" + end);
      expect(usageOf(SSE, split(stream))).toEqual({ inputTokens: 10, outputTokens: 5 });
    });

    it.each([
      { length: MAX_SSE_LINE_BYTES, expected: { inputTokens: 999, outputTokens: 5 } },
      { length: MAX_SSE_LINE_BYTES + 1, expected: { inputTokens: 10, outputTokens: 5 } },
    ])("a line of $length bytes: same verdict whole or in chunks", ({ length, expected }) => {
      const stream = Buffer.from(start + dataLineOfLength(length) + "\r\n\r\n" + end);
      expect(usageOf(SSE, [stream])).toEqual(expected);
      expect(usageOf(SSE, inChunksOf(stream, 4096))).toEqual(expected);
      expect(usageOf(SSE, inChunksOf(stream, 333_333))).toEqual(expected);
    });
  });
});

describe("JSON bodies", () => {
  const jsonBodies = [
    {
      name: "Anthropic message",
      file: "anthropic-message.json",
      expected: { inputTokens: 2095, outputTokens: 503, cacheReadTokens: 8192, cacheCreationTokens: 0 },
    },
    {
      name: "OpenAI chat completion",
      file: "openai-chat.json",
      expected: { inputTokens: 1117, outputTokens: 46, cacheReadTokens: 0 },
    },
    {
      name: "OpenAI Responses",
      file: "openai-responses.json",
      expected: { inputTokens: 36, outputTokens: 87, cacheReadTokens: 0 },
    },
  ];

  it.each(jsonBodies)("$name: whole, byte by byte, split at every position", ({ file, expected }) => {
    const body = fixture(file);
    expect(usageOf(JSON_TYPE, [body])).toEqual(expected);
    expect(usageOf("application/json; charset=utf-8", [body])).toEqual(expected);
    expect(usageOf(JSON_TYPE, everyByte(body))).toEqual(expected);
    expect(usageOf(JSON_TYPE, asPlainViews(randomChunks(body, 7)))).toEqual(expected);
    for (let at = 0; at <= body.length; at += 1) {
      expect(usageOf(JSON_TYPE, splitAt(body, [at])), `split at ${at}`).toEqual(expected);
    }
  });

  it("reads a body that starts with a UTF-8 byte order mark", () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), fixture("openai-chat.json")]);
    expect(usageOf(JSON_TYPE, [body])).toEqual({ inputTokens: 1117, outputTokens: 46, cacheReadTokens: 0 });
  });

  it.each([
    { name: "empty body", body: "" },
    { name: "truncated", body: '{"usage":{"input_tokens":12,"output_tokens":' },
    { name: "HTML error page", body: "<html><body>502 Bad Gateway usage</body></html>" },
    { name: "trailing garbage", body: '{"usage":{"input_tokens":12}} {"usage"' },
    { name: "top-level array", body: '[{"usage":{"input_tokens":12}}]' },
    { name: "usage is a number", body: '{"usage":12}' },
    { name: "usage is null", body: '{"usage":null}' },
    { name: "no usage", body: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}' },
    { name: "usage only nested", body: '{"message":{"usage":{"input_tokens":12}}}' },
    { name: "no known fields", body: '{"usage":{"total_tokens":12}}' },
  ])("$name → undefined, no throw", ({ body }) => {
    expect(usageOf(JSON_TYPE, [Buffer.from(body)])).toBeUndefined();
  });

  it.each([
    { value: "0", expected: 0 },
    { value: "123", expected: 123 },
    { value: "-1", expected: undefined },
    { value: "1.5", expected: undefined },
    { value: '"12"', expected: undefined },
    { value: "null", expected: undefined },
    { value: "true", expected: undefined },
    { value: "1e400", expected: undefined },
    { value: "9007199254740993", expected: undefined },
    { value: "{}", expected: undefined },
  ])("input_tokens: $value counts as $expected", ({ value, expected }) => {
    const usage = usageOf(JSON_TYPE, [Buffer.from(`{"usage":{"input_tokens":${value},"output_tokens":3}}`)]);
    expect(usage).toEqual({ outputTokens: 3, ...(expected === undefined ? {} : { inputTokens: expected }) });
    expect(usage !== undefined && "inputTokens" in usage).toBe(expected !== undefined);
  });

  it.each([
    { size: MAX_JSON_BODY_BYTES, expected: { inputTokens: 1, outputTokens: 2 } },
    { size: MAX_JSON_BODY_BYTES + 1, expected: undefined },
  ])("a body of $size bytes → $expected", ({ size, expected }) => {
    const head = '{"usage":{"input_tokens":1,"output_tokens":2},"pad":"';
    const body = Buffer.from(head + "x".repeat(size - head.length - 2) + '"}');
    expect(body.length).toBe(size);
    expect(usageOf(JSON_TYPE, inChunksOf(body, 64 * 1024))).toEqual(expected);
  });
});

describe("the relayed bytes", () => {
  const bodies = [
    { contentType: SSE, bytes: withLineEnds(fixture("anthropic-messages.sse"), "\r\n") },
    { contentType: SSE, bytes: fixture("openai-chat.sse") },
    { contentType: SSE, bytes: fixture("openai-responses.sse") },
    { contentType: JSON_TYPE, bytes: fixture("anthropic-message.json") },
  ];

  it.each(bodies)("stay identical after the tap sees them ($contentType)", ({ contentType, bytes }) => {
    const original = Buffer.from(bytes);
    for (const chunks of [[bytes], everyByte(bytes), randomChunks(bytes, 3)]) {
      const before = chunks.map(sha256);
      const tap = createUsageTap(contentType);
      for (const chunk of chunks) tap?.push(chunk);
      expect(tap?.end()).toBeDefined();
      expect(chunks.map(sha256)).toEqual(before);
      expect(Buffer.concat(chunks).equals(original)).toBe(true);
    }
  });

  it.each(bodies)("may be reused by the relay once pushed: the tap copies what it keeps ($contentType)", ({ contentType, bytes }) => {
    const expected = usageOf(contentType, [bytes]);
    expect(expected).toBeDefined();
    for (const chunks of [everyByte(bytes), randomChunks(bytes, 5)]) {
      const tap = createUsageTap(contentType);
      for (const chunk of chunks) {
        const reused = Buffer.from(chunk);
        tap?.push(reused);
        reused.fill(0x7b); // "{": a retained view would now read garbage
      }
      expect(tap?.end()).toEqual(expected);
    }
  });
});

describe("never throws", () => {
  it.each([SSE, JSON_TYPE])("%s: bad chunks and random bytes are survived", (contentType) => {
    const tap = createUsageTap(contentType);
    expect(tap).toBeDefined();
    expect(() => tap?.push(null as unknown as Uint8Array)).not.toThrow();
    expect(() => tap?.push({} as unknown as Uint8Array)).not.toThrow();
    expect(tap?.end()).toBeUndefined();

    const noise = Buffer.from(
      Array.from({ length: 20_000 }, (_, i) => (i * 2654435761) >>> 24),
    );
    const fragments = Buffer.from('data: {"usage":{"input_tokens":\r\n"usage": null\rdata:"usage"\n{"usage":[');
    const fuzz = createUsageTap(contentType);
    expect(() => {
      for (const chunk of randomChunks(Buffer.concat([noise, fragments, noise, fragments]), 11)) fuzz?.push(chunk);
      fuzz?.end();
    }).not.toThrow();
  });
});
