/**
 * Presets through the live relay (DESIGN §3, §10), against a mock upstream on loopback: what a
 * provider made from a preset sends (key, betas, query), a provider whose key variable is unset
 * answering 503 in the client's API shape while every other provider keeps working, and
 * count_tokens answered 404 by the relay without ever reaching the upstream.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send } from "../helpers/client.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { startTestRelay, type TestRelay } from "../helpers/relay.js";
import { claudeCodeHeaders } from "../fixtures/claude-code.js";
import { findLeaks, INJECTED_KEY, OAUTH_TOKEN } from "../fixtures/tokens.js";

let upstream: MockUpstream;
let relay: TestRelay;

const BODY = JSON.stringify({ model: "claude-sonnet-4-5", max_tokens: 16, messages: [{ role: "user", content: "hi" }] });

beforeAll(async () => {
  upstream = await startMockUpstream();
  relay = await startTestRelay(
    {
      providers: {
        // Presets pointed at the mock; every other field comes from the table.
        zai: { preset: "zai", baseUrl: `${upstream.url}/zai` },
        ds: { preset: "deepseek", baseUrl: `${upstream.url}/ds` },
        local: { preset: "ollama", baseUrl: `${upstream.url}/local` },
        oa: { kind: "openai", baseUrl: `${upstream.url}/oa`, apiKey: { env: "LLM_RELAY_TEST_UNSET_OPENAI" } },
        anthropic: { kind: "anthropic", baseUrl: `${upstream.url}/anthropic`, oauth: "forward" },
      },
      routes: [{ model: "claude-3-5-haiku*", provider: "ds" }],
    },
    { env: { ZAI_API_KEY: INJECTED_KEY } },
  );
});
afterAll(async () => {
  await relay?.close();
  await upstream?.close();
});

describe("a preset provider sends what its table entry says", () => {
  it("zai: its key as Bearer, the subscription token withheld, no anthropic-beta, no ?beta", async () => {
    const before = upstream.received.length;
    const res = await send(`${relay.url}/zai/v1/messages?beta=true`, {
      method: "POST",
      headers: { ...claudeCodeHeaders(OAUTH_TOKEN), "content-type": "application/json" },
      body: BODY,
    });
    expect(res.status).toBe(200);
    const [got] = (await upstream.waitForRequests(before + 1)).slice(before);
    expect(got!.url).toBe("/zai/v1/messages");
    expect(got!.headers.authorization).toBe(`Bearer ${INJECTED_KEY}`);
    expect(got!.headers["anthropic-beta"]).toBeUndefined();
    expect(JSON.stringify(got!.headers)).not.toContain(OAUTH_TOKEN);
    const [record] = (await relay.waitForRecords(1)).slice(-1);
    expect(record!.decisions).toContainEqual({ header: "?beta", action: "strip", value: "true", reason: "query.remove of zai" });
    expect(record!.decisions!.find((d) => d.header === "anthropic-beta")?.reason).toMatch(/betas\.allow of zai \(allows none\): removed /);
    expect(findLeaks(JSON.stringify(record))).toEqual([]);
  });
});

describe("an unavailable provider (key variable unset)", () => {
  it.each([
    ["Anthropic shape, by path prefix", "/ds/v1/messages", "ds", "DEEPSEEK_API_KEY",
      (body: any) => {
        expect(body.type).toBe("error");
        expect(body.error.type).toBe("api_error");
        return body.error.message as string;
      }],
    ["Anthropic shape, by a model route", "/v1/messages", "ds", "DEEPSEEK_API_KEY",
      (body: any) => body.error.message as string],
    ["OpenAI shape", "/oa/v1/chat/completions", "oa", "LLM_RELAY_TEST_UNSET_OPENAI",
      (body: any) => {
        expect(body.error.code).toBe("provider_unavailable");
        expect(body.error.type).toBe("server_error");
        return body.error.message as string;
      }],
  ])("%s: a relay-made 503 naming the variable, nothing sent upstream", async (_title, path, provider, variable, messageOf) => {
    const before = upstream.received.length;
    const body = path === "/v1/messages" ? BODY.replace("claude-sonnet-4-5", "claude-3-5-haiku-20241022") : BODY;
    const res = await send(`${relay.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": INJECTED_KEY },
      body,
    });
    expect(res.status).toBe(503);
    expect(res.headers["content-type"]).toBe("application/json");
    expect(messageOf(res.json())).toBe(
      `llm-relay: provider ${provider} is unavailable: set ${variable} (its apiKey names that environment variable, which is not set)`,
    );
    expect(res.text).not.toContain(INJECTED_KEY);
    expect(upstream.received.length).toBe(before);
    const record = relay.records.at(-1)!;
    expect(record.status).toBe(503);
    expect(record.provider).toBe(provider);
    expect(record.upstream).toBeUndefined();
  });

  it("every other provider keeps working", async () => {
    const before = upstream.received.length;
    const res = await send(`${relay.url}/v1/messages`, {
      method: "POST",
      headers: { ...claudeCodeHeaders(OAUTH_TOKEN), "content-type": "application/json" },
      body: BODY,
    });
    expect(res.status).toBe(200);
    const [got] = (await upstream.waitForRequests(before + 1)).slice(before);
    expect(got!.url).toBe("/anthropic/v1/messages");
    expect(got!.headers.authorization).toBe(`Bearer ${OAUTH_TOKEN}`);
    expect(got!.headers["anthropic-beta"]).toBe("claude-code-20250219,oauth-2025-04-20,interleaved-thinking-2025-05-14");
    // The local preset needs no key at all.
    const local = await send(`${relay.url}/local/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: BODY });
    expect(local.status).toBe(200);
  });
});

describe("countTokens: false", () => {
  it.each(["zai", "local"])("POST …/messages/count_tokens to %s: 404 not_found_error from the relay, never the upstream", async (name) => {
    const before = upstream.received.length;
    const res = await send(`${relay.url}/${name}/v1/messages/count_tokens?beta=true`, {
      method: "POST",
      headers: { ...claudeCodeHeaders(OAUTH_TOKEN), "content-type": "application/json" },
      body: BODY,
    });
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({
      type: "error",
      error: {
        type: "not_found_error",
        message: `llm-relay: provider ${name} has no count_tokens endpoint (countTokens: false), so the relay does not forward it`,
      },
    });
    // Never a made-up count.
    expect(res.text).not.toContain("input_tokens");
    // Give a stray forward time to arrive before asserting none did.
    await new Promise((r) => setTimeout(r, 100));
    expect(upstream.received.length).toBe(before);
    expect(upstream.started).toBe(before);
  });

  it("a provider with count_tokens (no countTokens: false) forwards it", async () => {
    const before = upstream.received.length;
    const res = await send(`${relay.url}/anthropic/v1/messages/count_tokens`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: BODY,
    });
    expect(res.status).toBe(200);
    const [got] = (await upstream.waitForRequests(before + 1)).slice(before);
    expect(got!.url).toBe("/anthropic/v1/messages/count_tokens");
  });
});
