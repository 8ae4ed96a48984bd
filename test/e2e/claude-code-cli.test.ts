/**
 * The real Claude Code CLI (`@anthropic-ai/claude-code`, a dev dependency) through the built
 * `llm-relay exec`, against two mock upstreams (DESIGN §10 scenario "haiku → local"): an
 * Anthropic-like one, and a "local" one that accepts only its own model name and answers 400 to
 * any `anthropic-beta` header, as a strict local server would. Haiku-class requests must reach
 * the local mock renamed, without the OAuth token or any beta; every other request reaches the
 * Anthropic mock with the token. `claude -p` must exit 0 with the mock's answer.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findLeaks, OAUTH_TOKEN } from "../fixtures/tokens.js";
import { cleanEnv, ROOT, runCli } from "../helpers/cli.js";
import { anthropicStream, sendJson, sendSse, startMockUpstream, type MockUpstream, type ReceivedRequest } from "../helpers/mock-upstream.js";

const CLAUDE = path.join(ROOT, "node_modules", "@anthropic-ai", "claude-code", "cli.js");
const LOCAL_MODEL = "qwen3-coder:30b";

/** Everything Claude Code 2.1 reads to stay off the network beyond its API base URL. */
const QUIET = {
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  DISABLE_AUTOUPDATER: "1",
  DISABLE_TELEMETRY: "1",
  DISABLE_ERROR_REPORTING: "1",
  DISABLE_INSTALLATION_CHECKS: "1",
  CLAUDE_CODE_DISABLE_OFFICIAL_MARKETPLACE_AUTOINSTALL: "1",
  CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY: "1",
};

const bodyOf = (got: ReceivedRequest): { model?: string; stream?: boolean } => {
  try {
    return JSON.parse(got.body.toString("utf8")) as { model?: string; stream?: boolean };
  } catch {
    return {};
  }
};

/** A Messages API upstream: SSE or JSON answers that name `answer`, count_tokens, 404 elsewhere. */
function messagesApi(answer: string, accept: (req: IncomingMessage, got: ReceivedRequest) => string | undefined) {
  return (req: IncomingMessage, res: ServerResponse, got: ReceivedRequest): void | Promise<void> => {
    const refused = accept(req, got);
    if (refused !== undefined) return sendJson(res, 400, { type: "error", error: { type: "invalid_request_error", message: refused } });
    const url = req.url ?? "";
    if (url.startsWith("/v1/messages/count_tokens")) return sendJson(res, 200, { input_tokens: 321 });
    if (req.method === "POST" && url.startsWith("/v1/messages")) {
      const body = bodyOf(got);
      if (body.stream) {
        const events = anthropicStream([answer]);
        (events[0]!.data as { message: { model: string } }).message.model = body.model ?? "unknown";
        return sendSse(res, events);
      }
      return sendJson(res, 200, {
        id: "msg_mock", type: "message", role: "assistant", model: body.model, content: [{ type: "text", text: answer }],
        stop_reason: "end_turn", stop_sequence: null, usage: { input_tokens: 12, output_tokens: 3 },
      });
    }
    if (req.method === "HEAD") {
      res.writeHead(200);
      res.end();
      return;
    }
    return sendJson(res, 404, { type: "error", error: { type: "not_found_error", message: `mock: ${url}` } });
  };
}

let anthropic: MockUpstream;
let local: MockUpstream;
let home: string;
let configFile: string;

beforeAll(async () => {
  anthropic = await startMockUpstream(messagesApi("ANSWER FROM THE ANTHROPIC MOCK", () => undefined));
  local = await startMockUpstream(
    messagesApi("ANSWER FROM THE LOCAL MOCK", (req, got) => {
      if (req.headers["anthropic-beta"] !== undefined) return `local: unsupported anthropic-beta ${req.headers["anthropic-beta"]}`;
      const model = bodyOf(got).model;
      if (req.method === "POST" && model !== LOCAL_MODEL) return `local: unknown model ${model}`;
      return undefined;
    }),
  );
  home = await mkdtemp(path.join(tmpdir(), "llm-relay-claude-"));
  configFile = path.join(home, "relay.config.json");
  await writeFile(
    configFile,
    JSON.stringify({
      providers: {
        anthropic: { kind: "anthropic", baseUrl: anthropic.url, oauth: "forward" },
        local: { kind: "anthropic", baseUrl: local.url, models: { "claude-*haiku*": LOCAL_MODEL }, betas: { allow: [] } },
      },
      routes: [{ model: "claude-*haiku*", provider: "local" }],
    }),
  );
});
afterAll(async () => {
  await anthropic?.close();
  await local?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

async function claude(args: string[]) {
  const claudeHome = await mkdtemp(path.join(home, "home-"));
  return runCli(["exec", "-c", configFile, "--log-file", "-", "--", process.execPath, CLAUDE, "-p", ...args], {
    env: cleanEnv(claudeHome, { CLAUDE_CODE_OAUTH_TOKEN: OAUTH_TOKEN, ...QUIET }),
    cwd: claudeHome,
    timeoutMs: 240_000,
  });
}

const messageRequests = (mock: MockUpstream) => mock.received.filter((r) => r.method === "POST" && r.url.startsWith("/v1/messages"));

describe("claude -p through llm-relay exec: haiku → local, everything else → the subscription", () => {
  it("the default model goes to the Anthropic mock with the OAuth token", async () => {
    const result = await claude(["say hi"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("ANSWER FROM THE ANTHROPIC MOCK");
    const requests = messageRequests(anthropic);
    expect(requests.length).toBeGreaterThan(0);
    for (const got of requests) {
      expect(got.headers.authorization).toBe(`Bearer ${OAUTH_TOKEN}`);
      expect(bodyOf(got).model).not.toMatch(/haiku/);
    }
    expect(findLeaks(result.stderr)).toEqual([]);
  }, 300_000);

  it("--model claude-haiku-4-5 goes to the local mock, renamed, with no token and no beta", async () => {
    const before = messageRequests(anthropic).length;
    const result = await claude(["--model", "claude-haiku-4-5", "say hi"]);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toContain("ANSWER FROM THE LOCAL MOCK");
    const requests = messageRequests(local);
    expect(requests.length).toBeGreaterThan(0);
    for (const got of local.received) {
      expect(got.headers.authorization).toBeUndefined();
      expect(got.headers["x-api-key"]).toBeUndefined();
      expect(got.headers["anthropic-beta"]).toBeUndefined();
      expect(got.body.toString("utf8")).not.toContain("sk-ant-oat");
    }
    for (const got of requests) expect(bodyOf(got).model).toBe(LOCAL_MODEL);
    // Nothing haiku-class went to the Anthropic mock in this run.
    for (const got of messageRequests(anthropic).slice(before)) expect(bodyOf(got).model).not.toMatch(/haiku/);
    // The relay's log says where it went and under which name, with the token nowhere.
    expect(result.stderr).toMatch(/claude-haiku-4-5 → local \(as qwen3-coder:30b\) oauth withheld 200/);
    expect(findLeaks(result.stderr)).toEqual([]);
  }, 300_000);
});
