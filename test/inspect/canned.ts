/**
 * A hand-written `SnapshotData` (the §11 contract) covering what the page must render: every
 * decision action, every content block kind, a decoded stream, an error, truncated and evicted
 * bodies, and hostile text that must stay text.
 */
import type { RequestDetail, SnapshotData } from "../../src/inspect/types.js";

/** Markup in captured text: rendered as characters, it never becomes an element or runs. */
export const HOSTILE = `<img src="https://evil.example/x.png" onerror="window.__pwned=1"></script><script>window.__pwned=2</script>`;

const t0 = "2026-12-01T19:00:00.000Z";

const streamed: RequestDetail = {
  id: 1,
  sessionId: "sess-canned",
  time: t0,
  state: "done",
  method: "POST",
  path: "/v1/messages?beta=true",
  model: "claude-sonnet-4-5",
  upstreamModel: "anthropic/claude-sonnet-4.5",
  provider: "openrouter",
  route: "routes[0] (model claude-sonnet-*)",
  status: 200,
  stream: true,
  durationMs: 1840,
  ttfbMs: 412,
  usage: { inputTokens: 1200, outputTokens: 85, cacheReadTokens: 9000, cacheCreationTokens: 300 },
  cacheHitRate: 9000 / 10500,
  cost: { usd: 0.0123, apiEquivalent: true, priceRef: "anthropic claude-sonnet-4-5" },
  upstream: "https://openrouter.ai/api/v1/messages?beta=true",
  decisions: [
    { header: "content-type", action: "forward", reason: "end-to-end header", value: "application/json" },
    { header: "authorization", action: "set", reason: "provider apiKey", value: "Bearer sk-or-v1-…[len=73 #1a2b3c]" },
    { header: "anthropic-beta", action: "rewrite", reason: "betas this provider supports", value: "prompt-caching-2024-07-31" },
    { header: "connection", action: "strip", reason: "hop-by-hop (RFC 9110 §7.6.1)", value: "keep-alive" },
    { header: "x-api-key", action: "withhold", reason: "OAuth token not trusted to this provider", value: "sk-ant-oat01-…[len=108 #3fa91c]" },
  ],
  request: {
    headers: [
      ["content-type", "application/json"],
      ["x-claude-code-session-id", "sess-canned"],
    ],
    body: {
      bytes: 2048,
      contentType: "application/json",
      truncated: false,
      evicted: false,
      text: JSON.stringify({
        model: "claude-sonnet-4-5",
        max_tokens: 1024,
        stream: true,
        system: [{ type: "text", text: "You are a careful assistant." }],
        tools: [{ name: "read_file", description: "Read a file from disk.\nReturns its text.", input_schema: { type: "object", properties: { path: { type: "string" } } } }],
        messages: [
          { role: "user", content: [{ type: "text", text: `Look at this: ${HOSTILE}` }, { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==" } }] },
          { role: "assistant", content: [{ type: "tool_use", id: "toolu_01", name: "read_file", input: { path: "README.md" } }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01", content: "# llm-relay" }] },
        ],
      }),
    },
  },
  response: {
    status: 200,
    headers: [["content-type", "text/event-stream"]],
    body: { bytes: 900, contentType: "text/event-stream", truncated: false, evicted: false, text: "event: message_start\ndata: {}\n\n" },
    events: [
      { t: 412, event: "message_start", data: '{"type":"message_start"}' },
      { t: 420, event: "content_block_delta", data: '{"type":"content_block_delta","delta":{"type":"text_delta","text":"Hello "}}' },
      { t: 431, event: "content_block_delta", data: '{"type":"content_block_delta","delta":{"type":"text_delta","text":"world"}}' },
      { t: 1840, event: "message_stop", data: '{"type":"message_stop"}' },
    ],
    assembled: { text: "Hello world", thinking: "The user wants a greeting.", toolCalls: [{ id: "toolu_02", name: "read_file", input: '{"path":"src/index.ts"}' }], stopReason: "tool_use" },
  },
};

const failed: RequestDetail = {
  id: 2,
  sessionId: "sess-canned",
  time: "2026-12-01T19:00:05.000Z",
  state: "done",
  method: "POST",
  path: "/v1/messages",
  model: "claude-haiku-4-5",
  provider: "anthropic",
  route: "built-in: Anthropic API path",
  status: 429,
  stream: false,
  durationMs: 95,
  ttfbMs: 90,
  error: "rate limited upstream",
  decisions: [{ header: "content-type", action: "forward", reason: "end-to-end header", value: "application/json" }],
  request: { headers: [], body: { bytes: 8_000_000, contentType: "application/json", truncated: true, evicted: false, text: '{"model":"claude-haiku-4-5","messages":[{"role":"user","content":"aaaa' } },
  response: { status: 429, headers: [], body: { bytes: 60, contentType: "application/json", truncated: false, evicted: false, text: '{"type":"error","error":{"type":"rate_limit_error"}}' } },
};

const evicted: RequestDetail = {
  id: 3,
  sessionId: "sess-canned",
  time: "2026-12-01T19:00:09.000Z",
  state: "done",
  method: "POST",
  path: "/v1/chat/completions",
  model: "gpt-test",
  provider: "openai",
  route: "built-in: OpenAI API path",
  status: 200,
  stream: false,
  durationMs: 300,
  ttfbMs: 280,
  usage: { inputTokens: 40, outputTokens: 4 },
  decisions: [],
  request: { headers: [], body: { bytes: 500, contentType: "application/json", truncated: false, evicted: true } },
  response: { status: 200, headers: [], body: { bytes: 200, contentType: "application/json", truncated: false, evicted: true } },
};

export const cannedSnapshot: SnapshotData = {
  version: 1,
  generatedAt: "2026-12-01T19:01:00.000Z",
  relayVersion: "0.1.0",
  session: {
    id: "sess-canned",
    firstTime: t0,
    lastTime: evicted.time,
    requests: 3,
    errors: 1,
    tokens: { inputTokens: 1240, outputTokens: 89, cacheReadTokens: 9000, cacheCreationTokens: 300 },
    cost: { usd: 0.0123, apiEquivalent: true, partial: true },
    context: [
      { id: 1, time: t0, tokens: 10_500 },
      { id: 2, time: failed.time, tokens: 0 },
      { id: 3, time: evicted.time, tokens: 40 },
    ],
  },
  requests: [streamed, failed, evicted],
};
