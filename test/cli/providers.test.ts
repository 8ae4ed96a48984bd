/**
 * `llm-relay providers`, `init --with` and unavailable providers (DESIGN §3, §10) as a user meets
 * them: the built binary, its output and exit code. The README's Presets table and config
 * example are checked against the same code: the table is what `presetsMarkdown` renders from the
 * preset table, and the example loads with no environment variable set.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { presetRows, presetsMarkdown } from "../../src/cli/providers.js";
import { PRESET_NAMES, PRESETS } from "../../src/providers/presets.js";
import { cleanEnv, ROOT, runCli, startCli } from "../helpers/cli.js";
import { findLeaks, INJECTED_KEY } from "../fixtures/tokens.js";

let home: string;
let env: NodeJS.ProcessEnv;
let seq = 0;
const folder = () => {
  const dir = path.join(home, `p${++seq}`);
  mkdirSync(dir, { recursive: true });
  return dir;
};

beforeAll(() => {
  home = mkdtempSync(path.join(tmpdir(), "llm-relay-providers-"));
  env = cleanEnv(home);
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("llm-relay providers", () => {
  it("lists every preset with its base URL, key variable, betas, count_tokens and models default", async () => {
    const result = await runCli(["providers"], { env, cwd: home });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^preset\s+base URL\s+key variable → header\s+anthropic-beta\s+count_tokens\s+models default$/);
    for (const name of PRESET_NAMES) {
      const p = PRESETS[name] as (typeof PRESETS)[keyof typeof PRESETS] & { keyEnv?: string };
      const line = lines.find((l) => l.startsWith(`${name} `));
      expect(line, name).toBeDefined();
      expect(line).toContain(p.baseUrl);
      if (p.keyEnv) expect(line).toContain(p.keyEnv);
      expect(line).toContain(p.countTokens ? "forwarded" : "404 from the relay");
    }
    expect(lines.find((l) => l.startsWith("deepseek "))).toMatch(/DEEPSEEK_API_KEY → x-api-key\s+none; drops \?beta\s+404 from the relay\s+—$/);
    expect(lines.find((l) => l.startsWith("anthropic (OAuth) "))).toMatch(/none: the client's own credentials\s+all\s+forwarded/);
    expect(lines.find((l) => l.startsWith("qwen "))).toMatch(/\* → qwen3-coder-plus$/);
  });

  it("--json gives the same rows as the table, with each vendor document", async () => {
    const result = await runCli(["providers", "--json"], { env, cwd: home });
    expect(result.code).toBe(0);
    const rows = JSON.parse(result.stdout);
    expect(rows).toEqual(presetRows());
    expect(rows.map((r: { name: string }) => r.name)).toEqual(PRESET_NAMES);
    for (const row of rows) expect(row.doc.url).toMatch(/^https:\/\//);
  });
});

describe("the README", () => {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");

  it("its Presets table is the one rendered from src/providers/presets.ts", () => {
    const block = readme.match(/<!-- presets:start[^>]*-->\n([\s\S]*?)\n<!-- presets:end -->/);
    expect(block, "README has the presets markers").not.toBeNull();
    expect(block![1]).toBe(presetsMarkdown(presetRows()));
  });

  it("lists providers and init --with among the commands, and a row per new config field", () => {
    expect(readme).toContain("llm-relay providers [--json]");
    expect(readme).toContain("llm-relay init [--force] [--with NAME,…]");
    for (const field of ["preset", "betas.allow", "query.remove", "countTokens", "models"]) {
      expect(readme).toContain(`| \`providers.<name>.${field}\` |`);
    }
  });

  it("its config example loads with no environment variable set: unset keys are warnings, exit 0", async () => {
    const section = readme.slice(readme.indexOf("## Config"));
    const example = section.match(/```js\n([\s\S]*?)```/)![1]!;
    const dir = folder();
    const file = path.join(dir, "example.config.mjs");
    writeFileSync(file, example);
    const result = await runCli(["config", "-c", file, "--json"], { env, cwd: dir });
    expect(result.stderr).not.toMatch(/invalid config/);
    expect(result.code).toBe(0);
    const view = JSON.parse(result.stdout);
    const unavailable = Object.entries(view.providers as Record<string, { unavailable: { env: string } | null }>)
      .filter(([, p]) => p.unavailable !== null)
      .map(([name, p]) => `${name}:${p.unavailable!.env}`);
    expect(unavailable.length).toBeGreaterThan(0);
    for (const entry of unavailable) {
      const [name, variable] = entry.split(":");
      expect(result.stderr).toContain(`llm-relay: warning: provider ${name} is unavailable: set ${variable} (`);
    }
  });
});

describe("llm-relay init --with", () => {
  it("writes a starter that uses those presets; it validates, and config shows them", async () => {
    const dir = folder();
    const init = await runCli(["init", "--with", "deepseek, ollama"], { env, cwd: dir });
    expect(init.code).toBe(0);
    const text = readFileSync(path.join(dir, "llm-relay.config.mjs"), "utf8");
    expect(text).toMatch(/^    deepseek: \{ preset: "deepseek" \},$/m);
    expect(text).toMatch(/^    ollama: \{ preset: "ollama" \},$/m);
    expect(text).toContain("// DeepSeek: https://api.deepseek.com/anthropic, its key from DEEPSEEK_API_KEY");
    expect(text).toMatch(/^    \/\/ \{ model: "claude-\*haiku\*", provider: "deepseek" \},/m);

    // No key set: deepseek is unavailable, a warning, not an error; ollama needs none.
    const config = await runCli(["config", "--json"], { env, cwd: dir });
    expect(config.code).toBe(0);
    expect(config.stderr).toContain("llm-relay: warning: provider deepseek is unavailable: set DEEPSEEK_API_KEY");
    const view = JSON.parse(config.stdout);
    expect(view.trust.status).toBe("trusted");
    expect(view.providers.deepseek).toMatchObject({ preset: "deepseek", baseUrl: "https://api.deepseek.com/anthropic", unavailable: { env: "DEEPSEEK_API_KEY" }, countTokens: false });
    expect(view.providers.ollama).toMatchObject({ preset: "ollama", baseUrl: "http://127.0.0.1:11434", unavailable: null });

    // With the key set, deepseek is in service and its key is redacted.
    const keyed = await runCli(["config", "--json"], { env: { ...env, DEEPSEEK_API_KEY: INJECTED_KEY }, cwd: dir });
    expect(keyed.code).toBe(0);
    expect(keyed.stderr).toBe("");
    expect(JSON.parse(keyed.stdout).providers.deepseek.apiKey.from).toBe("env DEEPSEEK_API_KEY");
    expect(findLeaks(keyed.stdout + keyed.stderr)).toEqual([]);
  });

  it.each([
    ["an unknown name", "deepseek,deepsek", /^llm-relay: --with: unknown preset "deepsek"; the presets are anthropic, openai, deepseek, .*, vercel \(llm-relay providers lists them\)\n$/],
    ["an empty list", ",", /^llm-relay: --with expects preset names, e.g. --with deepseek,ollama/],
  ])("%s: exit 1, a clear error listing the presets, no file written", async (_title, value, message) => {
    const dir = folder();
    const result = await runCli(["init", "--with", value], { env, cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe("");
    expect(existsSync(path.join(dir, "llm-relay.config.mjs"))).toBe(false);
  });
});

describe("start with an unavailable provider", () => {
  it("warns naming the variable, marks it in the banner, and serves", async () => {
    const dir = folder();
    const file = path.join(dir, "relay.json");
    writeFileSync(file, JSON.stringify({ providers: { ds: { preset: "deepseek" }, local: { preset: "ollama" } } }));
    const cli = startCli(["start", "--port", "0", "--config", file], { env, cwd: dir });
    try {
      const [, url] = await cli.waitFor(/listening\s+(http:\/\/127\.0\.0\.1:\d+)/);
      const stderr = cli.stderr();
      expect(stderr).toContain(
        "llm-relay: warning: provider ds is unavailable: set DEEPSEEK_API_KEY (its apiKey names that environment variable, which is not set); requests routed to ds get a 503, every other provider works",
      );
      expect(stderr).toMatch(/^\s+ds\s+https:\/\/api\.deepseek\.com\/anthropic\s+anthropic, oauth strip, clientKeys strip, unavailable: set DEEPSEEK_API_KEY$/m);
      expect(stderr).toMatch(/^\s+local\s+http:\/\/127\.0\.0\.1:11434\s+anthropic, oauth strip, clientKeys strip$/m);
      const res = await fetch(`${url}/ds/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/set DEEPSEEK_API_KEY/);
    } finally {
      cli.child.kill("SIGTERM");
      await cli.exited;
    }
  });
});

describe("explain shows what the provider's fit does", () => {
  it("query.remove and betas.allow as decisions, and the relay's own answers", async () => {
    const dir = folder();
    const file = path.join(dir, "relay.json");
    writeFileSync(file, JSON.stringify({ providers: { z: { preset: "zai" } } }));
    const keyed = { ...env, ZAI_API_KEY: INJECTED_KEY };
    const sent = await runCli(["explain", "-c", file, "--path", "/z/v1/messages?beta=true", "-H", "anthropic-beta: claude-code-20250219", "--json"], { env: keyed, cwd: dir });
    expect(sent.code).toBe(0);
    const plan = JSON.parse(sent.stdout);
    expect(plan.upstream).toBe("https://api.z.ai/api/anthropic/v1/messages");
    expect(plan.query).toEqual([{ header: "?beta", action: "strip", value: "true", reason: "query.remove of z" }]);
    expect(plan.decisions).toContainEqual({ header: "anthropic-beta", action: "strip", value: "claude-code-20250219", reason: "betas.allow of z (allows none): removed claude-code-20250219" });
    expect(plan.relayAnswer).toBeUndefined();
    expect(findLeaks(sent.stdout)).toEqual([]);

    const counted = await runCli(["explain", "-c", file, "--path", "/z/v1/messages/count_tokens"], { env: keyed, cwd: dir });
    expect(counted.stdout).toMatch(/^answer\s+404 from the relay, not forwarded: provider z has no count_tokens endpoint \(countTokens: false\)/m);
    expect(counted.stdout).not.toMatch(/^upstream/m);

    const unset = await runCli(["explain", "-c", file, "--path", "/z/v1/messages"], { env, cwd: dir });
    expect(unset.stdout).toMatch(/^answer\s+503 from the relay, not forwarded: provider z is unavailable: set ZAI_API_KEY/m);
    expect(unset.stderr).toContain("llm-relay: warning: provider z is unavailable: set ZAI_API_KEY");
  });
});
