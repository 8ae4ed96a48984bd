import { describe, expect, it } from "vitest";
import { MAX_MODEL_LENGTH, ModelSniffer, type SniffState } from "../../src/routing/model-sniffer.js";

const utf8 = new TextEncoder();

type Body = string | Uint8Array;
interface Verdict {
  state: SniffState;
  model: string | undefined;
}

function toBytes(body: Body): Uint8Array {
  return typeof body === "string" ? utf8.encode(body) : body;
}

/** Bytes spliced into an otherwise UTF-8 body, for encodings TextEncoder cannot produce. */
function withRawBytes(before: string, raw: number[], after: string): Uint8Array {
  return new Uint8Array([...utf8.encode(before), ...raw, ...utf8.encode(after)]);
}

/** Feeds chunks in order, then end(); returns what a caller would see. */
function sniff(chunks: Uint8Array[]): Verdict & { beforeEnd: SniffState } {
  const sniffer = new ModelSniffer();
  let beforeEnd: SniffState = sniffer.state;
  for (const chunk of chunks) beforeEnd = sniffer.push(chunk);
  const state = sniffer.end();
  return { state, model: sniffer.model, beforeEnd };
}

const found = (model: string): Verdict => ({ state: "found", model });
const ABSENT: Verdict = { state: "absent", model: undefined };

/** Longer than the sniffer's byte-loop probe, so its native-search path is exercised too. */
const LONG = "x".repeat(80);

const PRETTY = JSON.stringify(
  { max_tokens: 1024, messages: [{ role: "user", content: "hi" }], model: "claude-pretty" },
  null,
  2,
);

/** [name, body, model]: bodies whose top-level model must be found. */
const FOUND_CASES: [string, Body, string][] = [
  [
    "model first",
    '{"model":"claude-3-5-haiku-20241022","max_tokens":1024,"messages":[{"role":"user","content":"hi"}]}',
    "claude-3-5-haiku-20241022",
  ],
  ["model middle", '{"max_tokens":1024,"model":"gpt-4o","messages":[]}', "gpt-4o"],
  [
    "model last",
    '{"max_tokens":1024,"messages":[{"role":"user","content":"hi"}],"stream":true,"model":"claude-opus-4"}',
    "claude-opus-4",
  ],
  [
    "whitespace and newlines everywhere",
    '\r\n\t {\n\t"max_tokens" :\r\n 1024 ,\n  "messages" : [ { "role" : "user" } ] ,\n  "model"\t:\n  "m1"\n}\n',
    "m1",
  ],
  ["pretty-printed body", PRETTY, "claude-pretty"],
  [
    "model keys nested in messages before the top-level one",
    '{"messages":[{"role":"user","model":"evil","content":[{"model":"evil2"}]}],"model":"good"}',
    "good",
  ],
  ["model keys nested in metadata", '{"metadata":{"model":"evil","user":{"model":"evil"}},"model":"good"}', "good"],
  ["deeply nested arrays before the model", '{"a":[[[[{"b":[]}]]],{}],"model":"good"}', "good"],
  [
    '"model" text inside message content',
    String.raw`{"messages":[{"role":"user","content":"\"model\":\"evil\""}],"model":"good"}`,
    "good",
  ],
  ['"model" text inside a top-level string', String.raw`{"system":"{\"model\":\"evil\"}","model":"good"}`, "good"],
  [
    "brackets and escaped quotes inside nested strings",
    String.raw`{"messages":[{"content":"]}]} \"model\":\"evil\" {[","x":["\\",{"a":"\\\""}]}],"model":"good"}`,
    "good",
  ],
  ["a top-level string ending in an escaped backslash", String.raw`{"system":"C:\\","model":"good"}`, "good"],
  ["a top-level string with mixed backslash runs", String.raw`{"system":"a\\\"b\\\\","model":"good"}`, "good"],
  [
    "long strings with escaped quotes and backslash runs",
    String.raw`{"system":"${LONG}\"${LONG}\\${LONG}\\\"${LONG}\\\\","messages":[{"content":"${LONG}\\\"]}${LONG}\\"}],"model":"good"}`,
    "good",
  ],
  [
    '"model" text inside a long string',
    String.raw`{"system":"${LONG}\"model\":\"evil\"${LONG}","messages":[{"c":"${LONG}\"model\":\"evil\""}],"model":"good"}`,
    "good",
  ],
  ['"model" as a value, not a key', '{"a":"model","b":"model:x","model":"good"}', "good"],
  ["keys that only resemble model", '{"models":["x"],"mode":"y","Model":"z","model_id":"w","model":"good"}', "good"],
  ["an escaped quote in an earlier key", String.raw`{"mo\"del":"evil","model":"good"}`, "good"],
  ["an empty key", '{"":"x","model":"good"}', "good"],
  ["scalars of every kind", '{"n":-1.5e+10,"z":0,"t":true,"f":false,"u":null,"E":1E5,"model":"good"}', "good"],
  ["\\u escape in the value", String.raw`{"model":"claude-\u0033"}`, "claude-3"],
  ["escaped quote in the value", String.raw`{"model":"a\"b"}`, 'a"b'],
  ["escaped backslash in the value", String.raw`{"model":"a\\b"}`, "a\\b"],
  ["every short escape in the value", String.raw`{"model":"\/\b\f\n\r\t"}`, "/\b\f\n\r\t"],
  ["upper- and lower-case hex escapes", String.raw`{"model":"\u00E9\u00e9\u0000"}`, "éé\u0000"],
  ["a unicode model name", '{"model":"модель-é-模型"}', "модель-é-模型"],
  ["a 4-byte UTF-8 model name", '{"model":"🤖-bot"}', "🤖-bot"],
  ["an escaped surrogate pair", String.raw`{"model":"\ud83e\udd16"}`, "🤖"],
  ["a lone escaped surrogate (kept, as JSON.parse does)", String.raw`{"model":"\ud800x"}`, "\ud800x"],
  ["a key spelled with one escape", String.raw`{"mod\u0065l":"escaped-key"}`, "escaped-key"],
  ["a key spelled entirely with escapes", String.raw`{"\u006D\u006f\u0064\u0065\u006c":"escaped-key"}`, "escaped-key"],
  ["an empty model", '{"model":""}', ""],
  [`a model of exactly ${MAX_MODEL_LENGTH} characters`, `{"model":"${"a".repeat(256)}"}`, "a".repeat(256)],
  ["256 characters written as escapes", `{"model":"${"\\u0061".repeat(256)}"}`, "a".repeat(256)],
  ["256 UTF-16 units of emoji", `{"model":"${"🤖".repeat(128)}"}`, "🤖".repeat(128)],
  // Not what JSON.parse returns (it keeps the last): routing is decided before the rest arrives.
  ["duplicate model keys (the first wins)", '{"model":"first","x":1,"model":"second"}', "first"],
  ["a UTF-8 BOM", '\uFEFF{"model":"bom"}', "bom"],
  ["a BOM then whitespace", '\uFEFF \n{"model":"bom"}', "bom"],
  // The verdict comes at the model's closing quote; what follows is never read.
  ["a body truncated right after the model", '{"model":"early",', "early"],
];

/** Cases above that JSON.parse reads differently on purpose (first-wins, BOM, truncated). */
const NOT_PLAIN_JSON = new Set([
  "duplicate model keys (the first wins)",
  "a UTF-8 BOM",
  "a BOM then whitespace",
  "a body truncated right after the model",
]);

const longModel = (units: string) => `{"model":"${units}","max_tokens":1}`;

/** [name, body]: bodies that have no usable top-level model. */
const ABSENT_CASES: [string, Body][] = [
  ["an empty body", ""],
  ["a whitespace-only body", " \r\n\t"],
  ["an empty object", "{}"],
  ["an empty object with whitespace", "{ \n }"],
  ["an object without model", '{"max_tokens":1024,"messages":[{"role":"user","content":"hi"}]}'],
  ["model only in nested objects", '{"metadata":{"model":"evil"},"messages":[{"role":"user","model":"evil"}]}'],
  ['"model" only inside a string', String.raw`{"system":"\"model\":\"evil\"","x":"{\"model\":\"evil\"}"}`],
  ['"model" only as a value', '{"name":"model","kind":"model"}'],
  ["keys that only resemble model", '{"models":"x","Model":"y","mode":"z","model ":"w"," model":"v","modelx":"u"}'],
  ["an escaped key that decodes to something else", String.raw`{"model\u0073":"x","mode\u006c\u006c":"y"}`],
  ["a top-level array", '[{"model":"x"}]'],
  ["a top-level string", '"model"'],
  ["a top-level number", "42"],
  ["a top-level null", "null"],
  ["garbage", "model: claude"],
  ["HTML", "<html><body>{\"model\":\"x\"}</body></html>"],
  ["a BOM then an array", '\uFEFF[{"model":"x"}]'],
  ["a BOM after whitespace", ' \uFEFF{"model":"x"}'],
  ["two BOMs", '\uFEFF\uFEFF{"model":"x"}'],
  ["a partial BOM", withRawBytes("", [0xef, 0xbb], '{"model":"x"}')],
  ["a null model", '{"model":null}'],
  ["a numeric model", '{"model":42}'],
  ["a negative numeric model", '{"model":-1}'],
  ["a boolean model", '{"model":true}'],
  ["an object model", '{"model":{"name":"x"}}'],
  ["an array model", '{"model":["x"]}'],
  ["a null model followed by a string one (the first decides)", '{"model":null,"model":"x"}'],
  [`a model of ${MAX_MODEL_LENGTH + 1} characters`, longModel("a".repeat(257))],
  ["257 characters written as escapes", longModel("\\u0061".repeat(257))],
  ["258 UTF-16 units of emoji", longModel("🤖".repeat(129))],
  ["255 characters and an emoji", longModel("a".repeat(255) + "🤖")],
  ["a huge model value", longModel("x".repeat(5_000))],
  ["a lone opening brace", "{"],
  ["a body ending after the key", '{"model"'],
  ["a body ending after the colon", '{"model":'],
  ["a body ending inside the value", '{"model":"abc'],
  ["a body ending inside an escape", '{"model":"abc\\'],
  ["a body ending inside a \\u escape", '{"model":"abc\\u00'],
  ["a body ending inside nested values", '{"messages":[{"model":"x"}'],
  ["an unquoted key", '{model:"x"}'],
  ["single quotes", "{'model':'x'}"],
  ["a missing colon", '{"model" "x"}'],
  ["a wrong separator", '{"model"="x"}'],
  ["a missing comma between members", '{"a":1 "model":"x"}'],
  ["a key with no value before the model", '{"a" "model":"x"}'],
  ["a leading comma", '{,"model":"x"}'],
  ["a double comma", '{"a":1,,"model":"x"}'],
  ["a trailing comma", '{"a":1,}'],
  ["a missing value", '{"a":,"model":"x"}'],
  ["a value followed by a colon", '{"a":"b":"c","model":"x"}'],
  ["a model after the top-level object closed", '{"a":1}{"model":"x"}'],
  ["an unknown escape in the value", String.raw`{"model":"x\qy"}`],
  ["a bad hex digit in \\u", String.raw`{"model":"\u12G4"}`],
  ["a raw newline in the value", '{"model":"a\nb"}'],
  ["a raw control character in the key", '{"mo\u0001del":"x"}'],
  ["an invalid UTF-8 byte in the value", withRawBytes('{"model":"a', [0xff], 'b"}')],
  ["a truncated UTF-8 sequence before the closing quote", withRawBytes('{"model":"a', [0xc3], '"}')],
  ["an overlong UTF-8 encoding", withRawBytes('{"model":"', [0xc0, 0xaf], '"}')],
  ["a UTF-8-encoded surrogate", withRawBytes('{"model":"', [0xed, 0xa0, 0x80], '"}')],
  ["a code point past U+10FFFF", withRawBytes('{"model":"', [0xf4, 0x90, 0x80, 0x80], '"}')],
];

const ALL_CASES: [string, Body, Verdict][] = [
  ...FOUND_CASES.map(([name, body, model]): [string, Body, Verdict] => [name, body, found(model)]),
  ...ABSENT_CASES.map(([name, body]): [string, Body, Verdict] => [name, body, ABSENT]),
];

describe("ModelSniffer verdicts", () => {
  it.each(FOUND_CASES)("finds the model with %s", (_name, body, model) => {
    const sniffer = new ModelSniffer();
    // "found" must come from push() itself: the relay routes without waiting for end().
    expect(sniffer.push(toBytes(body))).toBe("found");
    expect(sniffer.model).toBe(model);
    expect(sniffer.end()).toBe("found");
    expect(sniffer.model).toBe(model);
  });

  it.each(FOUND_CASES.filter(([name]) => !NOT_PLAIN_JSON.has(name)))(
    "agrees with JSON.parse on %s",
    (_name, body, model) => {
      const text = typeof body === "string" ? body : new TextDecoder().decode(body);
      expect((JSON.parse(text) as { model: unknown }).model).toBe(model);
    },
  );

  it.each(ABSENT_CASES)("reports absent for %s", (_name, body) => {
    expect(sniff([toBytes(body)])).toEqual({ ...ABSENT, beforeEnd: expect.any(String) });
  });

  it.each([
    ["a body whose object closed", '{"a":1}', "absent"],
    ["a non-object top level", "[", "absent"],
    ["malformed depth-1 syntax", '{"a" 1', "absent"],
    ["a non-string model", '{"model":1', "absent"],
    ["an over-long model", longModel("a".repeat(257)), "absent"],
    ["an unclosed nested value", '{"messages":[{"model":"x"}', "searching"],
    ["an unclosed model value", '{"model":"abc', "searching"],
    ["an empty body", "", "searching"],
  ] as const)("settles without end() as soon as it can: %s", (_name, body, state) => {
    expect(new ModelSniffer().push(utf8.encode(body))).toBe(state);
  });
});

describe("ModelSniffer chunking", () => {
  it.each(ALL_CASES)("gives the same verdict at every two-chunk split: %s", (_name, body, expected) => {
    const bytes = toBytes(body);
    for (let split = 0; split <= bytes.length; split++) {
      const outcome = sniff([bytes.subarray(0, split), bytes.subarray(split)]);
      expect({ split, state: outcome.state, model: outcome.model }).toEqual({ split, ...expected });
    }
  });

  it.each(ALL_CASES)("gives the same verdict fed byte by byte: %s", (_name, body, expected) => {
    const bytes = toBytes(body);
    const chunks = Array.from(bytes, (_byte, i) => bytes.subarray(i, i + 1));
    const outcome = sniff(chunks);
    expect({ state: outcome.state, model: outcome.model }).toEqual(expected);
    if (expected.state === "found") expect(outcome.beforeEnd).toBe("found");
  });

  it("stays searching across chunks until the model value closes", () => {
    const sniffer = new ModelSniffer();
    expect(sniffer.push(utf8.encode('{"messages":[{"model":"evil"'))).toBe("searching");
    expect(sniffer.push(new Uint8Array(0))).toBe("searching");
    expect(sniffer.push(utf8.encode('}],"model":"clau'))).toBe("searching");
    expect(sniffer.model).toBeUndefined();
    expect(sniffer.push(utf8.encode('de"'))).toBe("found");
    expect(sniffer.model).toBe("claude");
  });

  it("ignores pushes after a verdict", () => {
    const foundSniffer = new ModelSniffer();
    foundSniffer.push(utf8.encode('{"model":"first"'));
    expect(foundSniffer.push(utf8.encode(',"model":"second"}'))).toBe("found");
    expect(foundSniffer.push(utf8.encode("garbage ]]]"))).toBe("found");
    expect(foundSniffer.end()).toBe("found");
    expect(foundSniffer.model).toBe("first");

    const absentSniffer = new ModelSniffer();
    absentSniffer.push(utf8.encode("[]"));
    expect(absentSniffer.push(utf8.encode('{"model":"x"}'))).toBe("absent");
    expect(absentSniffer.end()).toBe("absent");
    expect(absentSniffer.model).toBeUndefined();
  });

  it("neither mutates nor keeps the chunks it is given", () => {
    const first = utf8.encode('{"system":"a\\\\","model":"ab');
    const pristine = first.slice();
    const sniffer = new ModelSniffer();
    expect(sniffer.push(first)).toBe("searching");
    expect(first).toEqual(pristine);
    // The relay reuses or releases chunks once pushed; the sniffer must not read them again.
    first.fill(0x7d);
    expect(sniffer.push(utf8.encode('c"}'))).toBe("found");
    expect(sniffer.model).toBe("abc");
  });
});

/** Deterministic PRNG (mulberry32) so a failure reproduces. */
function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("ModelSniffer against JSON.parse on generated bodies", () => {
  const random = randomSource(0x5eed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const FRAGMENTS = ["model", '"model":"evil"', "\\", '"', "{", "}", "[", "]", ":", ",", "é", "🤖", "\u0001", "\u2028", "\ud800", " ", "text", "y".repeat(70)];
  const KEYS = ["model", "messages", "metadata", "max_tokens", "mode", "models", "Model", "system", "", "mod\"el"];

  const randomString = (): string => Array.from({ length: Math.floor(random() * 8) }, () => pick(FRAGMENTS)).join("");
  const randomValue = (depth: number): unknown => {
    const kind = Math.floor(random() * (depth > 3 ? 4 : 6));
    if (kind === 0) return randomString();
    if (kind === 1) return Math.round((random() - 0.5) * 1e6) / 100;
    if (kind === 2) return pick([true, false, null]);
    if (kind === 3) return randomString();
    if (kind === 4) return Array.from({ length: Math.floor(random() * 4) }, () => randomValue(depth + 1));
    return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, () => [pick(KEYS), randomValue(depth + 1)]));
  };
  const randomModel = (): unknown => {
    const roll = random();
    if (roll < 0.15) return "x".repeat(250 + Math.floor(random() * 12)); // straddles the length limit
    if (roll < 0.3) return randomValue(1);
    return `claude-${randomString()}`;
  };

  const bodies = Array.from({ length: 300 }, (_, index) => {
    const body: Record<string, unknown> = {};
    for (let member = Math.floor(random() * 5); member > 0; member--) body[pick(KEYS)] = randomValue(1);
    if (random() < 0.8) body.model = randomModel();
    const indent = pick([undefined, 2, "\t"]);
    return [index, JSON.stringify(body, null, indent)] as const;
  });

  it.each(bodies)("body #%i, split at random points, matches JSON.parse", (_index, text) => {
    const parsed = (JSON.parse(text) as { model?: unknown }).model;
    const expected =
      typeof parsed === "string" && parsed.length <= MAX_MODEL_LENGTH ? found(parsed) : ABSENT;
    const bytes = utf8.encode(text);
    const chunks: Uint8Array[] = [];
    for (let start = 0; start < bytes.length; ) {
      const end = Math.min(bytes.length, start + 1 + Math.floor(random() * 16));
      chunks.push(bytes.subarray(start, end));
      start = end;
    }
    const outcome = sniff(chunks);
    expect({ state: outcome.state, model: outcome.model }).toEqual(expected);
  });
});

describe("ModelSniffer on 20 MiB bodies", () => {
  const TARGET_BYTES = 20 * 1024 * 1024;
  const CHUNK_BYTES = 64 * 1024;
  // Quote-dense content with the traps the sniffer must step over: nested model keys, escaped
  // quotes, backslashes, brackets inside strings and multibyte characters.
  const message = JSON.stringify({
    role: "user",
    metadata: { model: "nested-evil" },
    content: [
      { type: "text", text: 'say "model":"evil" {[ C:\\path\\ ]} é漢🤖 '.repeat(40) },
      { type: "image", source: { type: "base64", data: "QUJD".repeat(2000) } },
    ],
  });
  const messages = Array(Math.ceil(TARGET_BYTES / message.length)).fill(message).join(",");

  function feedInChunks(bytes: Uint8Array): { sniffer: ModelSniffer; verdictAfterBytes: number } {
    const sniffer = new ModelSniffer();
    for (let start = 0; start < bytes.length; start += CHUNK_BYTES) {
      if (sniffer.push(bytes.subarray(start, start + CHUNK_BYTES)) !== "searching") {
        return { sniffer, verdictAfterBytes: Math.min(bytes.length, start + CHUNK_BYTES) };
      }
    }
    sniffer.end();
    return { sniffer, verdictAfterBytes: bytes.length };
  }

  it("finds a model that comes after 20 MiB of messages", () => {
    const bytes = utf8.encode(`{"max_tokens":1024,"messages":[${messages}],"stream":true,"model":"claude-last"}`);
    expect(bytes.length).toBeGreaterThan(TARGET_BYTES);
    const { sniffer, verdictAfterBytes } = feedInChunks(bytes);
    expect(sniffer.state).toBe("found");
    expect(sniffer.model).toBe("claude-last");
    expect(verdictAfterBytes).toBe(bytes.length);
  });

  it("decides from the first 64 KiB chunk when the model comes first", () => {
    const bytes = utf8.encode(`{"model":"claude-first","max_tokens":1024,"messages":[${messages}]}`);
    const sniffer = new ModelSniffer();
    expect(sniffer.push(bytes.subarray(0, CHUNK_BYTES))).toBe("found");
    expect(sniffer.model).toBe("claude-first");
  });

  it("reports absent only at the end of a 20 MiB body without a top-level model", () => {
    const bytes = utf8.encode(`{"max_tokens":1024,"messages":[${messages}]}`);
    const sniffer = new ModelSniffer();
    for (let start = 0; start < bytes.length - 1; start += CHUNK_BYTES) {
      expect(sniffer.push(bytes.subarray(start, Math.min(start + CHUNK_BYTES, bytes.length - 1)))).toBe("searching");
    }
    // Only the final `}` closes the top-level object.
    expect(sniffer.push(bytes.subarray(bytes.length - 1))).toBe("absent");
  });
});

describe("ModelSniffer byte span of the model value", () => {
  const decoder = new TextDecoder();
  /** Feeds `chunks`; returns the verdict with its span. */
  const spanOf = (chunks: Uint8Array[]) => {
    const sniffer = new ModelSniffer();
    for (const chunk of chunks) sniffer.push(chunk);
    sniffer.end();
    return { model: sniffer.model, span: sniffer.span };
  };

  it.each(FOUND_CASES)("covers exactly the value's string token, quotes included: %s", (_name, body, model) => {
    const bytes = toBytes(body);
    const { span } = spanOf([bytes]);
    expect(span).toBeDefined();
    const token = bytes.subarray(span!.start, span!.end);
    expect(token[0]).toBe(0x22);
    expect(token[token.length - 1]).toBe(0x22);
    // The token alone is a JSON string that decodes to the model (escapes and UTF-8 included).
    expect(JSON.parse(decoder.decode(token))).toBe(model);
  });

  it.each(FOUND_CASES)("is the same at every two-chunk split and byte by byte: %s", (_name, body) => {
    const bytes = toBytes(body);
    const whole = spanOf([bytes]).span;
    for (let split = 0; split <= bytes.length; split++) {
      expect({ split, span: spanOf([bytes.subarray(0, split), bytes.subarray(split)]).span }).toEqual({ split, span: whole });
    }
    expect(spanOf(Array.from(bytes, (_b, i) => bytes.subarray(i, i + 1))).span).toEqual(whole);
  });

  it.each(ABSENT_CASES)("is undefined when the model is absent: %s", (_name, body) => {
    expect(spanOf([toBytes(body)]).span).toBeUndefined();
  });

  it("counts offsets across chunks, in bytes (not UTF-16 units)", () => {
    const chunks = ['{"system":"é漢🤖","mod', 'el" : "clau', 'de"}'].map((c) => utf8.encode(c));
    const { span } = spanOf(chunks);
    const bytes = utf8.encode('{"system":"é漢🤖","model" : "claude"}');
    // 11 + 2 + 3 + 4 bytes of `{"system":"é漢🤖`, then `","model" : ` (12): the quote is byte 32.
    expect(span).toEqual({ start: 32, end: bytes.length - 1 });
    expect(decoder.decode(bytes.subarray(span!.start, span!.end))).toBe('"claude"');
  });

  it("lets a splice at the span change only the top-level model (generated bodies, random chunks)", () => {
    const random = randomSource(0xc0ffee);
    const KEYS = ["model", "messages", "metadata", "mode", "system"];
    const value = (depth: number): unknown => {
      const roll = random();
      if (roll < 0.3 || depth > 2) return ["\"q\"", "\\", "é🤖", "model", "\u0001"][Math.floor(random() * 5)];
      if (roll < 0.6) return [value(depth + 1), { model: "nested" }];
      return Object.fromEntries(KEYS.slice(0, 1 + Math.floor(random() * 4)).map((k) => [k, value(depth + 1)]));
    };
    for (let n = 0; n < 200; n++) {
      const body: Record<string, unknown> = {};
      for (const key of KEYS) if (random() < 0.6) body[key] = key === "model" ? `claude-${n}-é\\"` : value(1);
      const text = JSON.stringify(body, null, random() < 0.5 ? 2 : undefined);
      const bytes = utf8.encode(text);
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < bytes.length; ) {
        const end = Math.min(bytes.length, at + 1 + Math.floor(random() * 9));
        chunks.push(bytes.subarray(at, end));
        at = end;
      }
      const { span } = spanOf(chunks);
      if (!("model" in body)) {
        expect(span).toBeUndefined();
        continue;
      }
      const spliced = Buffer.concat([bytes.subarray(0, span!.start), Buffer.from('"REPLACED"'), bytes.subarray(span!.end)]);
      expect(JSON.parse(spliced.toString("utf8"))).toEqual({ ...body, model: "REPLACED" });
    }
  });
});
