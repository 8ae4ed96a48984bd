/**
 * `config` and `doctor` say what is true and what to do (issue 11, item 8): an approved code
 * config is approved for its exact content (an edit is refused again), an untrusted one is fixed
 * with `llm-relay trust`, an unset variable with `export`, and `doctor -c FILE` checks that file.
 * The built binary, offline (the official origins' reach checks are warnings).
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanEnv, runCli } from "../helpers/cli.js";
import { findLeaks, GATEWAY_TOKEN } from "../fixtures/tokens.js";

const home = mkdtempSync(path.join(tmpdir(), "llm-relay-trustword-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

let n = 0;
function folder(): string {
  const dir = path.join(home, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const env = (extra: NodeJS.ProcessEnv = {}) => cleanEnv(home, { LLM_RELAY_PORT: "0", ...extra });

/** The fix line printed under the check named `name` (after its detail's continuation lines). */
function fixFor(stdout: string, name: string): string | undefined {
  const lines = stdout.split("\n");
  const at = lines.findIndex((line) => new RegExp(`^(?:ok|warn|fail)\\s+${name}\\s`).test(line));
  if (at === -1) return undefined;
  for (const line of lines.slice(at + 1)) {
    if (/^(?:ok|warn|fail)\s/.test(line)) return undefined;
    const fix = /^\s+fix: (.*)$/.exec(line);
    if (fix) return fix[1];
  }
  return undefined;
}

describe("an approved code config", () => {
  it("config and doctor say it is approved for this exact content; after an edit start refuses it", async () => {
    const cwd = folder();
    expect((await runCli(["init"], { env: env(), cwd })).code).toBe(0);

    const shown = await runCli(["config"], { env: env(), cwd });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^trust\s+approved \(llm-relay trust\) for this exact content; after any edit, start and exec refuse it until you run llm-relay trust again$/m);
    expect(shown.stdout).not.toContain("not needed");
    const doctor = await runCli(["doctor"], { env: env(), cwd, timeoutMs: 30_000 });
    expect(doctor.stdout).toMatch(/^ok\s+config trust\s+approved for this exact content \(it is code\); an edit needs llm-relay trust again$/m);

    appendFileSync(path.join(cwd, "llm-relay.config.mjs"), "\n// edited\n");
    const refused = await runCli(["start", "--port", "0"], { env: env(), cwd });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("llm-relay trust");
  });
});

describe("doctor's fix lines match its messages", () => {
  it("an untrusted project config that is code: the fix is llm-relay trust FILE", async () => {
    const cwd = folder();
    const file = path.join(cwd, "llm-relay.config.mjs");
    writeFileSync(file, "export default { port: 0 };\n");
    const result = await runCli(["doctor"], { env: env(), cwd, timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^fail\s+config\s+refusing to load .*llm-relay\.config\.mjs/m);
    expect(fixFor(result.stdout, "config")).toBe(`read it, then approve it: llm-relay trust ${file}`);
    expect(result.stdout).not.toContain("fix or remove the file");
  });

  it("an unset key variable: the provider is unavailable, and the fix is to export it", async () => {
    const cwd = folder();
    const file = path.join(cwd, "relay.json");
    writeFileSync(file, JSON.stringify({ providers: { gw: { kind: "anthropic", baseUrl: "http://127.0.0.1:9", apiKey: { env: "GW_KEY" } } } }));
    const result = await runCli(["doctor", "-c", file], { env: env(), cwd, timeoutMs: 30_000 });
    expect(result.stdout).toMatch(/^warn\s+provider gw\s+unavailable: GW_KEY is not set, so requests routed to gw get a 503; the other providers work$/m);
    expect(fixFor(result.stdout, "provider gw")).toBe("export GW_KEY=… in the shell that runs llm-relay (the config reads it from the environment)");
    expect(result.stdout).not.toContain("correct the keys");
  });

  it("an unset token variable: the config is invalid, and the fix is to export it", async () => {
    const cwd = folder();
    const file = path.join(cwd, "relay.json");
    writeFileSync(file, JSON.stringify({ token: { env: "RELAY_TOKEN_VAR" } }));
    const result = await runCli(["doctor", "-c", file], { env: env(), cwd, timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^fail\s+config valid\s+invalid config in .*relay\.json:/m);
    expect(fixFor(result.stdout, "config valid")).toBe("export RELAY_TOKEN_VAR=… in the shell that runs llm-relay (the config reads it from the environment)");
  });

  it("doctor -c FILE checks that file (and with the variable set, passes it)", async () => {
    const cwd = folder();
    const file = path.join(cwd, "relay.json");
    writeFileSync(file, JSON.stringify({ providers: { gw: { kind: "anthropic", baseUrl: "http://127.0.0.1:9", apiKey: { env: "GW_KEY" } } } }));
    const result = await runCli(["doctor", "-c", file], { env: env({ GW_KEY: GATEWAY_TOKEN }), cwd, timeoutMs: 30_000 });
    expect(result.stdout).toMatch(new RegExp(`^ok\\s+config\\s+found: ${file.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")} \\(--config\\)$`, "m"));
    expect(result.stdout).toMatch(/^ok\s+config valid\s+3 provider\(s\)/m);
    expect(findLeaks(result.stdout + result.stderr)).toEqual([]);
  });
});

describe("approval names what it lets out", () => {
  it.each<[string, Record<string, unknown>, string]>([
    ["a gateway with no apiKey", { kind: "anthropic", baseUrl: "https://gw.example" }, "unrecognised client tokens"],
    ["a gateway with its own apiKey", { kind: "anthropic", baseUrl: "https://gw.example", apiKey: { env: "GW_KEY" } }, "apiKey"],
    ["clientKeys: forward on a gateway", { kind: "anthropic", baseUrl: "https://gw.example", clientKeys: "forward" }, 'unrecognised client tokens, your vendor API keys via clientKeys: "forward"'],
    ["clientKeys: forward on loopback", { kind: "anthropic", baseUrl: "http://127.0.0.1:11434", clientKeys: "forward" }, 'your vendor API keys via clientKeys: "forward"'],
    ["oauth: forward on loopback", { kind: "anthropic", baseUrl: "http://127.0.0.1:11434", oauth: "forward" }, 'your Claude OAuth token via oauth: "forward", your vendor API keys via clientKeys: "forward"'],
  ])("%s: start's refusal and trust's confirmation say %s", async (_name, provider, carries) => {
    const cwd = folder();
    const file = path.join(cwd, ".llm-relayrc.json");
    writeFileSync(file, JSON.stringify({ providers: { gw: provider } }));
    const origin = new URL(provider.baseUrl as string).origin;
    const refused = await runCli(["start"], { env: env({ GW_KEY: GATEWAY_TOKEN }), cwd });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`\n    ${origin}  (${carries}; provider gw)\n`);
    const approved = await runCli(["trust"], { env: env({ GW_KEY: GATEWAY_TOKEN }), cwd });
    expect(approved.code).toBe(0);
    expect(approved.stdout + approved.stderr).toContain(`  credentials may go to ${origin} (${carries})\n`);
    expect(findLeaks(refused.stderr + approved.stdout + approved.stderr)).toEqual([]);
  });
});
