import { describe, expect, it } from "vitest";
import { globToRegExp } from "../../src/config/resolve.js";
import {
  chooseModelRewrite,
  describeModelRewrite,
  encodeJsonString,
  rewrittenLength,
  spliceModel,
  type ModelMapping,
} from "../../src/routing/model-rewrite.js";
import { ModelSniffer } from "../../src/routing/model-sniffer.js";

const models = (map: Record<string, string>): ModelMapping[] =>
  Object.entries(map).map(([glob, upstream]) => ({ glob, pattern: globToRegExp(glob), upstream }));

describe("chooseModelRewrite: the first glob in key order wins", () => {
  const local = models({ "claude-*haiku*": "qwen3-coder:30b", "claude-opus-*": "big", "*": "fallback" });
  it.each([
    ["a haiku id", "claude-haiku-4-5", local, "qwen3-coder:30b", "claude-*haiku*"],
    ["an older haiku id", "claude-3-5-haiku-20241022", local, "qwen3-coder:30b", "claude-*haiku*"],
    ["the second glob", "claude-opus-4-1", local, "big", "claude-opus-*"],
    ['"*" catches all', "claude-sonnet-4-5", local, "fallback", "*"],
    ["no match leaves it", "claude-haiku-4-5", models({ "gpt-*": "x" }), undefined, undefined],
    ["an empty map leaves it", "claude-haiku-4-5", [], undefined, undefined],
    ["a mapping to the same name is no rewrite", "m", models({ m: "m" }), undefined, undefined],
    ["key order, not specificity", "claude-haiku-4-5", models({ "*": "any", "claude-haiku-4-5": "exact" }), "any", "*"],
  ] as const)("%s", (_name, model, map, to, glob) => {
    const rewrite = chooseModelRewrite(model, map as ModelMapping[], "local");
    expect(rewrite?.to).toBe(to);
    expect(rewrite?.glob).toBe(glob);
  });

  it("no model in the body: nothing to rewrite", () => {
    expect(chooseModelRewrite(undefined, local, "local")).toBeUndefined();
  });

  it("says what it did in the wording of DESIGN §10", () => {
    const rewrite = chooseModelRewrite("claude-haiku-4-5", local, "local")!;
    expect(describeModelRewrite(rewrite)).toBe('model rewrite claude-haiku-4-5 → qwen3-coder:30b (models["claude-*haiku*"] of local)');
  });
});

describe("encodeJsonString: the new value as a JSON token in UTF-8", () => {
  it.each([
    ["ASCII", "qwen3-coder:30b", '"qwen3-coder:30b"'],
    ["quotes", 'a"b', '"a\\"b"'],
    ["backslashes", "C:\\models\\x", '"C:\\\\models\\\\x"'],
    ["control characters", "a\nb\tc\u0001", '"a\\nb\\tc\\u0001"'],
    ["non-ASCII as raw UTF-8", "modèle-日本-🤖", '"modèle-日本-🤖"'],
    ["U+2028 is valid JSON as is", "a\u2028b", '"a\u2028b"'],
    ["a lone surrogate escaped", "a\ud800b", '"a\\ud800b"'],
  ])("%s", (_name, value, token) => {
    const bytes = encodeJsonString(value);
    expect(bytes.toString("utf8")).toBe(token);
    expect(JSON.parse(bytes.toString("utf8"))).toBe(value);
  });
});

describe("spliceModel: only the model's string token changes", () => {
  const cases: Array<[string, string, string]> = [
    ["model first", '{"model":"claude-haiku-4-5","max_tokens":8}', "qwen3-coder:30b"],
    ["model last, pretty", '{\n  "max_tokens": 8,\n  "model" : "claude-haiku-4-5"\n}', "qwen3-coder:30b"],
    ["escaped client value", '{"model":"claude-\\u0068aiku","x":1}', "qwen"],
    ["non-ASCII both ways", '{"system":"é","model":"clàude-haiku","x":"🤖"}', "modèle-日本"],
    ["new value needs escaping", '{"model":"claude-haiku","x":1}', 'we"ird\\name\n'],
    ["nested model keys stay", '{"metadata":{"model":"nested"},"messages":[{"model":"m"}],"model":"claude-haiku"}', "local"],
  ];
  it.each(cases)("%s", (_name, text, to) => {
    const bytes = Buffer.from(text);
    const sniffer = new ModelSniffer();
    sniffer.push(bytes);
    const rewrite = chooseModelRewrite(sniffer.model, models({ "*": to }), "local", sniffer.span)!;
    const out = spliceModel(bytes, rewrite);
    expect(JSON.parse(out.toString("utf8"))).toEqual({ ...JSON.parse(text), model: to });
    // Byte-identical outside the span.
    expect(out.subarray(0, sniffer.span!.start).equals(bytes.subarray(0, sniffer.span!.start))).toBe(true);
    expect(out.subarray(out.length - (bytes.length - sniffer.span!.end)).equals(bytes.subarray(sniffer.span!.end))).toBe(true);
    expect(out.length).toBe(rewrittenLength(bytes.length, rewrite));
  });

  it("refuses a span outside the bytes it was given", () => {
    expect(() => spliceModel(Buffer.from('{"model":"a'), { span: { start: 9, end: 20 }, bytes: Buffer.from('"b"') })).toThrow(RangeError);
  });

  it("without a span (explain --model), the length assumes the shortest encoding", () => {
    const rewrite = chooseModelRewrite("claude-haiku", models({ "*": "qwen" }), "local")!;
    expect(rewrittenLength(100, rewrite)).toBe(100 - '"claude-haiku"'.length + '"qwen"'.length);
  });
});
