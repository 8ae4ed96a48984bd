/**
 * Real clients through the relay: the Anthropic SDK (plain and streaming) and the OpenAI SDK
 * (streaming chat completions), over loopback to the mock upstream; and relay-made errors (502,
 * 404, a broken stream's error event) surfacing as each SDK's own API errors.
 */
import net, { type AddressInfo } from "node:net";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anthropicMessage, anthropicStream, openaiStream, sendSse, sseFrame, startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults, startTestRelay, type TestRelay } from "../helpers/relay.js";
import { ANTHROPIC_API_KEY, OAUTH_TOKEN, OPENAI_KEY } from "../fixtures/tokens.js";

let upstream: MockUpstream;
let relay: TestRelay;

beforeAll(async () => {
  upstream = await startMockUpstream();
  relay = await startTestRelay({
    providers: {
      ...mockedDefaults(upstream.url).providers,
      nowhere: { kind: "anthropic", baseUrl: `http://127.0.0.1:${await closedPort()}` },
    },
  });
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
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
    // Durations in records (and so in --json and log files) carry hundredths of a millisecond, not timer noise.
    expect(String(record.durationMs)).toMatch(/^\d+(\.\d{1,2})?$/);
    expect(String(record.ttfbMs)).toMatch(/^\d+(\.\d{1,2})?$/);
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

describe("relay-made errors reach the SDKs as ordinary API errors", () => {
  it("Anthropic SDK: a stream the upstream breaks raises the relay's error event", async () => {
    const [first] = anthropicStream(["x"]);
    upstream.handle((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sseFrame(first!), () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const client = new Anthropic({ apiKey: ANTHROPIC_API_KEY, baseURL: relay.url, maxRetries: 0 });
    const stream = client.messages.stream({ model: "claude-test", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });
    await expect(stream.finalMessage()).rejects.toThrow(/llm-relay: /);
  });

  it("Anthropic SDK: a 502 from an unreachable provider is an APIError with the relay's message", async () => {
    const client = new Anthropic({ apiKey: ANTHROPIC_API_KEY, baseURL: `${relay.url}/nowhere`, maxRetries: 0 });
    const error = await client.messages.create({ model: "claude-test", max_tokens: 16, messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
    expect(String((error as Error).message)).toMatch(/llm-relay: .*refused the connection/);
  });

  it("OpenAI SDK: a 404 for an unknown provider prefix is a NotFoundError with the relay's message", async () => {
    const client = new OpenAI({ apiKey: OPENAI_KEY, baseURL: `${relay.url}/olama/v1`, maxRetries: 0 });
    const error = await client.chat.completions.create({ model: "gpt-test", messages: [{ role: "user", content: "hi" }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).message).toMatch(/llm-relay: no provider for POST \/olama\/v1\/chat\/completions/);
  });
});
