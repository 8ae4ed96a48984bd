/**
 * `llm-relay doctor` (DESIGN §9): the environment rules as a table (pure), then the built binary
 * as a user runs it — offline (this machine has no internet, so the official origins cannot be
 * resolved: they must come back as warnings, quickly), with a failing env check (exit 1), with
 * an occupied port, a broken or untrusted config, and never printing a secret.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { checkEnvironment, noProxyCovers, type Check } from "../../src/cli/doctor.js";
import { cleanEnv, runCli } from "../helpers/cli.js";
import { startMockUpstream } from "../helpers/mock-upstream.js";
import { startTestRelay } from "../helpers/relay.js";
import { ANTHROPIC_API_KEY, findLeaks, GATEWAY_TOKEN, OAUTH_TOKEN, OAUTH_TOKEN_2, RELAY_TOKEN } from "../fixtures/tokens.js";

const home = mkdtempSync(path.join(tmpdir(), "llm-relay-doctor-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

let n = 0;
function folder(files: Record<string, string> = {}): string {
  const dir = path.join(home, `case-${++n}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

/** A TCP listener on 127.0.0.1:0 that accepts and never answers (for an occupied port and a stalled TLS handshake). */
async function silentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function freePort(): Promise<number> {
  const s = await silentServer();
  await s.close();
  return s.port;
}

/** `status  name  detail` lines of the output, by check name. */
function parse(stdout: string): Map<string, { status: string; line: string }> {
  const checks = new Map<string, { status: string; line: string }>();
  for (const line of stdout.split("\n")) {
    const m = /^(ok|warn|fail)\s{2,}(\S.*?)\s{2,}/.exec(line);
    if (m) checks.set(m[2]!, { status: m[1]!, line });
  }
  return checks;
}

const byName = (checks: Check[], name: string) => checks.find((c) => c.name === name);

describe("checkEnvironment (pure)", () => {
  it.each([
    ["nothing set", "credentials", "ok", {}],
    ["ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY", "warn", { ANTHROPIC_API_KEY: ANTHROPIC_API_KEY }],
    ["ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_AUTH_TOKEN", "warn", { ANTHROPIC_AUTH_TOKEN: OAUTH_TOKEN }],
    ["CLAUDE_CODE_OAUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "warn", { CLAUDE_CODE_OAUTH_TOKEN: OAUTH_TOKEN_2 }],
    ["an empty ANTHROPIC_API_KEY counts as unset", "credentials", "ok", { ANTHROPIC_API_KEY: "" }],
    ["ANTHROPIC_BASE_URL elsewhere", "ANTHROPIC_BASE_URL", "warn", { ANTHROPIC_BASE_URL: "https://gateway.example.com" }],
    ["ANTHROPIC_BASE_URL at the relay", "ANTHROPIC_BASE_URL", "ok", { ANTHROPIC_BASE_URL: "http://127.0.0.1:8742" }],
    ["ANTHROPIC_BASE_URL at the relay with a session token", "ANTHROPIC_BASE_URL", "ok", { ANTHROPIC_BASE_URL: `http://localhost:8742/_t/${RELAY_TOKEN}` }],
    ["ANTHROPIC_BASE_URL at another loopback port", "ANTHROPIC_BASE_URL", "warn", { ANTHROPIC_BASE_URL: "http://127.0.0.1:9000" }],
    ["ANTHROPIC_BASE_URL not a URL", "ANTHROPIC_BASE_URL", "warn", { ANTHROPIC_BASE_URL: "gateway" }],
    ["OPENAI_BASE_URL elsewhere", "OPENAI_BASE_URL", "warn", { OPENAI_BASE_URL: "https://api.example.com/v1" }],
    ["no proxy", "proxy", "ok", {}],
    ["HTTPS_PROXY without NO_PROXY", "proxy", "fail", { HTTPS_PROXY: "http://proxy.corp:3128" }],
    ["http_proxy without NO_PROXY", "proxy", "fail", { http_proxy: "http://proxy.corp:3128" }],
    ["ALL_PROXY without NO_PROXY", "proxy", "fail", { ALL_PROXY: "socks5://proxy.corp:1080" }],
    ["HTTPS_PROXY, NO_PROXY=localhost only", "proxy", "fail", { HTTPS_PROXY: "http://p:1", NO_PROXY: "localhost" }],
    ["HTTPS_PROXY, NO_PROXY has 127.0.0.1", "proxy", "ok", { HTTPS_PROXY: "http://p:1", NO_PROXY: "localhost, 127.0.0.1" }],
    ["HTTPS_PROXY, no_proxy has 127.0.0.1", "proxy", "ok", { HTTPS_PROXY: "http://p:1", no_proxy: ".corp,127.0.0.1" }],
    ["HTTPS_PROXY, NO_PROXY=*", "proxy", "ok", { HTTPS_PROXY: "http://p:1", NO_PROXY: "*" }],
    ["HTTPS_PROXY, NO_PROXY has 127.0.0.0/8 only", "proxy", "warn", { HTTPS_PROXY: "http://p:1", NO_PROXY: "127.0.0.0/8" }],
  ])("%s: %s is %s", (_what, name, status, env) => {
    const checks = checkEnvironment(env as NodeJS.ProcessEnv, 8742);
    expect(byName(checks, name)?.status).toBe(status);
    const text = JSON.stringify(checks);
    expect(findLeaks(text)).toEqual([]);
    for (const c of checks) if (c.status !== "ok") expect(c.fix).toBeTruthy();
  });

  it.each([
    ["127.0.0.1", true],
    ["127.0.0.1:8742", true],
    ["127.0.0.1:9999", false],
    ["localhost,::1", false],
    ["*", true],
    ["", false],
    ["127.0.0.0/8", "cidr"],
  ] as const)("NO_PROXY=%j covers http://127.0.0.1:8742 → %s", (noProxy, expected) => {
    expect(noProxyCovers(noProxy, 8742)).toBe(expected);
  });

  it("shows a proxy URL's credentials and a base URL's token redacted", () => {
    const checks = checkEnvironment(
      { HTTPS_PROXY: `http://me:${GATEWAY_TOKEN}@proxy.corp:3128`, ANTHROPIC_BASE_URL: `https://gw.example.com/_t/${RELAY_TOKEN}/` },
      8742,
    );
    expect(byName(checks, "proxy")!.detail).toMatch(/HTTPS_PROXY=http:\/\/…\[len=\d+ #[0-9a-f]{6}\]@proxy\.corp:3128/);
    expect(byName(checks, "ANTHROPIC_BASE_URL")!.detail).toMatch(/gw\.example\.com\/_t\/…\[len=43 /);
    expect(findLeaks(JSON.stringify(checks))).toEqual([]);
  });
});

describe("doctor (built binary)", () => {
  it("offline, defaults: unreachable official origins are warnings, exit 0, and it ends on its own", async () => {
    const cwd = folder();
    const port = await freePort();
    const result = await runCli(["doctor"], { env: cleanEnv(home, { LLM_RELAY_PORT: String(port) }), cwd, timeoutMs: 20_000 });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const checks = parse(result.stdout);
    expect(checks.get("config")).toMatchObject({ status: "ok" });
    expect(checks.get("config")!.line).toMatch(/no config file/);
    expect(checks.get("config valid")?.status).toBe("ok");
    expect(checks.get("port")!.line).toMatch(new RegExp(`ok\\s+port\\s+127\\.0\\.0\\.1:${port} \\(LLM_RELAY_PORT\\) is free`));
    expect(checks.get("reach anthropic")!.line).toMatch(/^warn .*https:\/\/api\.anthropic\.com/);
    expect(checks.get("reach openai")!.line).toMatch(/^warn .*https:\/\/api\.openai\.com/);
    expect(result.stdout).toMatch(/\n0 failed, 2 warnings, \d+ ok\n$/);
  });

  it("a stalled TLS handshake is a warning after the timeout, not a hang; a listening http origin is ok", async () => {
    const stalled = await silentServer();
    const upstream = await startMockUpstream();
    try {
      const config = {
        providers: {
          anthropic: { kind: "anthropic", baseUrl: `https://127.0.0.1:${stalled.port}` },
          openai: { kind: "openai", baseUrl: upstream.url },
        },
      };
      const cwd = folder({ ".llm-relayrc.json": JSON.stringify(config) });
      const result = await runCli(["doctor"], { env: cleanEnv(home, { LLM_RELAY_PORT: "0" }), cwd, timeoutMs: 20_000 });
      expect(result.code).toBe(0);
      const checks = parse(result.stdout);
      expect(checks.get("reach anthropic")!.line).toMatch(/^warn .*no TLS handshake within 3 s/);
      expect(checks.get("reach openai")!.line).toMatch(/^ok .*127\.0\.0\.1, TCP ok/);
      // Nothing was sent: the mock upstream saw no request.
      expect(upstream.started).toBe(0);
    } finally {
      await stalled.close();
      await upstream.close();
    }
  });

  it("HTTPS_PROXY without loopback in NO_PROXY: fail with a fix, exit 1; secrets in the environment stay redacted", async () => {
    const cwd = folder({ ".llm-relayrc.json": JSON.stringify(loopbackProviders()) });
    const env = cleanEnv(home, {
      LLM_RELAY_PORT: "0",
      HTTPS_PROXY: `http://me:${GATEWAY_TOKEN}@proxy.corp:3128`,
      NO_PROXY: "localhost",
      ANTHROPIC_API_KEY,
      ANTHROPIC_AUTH_TOKEN: OAUTH_TOKEN,
      CLAUDE_CODE_OAUTH_TOKEN: OAUTH_TOKEN_2,
      ANTHROPIC_BASE_URL: `https://gateway.example.com/_t/${RELAY_TOKEN}`,
    });
    const result = await runCli(["doctor"], { env, cwd });
    expect(result.code).toBe(1);
    expect(findLeaks(result.stdout + result.stderr)).toEqual([]);
    const checks = parse(result.stdout);
    expect(checks.get("proxy")?.status).toBe("fail");
    expect(result.stdout).toMatch(/fix: add loopback to NO_PROXY: export NO_PROXY=127\.0\.0\.1,localhost /);
    for (const name of ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN", "ANTHROPIC_BASE_URL"]) {
      expect(checks.get(name)?.status).toBe("warn");
    }
    expect(checks.get("ANTHROPIC_BASE_URL")!.line).toMatch(/gateway\.example\.com\/_t\/…\[len=43/);
    expect(result.stdout).toMatch(/\n1 failed, \d+ warnings, \d+ ok\n$/);

    // The same with NO_PROXY fixed: no failure, exit 0.
    const fixed = await runCli(["doctor"], { env: { ...env, NO_PROXY: "localhost,127.0.0.1" }, cwd });
    expect(parse(fixed.stdout).get("proxy")?.status).toBe("ok");
    expect(fixed.code).toBe(0);
  });

  it("a port taken by another program fails; one taken by an llm-relay only warns", async () => {
    const cwd = folder({ ".llm-relayrc.json": JSON.stringify(loopbackProviders()) });
    const other = await silentServer();
    const relay = await startTestRelay({});
    try {
      const taken = await runCli(["doctor"], { env: cleanEnv(home, { LLM_RELAY_PORT: String(other.port) }), cwd });
      expect(taken.code).toBe(1);
      expect(parse(taken.stdout).get("port")!.line).toMatch(new RegExp(`^fail\\s+port\\s+127\\.0\\.0\\.1:${other.port} \\(LLM_RELAY_PORT\\) is in use by another program`));
      expect(taken.stdout).toMatch(/fix: stop that program, or pick another port/);

      const ours = await runCli(["doctor"], { env: cleanEnv(home, { LLM_RELAY_PORT: String(relay.port) }), cwd });
      expect(ours.code).toBe(0);
      expect(parse(ours.stdout).get("port")!.line).toMatch(/^warn\s+port\s+.*another llm-relay \(version \d+\.\d+\.\d+\) is already listening there/);
    } finally {
      await other.close();
      await relay.close();
    }
  });

  it("an invalid config fails with the validation message, exit 1", async () => {
    const cwd = folder({ ".llm-relayrc.json": JSON.stringify({ routes: [{ path: "/x", provider: "nope" }] }) });
    const result = await runCli(["doctor"], { env: cleanEnv(home, { LLM_RELAY_PORT: "0" }), cwd });
    expect(result.code).toBe(1);
    const checks = parse(result.stdout);
    expect(checks.get("config")?.status).toBe("ok");
    expect(checks.get("config valid")!.line).toMatch(/^fail .*invalid config in .*\.llm-relayrc\.json:/);
    expect(result.stdout).toMatch(/routes\.0\.provider: unknown provider "nope"/);
    expect(result.stdout).not.toMatch(/\n\s+at /);
  });

  it("a provider whose key variable is unset is a warning naming the variable, not a failure", async () => {
    const config = { ...loopbackProviders(), providers: { ...loopbackProviders().providers, ds: { preset: "deepseek", baseUrl: "http://127.0.0.1:9/anthropic" } } };
    const cwd = folder({ ".llm-relayrc.json": JSON.stringify(config) });
    const result = await runCli(["doctor"], { env: cleanEnv(home, { LLM_RELAY_PORT: "0" }), cwd });
    const checks = parse(result.stdout);
    expect(checks.get("config valid")?.status).toBe("ok");
    expect(checks.get("provider ds")!.line).toMatch(/^warn\s+provider ds\s+unavailable: DEEPSEEK_API_KEY is not set, so requests routed to ds get a 503; the other providers work$/);
    expect(result.stdout).toContain("fix: export DEEPSEEK_API_KEY=… in the shell that runs llm-relay (the config reads it from the environment)");
    expect([...checks.values()].filter((c) => c.status === "fail")).toEqual([]);
    expect(result.code).toBe(0);
  });

  it("a project config sending credentials to another origin, not yet trusted, fails with the trust command as fix", async () => {
    const config = { providers: { gw: { kind: "generic", baseUrl: "https://gateway.invalid", apiKey: { env: "GW_KEY" } } } };
    const cwd = folder({ ".llm-relayrc.json": JSON.stringify(config) });
    const result = await runCli(["doctor"], { env: cleanEnv(home, { LLM_RELAY_PORT: "0", GW_KEY: GATEWAY_TOKEN }), cwd });
    expect(result.code).toBe(1);
    expect(findLeaks(result.stdout + result.stderr)).toEqual([]);
    expect(parse(result.stdout).get("config trust")!.line).toMatch(/^fail .*https:\/\/gateway\.invalid/);
    expect(result.stdout).toMatch(/fix: read it, then: llm-relay trust .*\.llm-relayrc\.json/);
    expect(parse(result.stdout).get("reach gw")?.status).toBe("warn");
  });
});

/** Both built-in providers pointed at loopback, so no check needs DNS. */
function loopbackProviders() {
  return {
    providers: {
      anthropic: { kind: "anthropic", baseUrl: "http://127.0.0.1:9" },
      openai: { kind: "openai", baseUrl: "http://127.0.0.1:9" },
    },
  };
}
