/**
 * The README's "Send part of Claude Code elsewhere" section is tested, not just written: every
 * config block marked `<!-- tested-config: NAME -->` is loaded from the README, must validate,
 * and must route the requests its table describes; the `explain` output printed there is what
 * the built binary prints for the same config and body.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/resolve.js";
import { ModelSniffer } from "../../src/routing/model-sniffer.js";
import { parseJsonBody } from "../../src/routing/request-features.js";
import { planRequest, type RequestPlan } from "../../src/relay/plan.js";
import { claudeCodeHeaders } from "../fixtures/claude-code.js";
import { findLeaks, OAUTH_TOKEN } from "../fixtures/tokens.js";
import { cleanEnv, ROOT, runCli } from "../helpers/cli.js";

/** A stand-in for the user's DeepSeek key: the deepseek preset reads DEEPSEEK_API_KEY. */
const DEEPSEEK_KEY = "sk-deepseek-readme-test-key-0000000000";
const ENV = { DEEPSEEK_API_KEY: DEEPSEEK_KEY };

const README = await readFile(path.join(ROOT, "README.md"), "utf8");

/** The JSON block after `<!-- tested-config: NAME -->`. */
function configBlock(name: string): unknown {
  const marker = `<!-- tested-config: ${name} -->`;
  const at = README.indexOf(marker);
  if (at === -1) throw new Error(`README has no ${marker}`);
  const fence = /```json\n([\s\S]*?)\n```/.exec(README.slice(at));
  if (!fence) throw new Error(`no json block after ${marker}`);
  return JSON.parse(fence[1]!);
}

/** The output under the README's `… llm-relay explain -c .llm-relayrc.json --body FILE …` line. */
function explainBlock(file: string): string {
  const command = README.indexOf(`llm-relay explain -c .llm-relayrc.json --body ${file} `);
  if (command === -1) throw new Error(`README shows no explain --body ${file}`);
  const start = README.indexOf("\n", command) + 1;
  return README.slice(start, README.indexOf("\n```", start));
}

/** Bodies shaped like Claude Code 2.1's: a haiku-class call, and a main turn with adaptive thinking. */
const BODIES = {
  "haiku-request.json": JSON.stringify({
    model: "claude-haiku-4-5-20251001",
    max_tokens: 512,
    system: [{ type: "text", text: "Summarize this coding conversation in under 50 characters." }],
    messages: [{ role: "user", content: "Fix the failing test in src/relay/server.ts" }],
    stream: true,
  }),
  "thinking-request.json": JSON.stringify({
    model: "claude-sonnet-4-6",
    max_tokens: 32000,
    thinking: { type: "adaptive" },
    system: [{ type: "text", text: "You are Claude Code, Anthropic's official CLI for Claude." }],
    tools: [
      { name: "Bash", description: "Executes a given bash command.", input_schema: { type: "object", properties: { command: { type: "string" } } } },
      { name: "Read", description: "Reads a file from the local filesystem.", input_schema: { type: "object", properties: { file_path: { type: "string" } } } },
    ],
    messages: [{ role: "user", content: [{ type: "text", text: "Why does the relay buffer bodies when a route has when?" }] }],
    stream: true,
  }),
  "plain-request.json": JSON.stringify({
    model: "claude-sonnet-4-6",
    max_tokens: 32000,
    messages: [{ role: "user", content: "hi" }],
    stream: true,
  }),
};
type BodyName = keyof typeof BODIES;

function plan(name: string, body: BodyName) {
  const config = resolveConfig(configBlock(name), { source: { via: "inline" }, env: ENV });
  const bytes = Buffer.from(BODIES[body]);
  const sniffer = new ModelSniffer();
  sniffer.push(bytes);
  sniffer.end();
  const headers = { ...claudeCodeHeaders(OAUTH_TOKEN), "content-length": String(bytes.length) };
  return planRequest({ path: "/v1/messages", query: "?beta=true", headers, model: sniffer.model, modelSpan: sniffer.span, json: parseJsonBody(bytes), config }) as RequestPlan | undefined;
}

describe("README configs validate and route as described", () => {
  // [config, body, provider, upstream model, what becomes of the OAuth token]
  it.each<[string, BodyName, string, string, "forward" | "withhold" | "strip"]>([
    ["haiku-local", "haiku-request.json", "local", "qwen3-coder:30b", "withhold"],
    ["haiku-local", "thinking-request.json", "anthropic", "claude-sonnet-4-6", "forward"],
    ["thinking-deepseek", "thinking-request.json", "deepseek", "deepseek-reasoner", "strip"],
    ["thinking-deepseek", "plain-request.json", "anthropic", "claude-sonnet-4-6", "forward"],
    ["both", "haiku-request.json", "local", "qwen3-coder:30b", "withhold"],
    ["both", "thinking-request.json", "deepseek", "deepseek-reasoner", "strip"],
    ["both", "plain-request.json", "anthropic", "claude-sonnet-4-6", "forward"],
  ])("%s: %s → %s as %s, OAuth token %s", (name, body, provider, upstreamModel, oauth) => {
    const planned = plan(name, body)!;
    expect(planned.route.provider.name).toBe(provider);
    expect(planned.upstreamModel).toBe(upstreamModel);
    expect(planned.decisions.find((d) => d.header === "authorization")?.action).toBe(oauth);
    expect(planned.headers.oauthForwarded).toBe(oauth === "forward");
    if (provider !== "anthropic") expect(JSON.stringify(planned.headers.headers)).not.toContain("sk-ant-oat");
  });
});

describe("README explain output is the binary's", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "llm-relay-readme-"));
    for (const [file, text] of Object.entries(BODIES)) await writeFile(path.join(dir, file), text);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it.each([
    ["haiku-local", "haiku-request.json"],
    ["thinking-deepseek", "thinking-request.json"],
  ])("%s with %s", async (name, file) => {
    const configFile = path.join(dir, `${name}.json`);
    await writeFile(configFile, JSON.stringify(configBlock(name)));
    const result = await runCli(["explain", "-c", configFile, "--body", file, "-H", `authorization: Bearer ${OAUTH_TOKEN}`], {
      env: cleanEnv(dir, ENV),
      cwd: dir,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(findLeaks(result.stdout + result.stderr, [OAUTH_TOKEN, DEEPSEEK_KEY])).toEqual([]);
    const shown = result.stdout.trimEnd().replace(configFile, ".llm-relayrc.json");
    expect(shown).toBe(explainBlock(file));
  });
});
