import { describe, expect, it } from "vitest";
import { globToRegExp, resolveConfig, type ResolvedWhen } from "../../src/config/resolve.js";
import {
  estimateInputTokens,
  hasImage,
  parseJsonBody,
  requestFeatures,
  streamRequested,
  thinkingRequested,
  toolNames,
  whenHolds,
} from "../../src/routing/request-features.js";
import { routeRequest } from "../../src/routing/route.js";

const user = (content: unknown) => ({ role: "user", content });
const image = { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } };

describe("thinking", () => {
  it.each([
    ["Claude Code 2.0: enabled with a budget", { thinking: { type: "enabled", budget_tokens: 31999 } }, true],
    ["Claude Code 2.1: adaptive", { thinking: { type: "adaptive" } }, true],
    ["disabled", { thinking: { type: "disabled" } }, false],
    ["absent", { model: "m" }, false],
    ["not an object", { thinking: true }, false],
    ["null", { thinking: null }, false],
    ["not a JSON object body", [1, 2], false],
  ])("%s → %s", (_name, body, expected) => {
    expect(thinkingRequested(body)).toBe(expected);
  });
});

describe("tools", () => {
  const body = {
    tools: [
      { name: "Bash", input_schema: {} },
      { type: "web_search_20250305", name: "web_search", max_uses: 5 },
      { name: "mcp__github__create_issue", input_schema: {} },
      "not a tool",
    ],
  };
  it("lists every name and type, without repeats", () => {
    expect(toolNames(body)).toEqual(["Bash", "web_search", "web_search_20250305", "mcp__github__create_issue"]);
    expect(toolNames({ tools: "x" })).toEqual([]);
    expect(toolNames({})).toEqual([]);
  });
  it.each([
    ["web_search*", true],
    ["web_search_2025*", true],
    ["mcp__github__*", true],
    ["Bash", true],
    ["bash", false],
    ["Read", false],
  ])("glob %s → %s", (glob, expected) => {
    expect(whenHolds({ tools: glob, toolsPattern: globToRegExp(glob) }, body, () => 0)).toBe(expected);
  });
});

describe("image", () => {
  it.each([
    ["in a user message", { messages: [user([image])] }, true],
    ["in a tool_result's content", { messages: [user([{ type: "tool_result", tool_use_id: "t", content: [{ type: "text", text: "shot" }, image] }])] }, true],
    ["in a nested tool_result", { messages: [user([{ type: "tool_result", content: [{ type: "tool_result", content: [image] }] }])] }, true],
    ["text only", { messages: [user("hi"), user([{ type: "text", text: "image" }])] }, false],
    ["a tool_result with string content", { messages: [user([{ type: "tool_result", content: "image" }])] }, false],
    ["an image in system is not in messages", { system: [image], messages: [] }, false],
    ["no messages", {}, false],
  ])("%s → %s", (_name, body, expected) => {
    expect(hasImage(body)).toBe(expected);
  });
});

describe("stream", () => {
  it.each([
    [{ stream: true }, true],
    [{ stream: false }, false],
    [{}, false],
    [{ stream: "true" }, false],
  ])("%j → %s", (body, expected) => {
    expect(streamRequested(body)).toBe(expected);
  });
});

describe("minInputTokens", () => {
  const long = { system: "You are Claude Code.", messages: [user("word ".repeat(4000))] };
  it("the estimate grows with the text and counts system, tools and images", () => {
    const small = estimateInputTokens({ messages: [user("hi")] });
    expect(small).toBeGreaterThan(0);
    expect(small).toBeLessThan(20);
    expect(estimateInputTokens(long)).toBeGreaterThan(3000);
    const withTools = estimateInputTokens({ ...long, tools: [{ name: "Bash", description: "Run a command. ".repeat(100), input_schema: {} }] });
    expect(withTools).toBeGreaterThan(estimateInputTokens(long) + 200);
    expect(estimateInputTokens({ messages: [user([image])] })).toBeGreaterThanOrEqual(1600);
  });
  it.each([
    [1000, true],
    [3000, true],
    [100_000, false],
  ])("minInputTokens %i on a ~4k-token body → %s", (min, expected) => {
    expect(whenHolds({ minInputTokens: min }, long, () => estimateInputTokens(long))).toBe(expected);
  });
  it("is computed only when a route asks for it", () => {
    let calls = 0;
    whenHolds({ thinking: false }, long, () => ++calls);
    expect(calls).toBe(0);
  });
});

describe("whenHolds: every given key must hold", () => {
  const body = { model: "m", stream: true, thinking: { type: "adaptive" }, tools: [{ name: "web_search" }], messages: [user([image])] };
  const when = (w: ResolvedWhen): ResolvedWhen => (w.tools ? { ...w, toolsPattern: globToRegExp(w.tools) } : w);
  it.each([
    [{ thinking: true }, true],
    [{ thinking: false }, false],
    [{ stream: true, thinking: true }, true],
    [{ stream: false, thinking: true }, false],
    [{ thinking: true, tools: "web_*", image: true, stream: true, minInputTokens: 1 }, true],
    [{ thinking: true, tools: "web_*", image: true, stream: true, minInputTokens: 1_000_000 }, false],
    [{ image: false }, false],
  ] as Array<[ResolvedWhen, boolean]>)("%j → %s", (w, expected) => {
    expect(whenHolds(when(w), body, () => estimateInputTokens(body))).toBe(expected);
  });
  it("a body that was not parsed (or is not an object) meets no when", () => {
    expect(whenHolds({ thinking: false }, undefined, () => 0)).toBe(false);
    expect(whenHolds({ stream: false }, "text", () => 0)).toBe(false);
  });
  it("requestFeatures reports all of them", () => {
    expect(requestFeatures(body, true)).toEqual({ thinking: true, tools: ["web_search"], image: true, stream: true, inputTokens: expect.any(Number) });
    expect(requestFeatures(body, false)).not.toHaveProperty("inputTokens");
  });
});

describe("parseJsonBody", () => {
  it.each([
    ["JSON", Buffer.from('{"a":1}'), { a: 1 }],
    ["with a UTF-8 BOM", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":"é"}')]), { a: "é" }],
    ["not JSON", Buffer.from("{nope"), undefined],
    ["empty", Buffer.alloc(0), undefined],
  ])("%s", (_name, bytes, expected) => {
    expect(parseJsonBody(bytes)).toEqual(expected);
  });
});

describe("routes with when, in order", () => {
  const config = resolveConfig(
    {
      providers: {
        deepseek: { kind: "anthropic", baseUrl: "https://api.deepseek.com/anthropic" },
        local: { kind: "anthropic", baseUrl: "http://127.0.0.1:11434" },
        search: { kind: "anthropic", baseUrl: "http://127.0.0.1:9000" },
      },
      routes: [
        { model: "claude-*haiku*", provider: "local" },
        { when: { tools: "web_search*" }, provider: "search" },
        { path: "/v1/messages", when: { thinking: true }, provider: "deepseek" },
        { when: { minInputTokens: 3000, stream: true }, provider: "local" },
      ],
    },
    { source: { via: "inline" }, env: {} },
  );
  const route = (json: unknown, model?: string) =>
    routeRequest({ path: "/v1/messages", headers: { "anthropic-version": "2023-06-01" }, model, json }, config);

  it.each([
    ["haiku first, whatever the body", { thinking: { type: "enabled" } }, "claude-haiku-4-5", "local", 0],
    ["web search before thinking", { thinking: { type: "adaptive" }, tools: [{ type: "web_search_20250305", name: "web_search" }] }, "claude-opus-4", "search", 1],
    ["thinking", { thinking: { type: "adaptive" } }, "claude-opus-4", "deepseek", 2],
    ["a long streamed prompt", { stream: true, messages: [user("token ".repeat(5000))] }, "claude-opus-4", "local", 3],
    ["a long prompt not streamed", { stream: false, messages: [user("token ".repeat(5000))] }, "claude-opus-4", "anthropic", undefined],
    ["thinking disabled", { thinking: { type: "disabled" } }, "claude-opus-4", "anthropic", undefined],
  ])("%s → %s", (_name, json, model, provider, index) => {
    const choice = route(json, model)!;
    expect(choice.provider.name).toBe(provider);
    if (index === undefined) expect(choice.rule).toEqual({ rule: "built-in", name: "anthropic-version header" });
    else expect(choice.rule).toMatchObject({ rule: "routes", index });
  });

  it("records the rule's conditions and the estimate it used", () => {
    const choice = route({ stream: true, messages: [user("token ".repeat(5000))] }, "claude-opus-4")!;
    expect(choice.rule).toEqual({ rule: "routes", index: 3, conditions: { when: { minInputTokens: 3000, stream: true } } });
    expect(choice.matchedBy).toBe("routes[3] (when minInputTokens: 3000, stream: true)");
    expect(choice.inputTokensEstimate).toBeGreaterThan(3000);
  });
});
