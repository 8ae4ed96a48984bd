/**
 * The README's "Send part of Claude Code elsewhere" section is tested, not just written: every
 * config block marked `<!-- tested-config: NAME -->` is loaded from the README, must validate,
 * and must route the requests its table describes. (Its `explain` output is checked, with every
 * other `$ llm-relay explain` block, by readme-explain.test.ts.)
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/config/resolve.js";
import { ModelSniffer } from "../../src/routing/model-sniffer.js";
import { parseJsonBody } from "../../src/routing/request-features.js";
import { planRequest, type RequestPlan } from "../../src/relay/plan.js";
import { claudeCodeHeaders } from "../fixtures/claude-code.js";
import { OAUTH_TOKEN } from "../fixtures/tokens.js";
import { ROOT } from "../helpers/cli.js";

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

/** Bodies shaped like Claude Code 2.1's (a haiku-class call, a main turn with adaptive thinking), kept in docs/examples for the README's commands. */
const BODY_FILES = ["haiku-request.json", "thinking-request.json", "plain-request.json"] as const;
const BODIES = Object.fromEntries(
  await Promise.all(BODY_FILES.map(async (file) => [file, await readFile(path.join(ROOT, "docs", "examples", file), "utf8")] as const)),
) as Record<(typeof BODY_FILES)[number], string>;
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
