/**
 * The clients the README says `exec` works with, run under the built binary: the Anthropic and
 * OpenAI SDKs find the relay through the variables exec sets, with no code change (Claude Code
 * itself is run the same way in test/e2e/claude-code-cli.test.ts).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ANTHROPIC_API_KEY, findLeaks, OPENAI_KEY } from "../fixtures/tokens.js";
import { cleanEnv, ROOT, runCli } from "../helpers/cli.js";
import { anthropicMessage, sendJson, startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults } from "../helpers/relay.js";

let upstream: MockUpstream;
let home: string;
let configFile: string;

beforeAll(async () => {
  upstream = await startMockUpstream();
  upstream.handle(anthropicMessage);
  home = await mkdtemp(path.join(tmpdir(), "llm-relay-exec-clients-"));
  configFile = path.join(home, "relay.json");
  // Both providers stand in for the official origins, trusted with the client's own keys.
  const providers = mockedDefaults(upstream.url).providers!;
  await writeFile(configFile, JSON.stringify({ providers: { ...providers, anthropic: { ...providers.anthropic, clientKeys: "forward" } } }));
});
afterAll(async () => {
  await upstream?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe("exec with the SDKs, pointed at the relay only by the environment", () => {
  it("the Anthropic SDK uses ANTHROPIC_BASE_URL and the OpenAI SDK OPENAI_BASE_URL; each key reaches the upstream, the session token does not", async () => {
    const before = upstream.received.length;
    const result = await runCli(["exec", "-c", configFile, "--log-file", "-", "--", "node", path.join(ROOT, "test", "fixtures", "children", "sdk-clients.mjs")], {
      env: cleanEnv(home, { ANTHROPIC_API_KEY, OPENAI_API_KEY: OPENAI_KEY }),
      timeoutMs: 60_000,
    });
    expect(result.code, result.stderr).toBe(0);
    const seen = JSON.parse(result.stdout.trim().split("\n").at(-1)!) as Record<"anthropic" | "openai", { baseURL: string; id: string }>;
    expect(seen.anthropic.baseURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_t\/[\w-]{43}$/);
    expect(seen.openai.baseURL).toBe(`${seen.anthropic.baseURL}/v1`);
    expect([seen.anthropic.id, seen.openai.id]).toEqual(["msg_test", "msg_test"]);

    const received = upstream.received.slice(before);
    expect(received.map((r) => r.url)).toEqual(["/v1/messages", "/v1/chat/completions"]);
    const [messages, chat] = received;
    // SDK 1.x sends its key as a bearer token, older ones as x-api-key: either way, as sent.
    expect([ANTHROPIC_API_KEY, `Bearer ${ANTHROPIC_API_KEY}`]).toContain(messages!.headers["x-api-key"] ?? messages!.headers.authorization);
    expect(chat!.headers.authorization).toBe(`Bearer ${OPENAI_KEY}`);
    const sessionToken = seen.anthropic.baseURL.split("/_t/")[1]!;
    expect(JSON.stringify(received.map((r) => [r.url, r.headers]))).not.toContain(sessionToken);

    // What the user reads: one line per request, the path as the SDK asked for it.
    expect(result.stderr).toMatch(/ POST \/v1\/messages claude-test → anthropic 200 /);
    expect(result.stderr).toMatch(/ POST \/v1\/chat\/completions gpt-test → openai 200 /);
    expect(findLeaks(result.stderr, [ANTHROPIC_API_KEY, OPENAI_KEY, sessionToken])).toEqual([]);
  }, 90_000);
});

describe("exec's summary line", () => {
  it("counts cache tokens next to input and output, and the log file holds the request", async () => {
    upstream.handle((_req, res) =>
      sendJson(res, 200, {
        id: "msg_cached",
        type: "message",
        role: "assistant",
        model: "claude-test",
        content: [{ type: "text", text: "hi" }],
        usage: { input_tokens: 12, output_tokens: 3, cache_read_input_tokens: 16384, cache_creation_input_tokens: 512 },
      }),
    );
    const logFile = path.join(home, "cache.log");
    // One Messages request to $ANTHROPIC_BASE_URL, the way an SDK would send it.
    const script = `const r = await fetch(process.env.ANTHROPIC_BASE_URL + "/v1/messages", { method: "POST", headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-api-key": process.env.ANTHROPIC_API_KEY }, body: JSON.stringify({ model: "claude-test", max_tokens: 8, messages: [] }) }); await r.text(); process.exit(r.status === 200 ? 0 : 1);`;
    try {
      const result = await runCli(["exec", "-c", configFile, "--log-file", logFile, "--", "node", "--input-type=module", "-e", script], {
        env: cleanEnv(home, { ANTHROPIC_API_KEY }),
        timeoutMs: 60_000,
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/llm-relay: node exited with 0; 1 request, 0 errors, 12 in \/ 3 out tokens, 16384 cache-read \/ 512 cache-write/);
      const [record] = (await readFile(logFile, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { usage: Record<string, number> });
      expect(record!.usage).toMatchObject({ inputTokens: 12, outputTokens: 3, cacheReadTokens: 16384, cacheCreationTokens: 512 });
    } finally {
      upstream.handle(anthropicMessage);
    }
  }, 90_000);
});
