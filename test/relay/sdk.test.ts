/**
 * Real clients through the relay: the Anthropic SDK (plain and streaming) and the OpenAI SDK
 * (streaming chat completions), over loopback to the mock upstream.
 */
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anthropicMessage, anthropicStream, openaiStream, sendSse, startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults, startTestRelay, type TestRelay } from "../helpers/relay.js";
import { ANTHROPIC_API_KEY, OAUTH_TOKEN, OPENAI_KEY } from "../fixtures/tokens.js";

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

describe("Anthropic SDK through the relay", () => {
  it("creates a message with an API key; the upstream gets the key and the SDK the answer", async () => {
    upstream.handle(anthropicMessage);
    const client = new Anthropic({ apiKey: ANTHROPIC_API_KEY, baseURL: relay.url, maxRetries: 0 });
    const message = await client.messages.create({ model: "claude-test", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
    expect(message.content[0]).toEqual({ type: "text", text: "hi" });
    const got = upstream.received.at(-1)!;
    expect(got.url).toBe("/v1/messages");
    // SDK 1.x sends the key as a bearer token; older ones used x-api-key. Either way it arrives as sent.
    const sent = got.headers.authorization ?? got.headers["x-api-key"];
    expect([`Bearer ${ANTHROPIC_API_KEY}`, ANTHROPIC_API_KEY]).toContain(sent);
    expect(JSON.parse(got.body.toString()).model).toBe("claude-test");
  });

  it("streams a message with an OAuth token, text arriving event by event", async () => {
    upstream.handle((_req, res) => sendSse(res, anthropicStream(["Hel", "lo", " world"]), { delayMs: 5 }));
    const client = new Anthropic({ authToken: OAUTH_TOKEN, apiKey: null, baseURL: relay.url, maxRetries: 0 });
    const stream = client.messages.stream({ model: "claude-test", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
    const deltas: string[] = [];
    stream.on("text", (t) => deltas.push(t));
    const final = await stream.finalMessage();
    expect(deltas).toEqual(["Hel", "lo", " world"]);
    expect(final.usage.output_tokens).toBe(7);
    const got = upstream.received.at(-1)!;
    expect(got.headers.authorization).toBe(`Bearer ${OAUTH_TOKEN}`);
    expect(got.headers["x-api-key"]).toBeUndefined();
    expect(String(got.headers["anthropic-beta"]).split(",")).toContain("oauth-2025-04-20");
    const record = (await relay.waitForRecords(2)).at(-1)!;
    expect(record).toMatchObject({ provider: "anthropic", status: 200, stream: true, model: "claude-test" });
    expect(record.usage).toMatchObject({ inputTokens: 25, outputTokens: 7 });
  });
});

describe("OpenAI SDK through the relay", () => {
  it("streams chat completions to the openai provider with its key", async () => {
    upstream.handle((_req, res) => sendSse(res, openaiStream(["a", "b", "c"])));
    const client = new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${relay.url}/v1`, maxRetries: 0 });
    const stream = await client.chat.completions.create({
      model: "gpt-test",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
    expect(text).toBe("abc");
    const got = upstream.received.at(-1)!;
    expect(got.url).toBe("/v1/chat/completions");
    expect(got.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    const record = (await relay.waitForRecords(3)).at(-1)!;
    expect(record).toMatchObject({ provider: "openai", status: 200, stream: true, model: "gpt-test" });
    expect(record.usage).toMatchObject({ inputTokens: 9, outputTokens: 4 });
  });
});
