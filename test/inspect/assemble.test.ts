/**
 * Reading responses for people (src/inspect/assemble.ts): SSE split into events, and text,
 * thinking and tool calls assembled from Anthropic and OpenAI streams and JSON bodies. Tables.
 */
import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { assembleEvents, assembleJson, parseSse } from "../../src/inspect/assemble.js";

const fixture = (name: string) => readFileSync(new URL(`../fixtures/usage/${name}`, import.meta.url), "utf8");
const a = (data: unknown, event?: string) => ({ ...(event ? { event } : {}), data: JSON.stringify(data) });

describe("parseSse", () => {
  it.each([
    ["event: a\ndata: 1\n\n", [{ event: "a", data: "1" }]],
    ["data: 1\r\n\r\ndata: 2\r\r", [{ data: "1" }, { data: "2" }]],
    ["data: a\ndata: b\n\n", [{ data: "a\nb" }]],
    [": comment\ndata:x\n\n", [{ data: "x" }]],
    ["data: cut", [{ data: "cut" }]],
    ["\n\n\n", []],
  ])("%j", (text, expected) => {
    expect(parseSse(text).map(({ end: _end, ...e }) => e)).toEqual(expected);
  });

  it("marks where each event ends", () => {
    expect(parseSse("data: 1\n\ndata: 22\n\n").map((e) => e.end)).toEqual([9, 19]);
  });
});

describe("assembleEvents", () => {
  it.each([
    [
      "Anthropic text, thinking and a tool call",
      [
        a({ type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } }),
        a({ type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "let me " } }),
        a({ type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "think" } }),
        a({ type: "content_block_start", index: 1, content_block: { type: "text", text: "" } }),
        a({ type: "content_block_delta", index: 1, delta: { type: "text_delta", text: "Hi" } }),
        a({ type: "content_block_start", index: 2, content_block: { type: "tool_use", id: "toolu_1", name: "Read", input: {} } }),
        a({ type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: '{"path":' } }),
        a({ type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: '"a.ts"}' } }),
        a({ type: "message_delta", delta: { stop_reason: "tool_use" }, usage: { output_tokens: 9 } }),
      ],
      { text: "Hi", thinking: "let me think", toolCalls: [{ id: "toolu_1", name: "Read", input: '{"path":"a.ts"}' }], stopReason: "tool_use" },
    ],
    [
      "OpenAI chat content and two tool calls in pieces",
      [
        a({ choices: [{ index: 0, delta: { role: "assistant", content: "ok" } }] }),
        a({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: "call_a", function: { name: "ls", arguments: '{"d"' } }] } }] }),
        a({ choices: [{ index: 0, delta: { tool_calls: [{ index: 1, id: "call_b", function: { name: "cat", arguments: "{}" } }] } }] }),
        a({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: ':"."}' } }] } }] }),
        a({ choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] }),
        { data: "[DONE]" },
      ],
      { text: "ok", thinking: "", toolCalls: [{ id: "call_a", name: "ls", input: '{"d":"."}' }, { id: "call_b", name: "cat", input: "{}" }], stopReason: "tool_calls" },
    ],
    ["garbage and unknown events", [{ data: "not json" }, a({ type: "ping" }), a([1, 2])], { text: "", thinking: "", toolCalls: [] }],
  ])("%s", (_name, events, expected) => {
    expect(assembleEvents(events)).toEqual(expected);
  });

  it.each([
    ["anthropic-messages.sse"],
    ["openai-chat.sse"],
  ])("reads the recorded stream %s", (name) => {
    const assembled = assembleEvents(parseSse(fixture(name)));
    expect(assembled.text.length).toBeGreaterThan(0);
    expect(assembled.stopReason).toBeDefined();
  });
});

describe("assembleJson", () => {
  it.each([
    [
      "an Anthropic message",
      { type: "message", content: [{ type: "thinking", thinking: "hm" }, { type: "text", text: "A" }, { type: "tool_use", id: "t1", name: "Bash", input: { cmd: "ls" } }], stop_reason: "tool_use" },
      { text: "A", thinking: "hm", toolCalls: [{ id: "t1", name: "Bash", input: '{"cmd":"ls"}' }], stopReason: "tool_use" },
    ],
    [
      "an OpenAI chat completion",
      { choices: [{ message: { role: "assistant", content: "B", tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] }, finish_reason: "stop" }] },
      { text: "B", thinking: "", toolCalls: [{ id: "c1", name: "f", input: "{}" }], stopReason: "stop" },
    ],
  ])("%s", (_name, body, expected) => {
    expect(assembleJson(JSON.stringify(body))).toEqual(expected);
  });

  it.each([["not json"], ["[]"], ['{"error":{"message":"x"}}']])("%s is no message", (text) => {
    expect(assembleJson(text)).toBeUndefined();
  });
});
