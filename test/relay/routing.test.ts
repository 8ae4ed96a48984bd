/**
 * Routing through the live relay (DESIGN §3), one row per rule kind: provider path prefix,
 * `routes` by model glob / path prefix / header, the built-in rules, `defaultProvider`, and first
 * match wins. Every provider is the same mock upstream under its own path prefix, so the URL the
 * upstream received says which provider the relay chose.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send } from "../helpers/client.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults, startTestRelay, type TestRelay } from "../helpers/relay.js";

let upstream: MockUpstream;
let relay: TestRelay;

beforeAll(async () => {
  upstream = await startMockUpstream();
  relay = await startTestRelay({
    providers: {
      ...mockedDefaults(upstream.url).providers,
      // A gateway whose API lives below /api (a trailing slash must not double up).
      gw: { kind: "anthropic", baseUrl: `${upstream.url}/api/` },
      local: { kind: "openai", baseUrl: `${upstream.url}/local` },
      tagged: { kind: "generic", baseUrl: `${upstream.url}/tagged` },
      fallback: { kind: "generic", baseUrl: `${upstream.url}/fallback` },
    },
    routes: [
      { model: "claude-3-5-haiku*", provider: "gw" },
      { path: "/v1/chat/completions", provider: "local" },
      { header: { "X-Team": "blue" }, provider: "tagged" },
    ],
    defaultProvider: "fallback",
  });
});
afterAll(async () => {
  await relay?.close();
  await upstream?.close();
});

interface Row {
  path: string;
  headers?: Record<string, string>;
  model?: string;
  upstreamUrl: string;
  provider: string;
}

const rows: Array<[string, Row]> = [
  ["provider path prefix, removed; baseUrl path kept", { path: "/gw/v1/messages", upstreamUrl: "/api/v1/messages", provider: "gw" }],
  ["provider path prefix for a built-in provider", { path: "/openai/v1/models", upstreamUrl: "/v1/models", provider: "openai" }],
  ["provider path prefix beats a matching route", { path: "/tagged/v1/chat/completions", model: "claude-3-5-haiku-latest", upstreamUrl: "/tagged/v1/chat/completions", provider: "tagged" }],
  ["provider path prefix alone", { path: "/local", upstreamUrl: "/local/", provider: "local" }],
  ["a segment that only starts like a provider name is not one", { path: "/gwx/v1/messages", upstreamUrl: "/fallback/gwx/v1/messages", provider: "fallback" }],
  ["route by model glob", { path: "/v1/messages", model: "claude-3-5-haiku-20241022", upstreamUrl: "/api/v1/messages", provider: "gw" }],
  ["model not matching the glob falls through", { path: "/v1/messages", model: "claude-sonnet-4-5", upstreamUrl: "/v1/messages", provider: "anthropic" }],
  ["route by path prefix", { path: "/v1/chat/completions", model: "gpt-4o", upstreamUrl: "/local/v1/chat/completions", provider: "local" }],
  ["route by path prefix, below it", { path: "/v1/chat/completions/abc", upstreamUrl: "/local/v1/chat/completions/abc", provider: "local" }],
  ["route by header (name case-insensitive)", { path: "/v1/responses", headers: { "x-team": "blue" }, upstreamUrl: "/tagged/v1/responses", provider: "tagged" }],
  ["header with another value does not match", { path: "/v1/responses", headers: { "x-team": "red" }, upstreamUrl: "/v1/responses", provider: "openai" }],
  ["built-in: anthropic-version header", { path: "/v1/models", headers: { "anthropic-version": "2023-06-01" }, upstreamUrl: "/v1/models", provider: "anthropic" }],
  ["built-in: OpenAI API path", { path: "/v1/embeddings", upstreamUrl: "/v1/embeddings", provider: "openai" }],
  ["built-in: Anthropic API path", { path: "/v1/messages/count_tokens", upstreamUrl: "/v1/messages/count_tokens", provider: "anthropic" }],
  ["defaultProvider", { path: "/custom/thing", upstreamUrl: "/fallback/custom/thing", provider: "fallback" }],
  ["first match wins: model route before path route", { path: "/v1/chat/completions", model: "claude-3-5-haiku-latest", upstreamUrl: "/api/v1/chat/completions", provider: "gw" }],
  ["first match wins: path route before header route", { path: "/v1/chat/completions", headers: { "x-team": "blue" }, upstreamUrl: "/local/v1/chat/completions", provider: "local" }],
];

describe("routing", () => {
  it.each(rows)("%s", async (_name, row) => {
    const before = upstream.received.length;
    const recordsBefore = relay.records.length;
    const body = JSON.stringify({ ...(row.model !== undefined ? { model: row.model } : {}), max_tokens: 1, messages: [] });
    const res = await send(`${relay.url}${row.path}`, { headers: { "content-type": "application/json", ...row.headers }, body });
    expect(res.status).toBe(200);
    expect(upstream.received[before]!.url).toBe(row.upstreamUrl);
    const [record] = (await relay.waitForRecords(recordsBefore + 1)).slice(recordsBefore);
    expect(record!.provider).toBe(row.provider);
  });
});
