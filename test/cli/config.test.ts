/**
 * `llm-relay config` (DESIGN §2) with the built binary: the resolved config, pretty and as JSON,
 * with every secret redacted; an invalid config exits 1 naming the key, without a stack trace.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanEnv, runCli } from "../helpers/cli.js";
import { findLeaks, GATEWAY_TOKEN, INJECTED_KEY, OPENROUTER_KEY, RELAY_TOKEN } from "../fixtures/tokens.js";

const home = mkdtempSync(path.join(tmpdir(), "llm-relay-config-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const CONFIG = {
  port: 9100,
  token: { env: "MY_RELAY_TOKEN" },
  providers: {
    openrouter: {
      kind: "anthropic",
      baseUrl: "https://openrouter.ai/api/",
      auth: "bearer",
      apiKey: { env: "OPENROUTER_API_KEY" },
      headers: { set: { "x-title": "my app", "x-gateway-auth": GATEWAY_TOKEN }, remove: ["x-stainless-os"] },
      betas: { remove: ["context-1m-2025-08-07"] },
    },
    gateway: { kind: "generic", baseUrl: "http://127.0.0.1:4000/v1", apiKey: INJECTED_KEY },
  },
  routes: [
    { model: "claude-3-5-haiku*", provider: "openrouter" },
    { path: "/v1/chat/completions", provider: "gateway" },
    { header: { "x-llm-relay-provider": "gateway" }, provider: "gateway" },
  ],
  defaultProvider: "anthropic",
  timeouts: { idleMs: 120000 },
};

const configFile = path.join(home, "relay.json");
writeFileSync(configFile, JSON.stringify(CONFIG), { mode: 0o600 });
const env = cleanEnv(home, { OPENROUTER_API_KEY: OPENROUTER_KEY, MY_RELAY_TOKEN: RELAY_TOKEN });

describe("config --json", () => {
  it("prints the resolved config: source, providers with redacted keys, routes in order, defaults filled in", async () => {
    const result = await runCli(["config", "-c", configFile, "--json"], { env, cwd: home });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(findLeaks(result.stdout)).toEqual([]);
    const view = JSON.parse(result.stdout);

    expect(view.source).toMatchObject({ file: configFile, via: "flag" });
    expect(view.trust.status).toBe("not-needed");
    expect(view).toMatchObject({ host: "127.0.0.1", port: 9100, defaultProvider: "anthropic" });
    expect(view.token.from).toBe("env MY_RELAY_TOKEN");
    expect(view.token.value).toMatch(/^…\[len=43 #[0-9a-f]{6}\]$/);

    // Built-in providers first, then the config's, in the config's order.
    expect(Object.keys(view.providers)).toEqual(["anthropic", "openai", "openrouter", "gateway"]);
    expect(view.providers.anthropic).toMatchObject({ kind: "anthropic", baseUrl: "https://api.anthropic.com", builtin: true, oauth: "forward", apiKey: null });
    expect(view.providers.openrouter).toMatchObject({
      kind: "anthropic",
      baseUrl: "https://openrouter.ai/api",
      builtin: false,
      oauth: "strip",
      auth: "bearer",
      apiKey: { from: "env OPENROUTER_API_KEY" },
      headers: { set: { "x-title": "my app" }, remove: ["x-stainless-os"] },
      betas: { remove: ["context-1m-2025-08-07"] },
    });
    expect(view.providers.openrouter.apiKey.value).toMatch(/^sk-or-v1-…\[len=\d+ #[0-9a-f]{6}\]$/);
    expect(view.providers.openrouter.headers.set["x-gateway-auth"]).toMatch(/^…\[len=\d+ #[0-9a-f]{6}\]$/);
    expect(view.providers.gateway).toMatchObject({ kind: "generic", auth: "bearer", apiKey: { from: "literal at providers.gateway.apiKey" } });

    expect(view.routes).toEqual([
      { provider: "openrouter", model: "claude-3-5-haiku*" },
      { provider: "gateway", path: "/v1/chat/completions" },
      { provider: "gateway", header: { "x-llm-relay-provider": "gateway" } },
    ]);
    // The one timeout set in the file, and DESIGN §3's defaults for the rest.
    expect(view.timeouts).toMatchObject({ connectMs: 10_000, headersMs: 600_000, idleMs: 120_000 });
    expect(Object.keys(view.timeouts)).toEqual(expect.arrayContaining(["clientHeadersMs", "clientBodyMs", "shutdownMs"]));
    expect(view.limits).toEqual({ maxBodyBytes: 33_554_432 });
  });

  it("shows LLM_RELAY_PORT and LLM_RELAY_TOKEN where start would use them, redacted", async () => {
    const result = await runCli(["config", "-c", configFile, "--json"], { env: { ...env, LLM_RELAY_PORT: "9222", LLM_RELAY_TOKEN: RELAY_TOKEN }, cwd: home });
    expect(result.code).toBe(0);
    expect(findLeaks(result.stdout + result.stderr)).toEqual([]);
    const view = JSON.parse(result.stdout);
    expect(view).toMatchObject({ port: 9222, portFrom: "LLM_RELAY_PORT", token: { from: "env LLM_RELAY_TOKEN" } });
  });
});

describe("config (pretty)", () => {
  it("prints the same facts as aligned text, secrets redacted", async () => {
    const result = await runCli(["config", "-c", configFile], { env, cwd: home });
    expect(result.code).toBe(0);
    expect(findLeaks(result.stdout + result.stderr)).toEqual([]);
    const out = result.stdout;
    expect(out).toMatch(/^config\s+.*relay\.json \(--config\)$/m);
    expect(out).toMatch(/^listen\s+127\.0\.0\.1:9100$/m);
    expect(out).toMatch(/^token\s+…\[len=43 #[0-9a-f]{6}\] \(env MY_RELAY_TOKEN\)$/m);
    expect(out).toMatch(/openrouter\s+https:\/\/openrouter\.ai\/api\s+anthropic, oauth strip, clientKeys forward, apiKey sk-or-v1-…\[len=\d+ #[0-9a-f]{6}\] \(env OPENROUTER_API_KEY\) → bearer/);
    expect(out).toMatch(/headers\.set x-title: my app; x-gateway-auth: …\[len=/);
    // Routes in order, numbered as they are tried.
    const routes = out.slice(out.indexOf("routes"));
    expect(routes.indexOf("1. model claude-3-5-haiku* → openrouter")).toBeGreaterThan(0);
    expect(routes.indexOf("2. path /v1/chat/completions → gateway")).toBeGreaterThan(routes.indexOf("1. model"));
    expect(routes.indexOf("3. header x-llm-relay-provider: gateway → gateway")).toBeGreaterThan(routes.indexOf("2. path"));
    expect(out).toMatch(/otherwise → anthropic/);
    expect(out).toMatch(/idleMs\s+120000 ms/);
    expect(out).toMatch(/connectMs\s+10000 ms/);
    expect(out).toMatch(/maxBodyBytes\s+33554432 \(32 MiB\)/);
  });

  it("with no config file, describes the embedded default", async () => {
    const empty = path.join(home, "empty");
    mkdirSync(empty, { recursive: true });
    const result = await runCli(["config"], { env: cleanEnv(home), cwd: empty });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^config\s+embedded default \(no config file found\)$/m);
    expect(result.stdout).toMatch(/^listen\s+127\.0\.0\.1:8742$/m);
    expect(result.stdout).toMatch(/anthropic\s+https:\/\/api\.anthropic\.com/);
  });
});

describe("config with an invalid file", () => {
  it.each([
    ["a wrong type", { port: "80" }, /relay-bad\.json:\n\s+port: .*expected number/],
    ["an unknown provider in a route", { routes: [{ path: "/x", provider: "nope" }] }, /routes\.0\.provider: unknown provider "nope"/],
    ["an unknown key", { providers: { a: { kind: "openai", baseUrl: "https://x.example", apikey: "k" } } }, /providers\.a/],
  ])("%s: exit 1, one message naming the key, no stack", async (_name, config, message) => {
    const file = path.join(home, "relay-bad.json");
    writeFileSync(file, JSON.stringify(config));
    const result = await runCli(["config", "-c", file], { env, cwd: home });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^llm-relay: invalid config in /);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/\n\s+at |node:internal|\.ts:\d+/);
  });

  it("an unset key variable makes that provider unavailable, not the config invalid: a warning naming it, exit 0", async () => {
    const result = await runCli(["config", "-c", configFile, "--json"], { env: cleanEnv(home, { MY_RELAY_TOKEN: RELAY_TOKEN }), cwd: home });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^llm-relay: warning: provider openrouter is unavailable: set OPENROUTER_API_KEY \(/);
    const view = JSON.parse(result.stdout);
    expect(view.providers.openrouter.unavailable).toEqual({ env: "OPENROUTER_API_KEY" });
    expect(view.providers.openrouter.apiKey).toBeNull();
    expect(view.providers.anthropic.unavailable).toBeNull();
    expect(view.warnings).toHaveLength(1);
    expect(findLeaks(result.stdout + result.stderr)).toEqual([]);
  });

  it("a missing file: exit 1, says which", async () => {
    const result = await runCli(["config", "-c", path.join(home, "nope.json")], { env, cwd: home });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^llm-relay: config file not found: .*nope\.json\n$/);
  });
});
