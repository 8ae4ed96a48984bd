/**
 * What `start` tells a user to do must work (issue 11, items 3, 4, 7, 17): the base URL printed
 * for a wildcard listener is one the Host guard accepts, the 401 shows its `/_t/<token>`
 * placeholder as written, `--token` refuses what can never work in a path segment, and a
 * request missing its `/v1` is told the path it meant. The built binary, as a user runs it.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { mockedDefaults } from "../helpers/relay.js";
import { send } from "../helpers/client.js";
import { cleanEnv, runCli, startCli, type RunningCli } from "../helpers/cli.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { findLeaks, RELAY_TOKEN } from "../fixtures/tokens.js";
import { clientUrls } from "../../src/cli/banner.js";

let home: string;
let upstream: MockUpstream;
let configFile: string;
const running = new Set<RunningCli>();

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), "llm-relay-hints-"));
  upstream = await startMockUpstream();
  configFile = path.join(home, "relay.json");
  writeFileSync(configFile, JSON.stringify(mockedDefaults(upstream.url)));
});
afterEach(async () => {
  for (const cli of running) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill("SIGKILL");
    await cli.exited;
  }
  running.clear();
});
afterAll(async () => {
  await upstream?.close();
  rmSync(home, { recursive: true, force: true });
});

function start(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const cli = startCli(["start", "-c", configFile, "--port", "0", ...args], { env: cleanEnv(home, env), cwd: home });
  running.add(cli);
  return cli;
}

const MESSAGE = JSON.stringify({ model: "claude-test", max_tokens: 8, messages: [{ role: "user", content: "hi" }] });
const JSON_HEADERS = { "content-type": "application/json", "anthropic-version": "2023-06-01" };

/** This machine's addresses as the banner lists them (what start derives from the same call). */
function machineAddresses(): string[] {
  const all = Object.values(networkInterfaces()).flatMap((e) => e ?? []);
  const usable = all.filter((e) => !e.internal && !e.address.includes("%") && !e.address.toLowerCase().startsWith("fe80:"));
  return [...usable.filter((e) => e.family === "IPv4"), ...usable.filter((e) => e.family !== "IPv4")].map((e) => e.address);
}

describe("start --host 0.0.0.0 prints base URLs clients can use", () => {
  it("clientUrls: a wildcard listener becomes 127.0.0.1 locally and the machine's addresses for others", () => {
    expect(clientUrls("http://0.0.0.0:8742", ["192.168.1.5", "fd00::1"])).toEqual({
      local: "http://127.0.0.1:8742",
      others: ["http://192.168.1.5:8742", "http://[fd00::1]:8742"],
    });
    expect(clientUrls("http://[::]:8742", [])).toEqual({ local: "http://127.0.0.1:8742", others: [] });
    expect(clientUrls("http://127.0.0.1:8742", ["192.168.1.5"])).toEqual({ local: "http://127.0.0.1:8742", others: [] });
  });

  it("the printed ANTHROPIC_BASE_URL, with the token, is served (not refused by the Host guard)", async () => {
    const cli = start(["--host", "0.0.0.0", "--token", RELAY_TOKEN]);
    const [, base] = await cli.waitFor(/export ANTHROPIC_BASE_URL=(http:\S+\/_t\/<your token>)/);
    const output = cli.stderr();
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_t\/<your token>$/);
    expect(output).toMatch(/listening\s+http:\/\/0\.0\.0\.0:\d+ \(all interfaces\)/);
    expect(output).toContain(`export OPENAI_BASE_URL=${base}/v1`);
    const port = /127\.0\.0\.1:(\d+)/.exec(base!)![1];
    const others = machineAddresses();
    if (others.length > 0) {
      expect(output).toContain("From other machines, use this machine's address instead of 127.0.0.1:");
      for (const address of others) expect(output).toContain(`http://${address.includes(":") ? `[${address}]` : address}:${port}/_t/<your token>`);
    } else {
      expect(output).not.toContain("From other machines");
    }
    expect(findLeaks(output)).toEqual([]);

    const url = base!.replace("<your token>", RELAY_TOKEN);
    const res = await send(`${url}/v1/messages`, { body: MESSAGE, headers: JSON_HEADERS });
    expect(res.status).toBe(200);
  });
});

describe("the 401 names the token's place as written", () => {
  it("path prefix /_t/<token>: the placeholder is not redacted as if it were a secret", async () => {
    const cli = start(["--token", RELAY_TOKEN]);
    const [, url] = await cli.waitFor(/listening\s+(http:\/\/127\.0\.0\.1:\d+)/);
    const res = await send(`${url}/v1/messages`, { body: MESSAGE, headers: JSON_HEADERS });
    expect(res.status).toBe(401);
    const message = (res.json() as { error: { message: string } }).error.message;
    expect(message).toBe("llm-relay: this relay requires its token (path prefix /_t/<token> or header x-llm-relay-token)");
    await cli.waitFor(/POST \/v1\/messages .*401/);
    expect(cli.stdout()).toContain("(path prefix /_t/<token> or header x-llm-relay-token)");
  });

  it("a wrong token in the path is still redacted in the request line", async () => {
    const wrong = `${RELAY_TOKEN.slice(0, 20)}wrongwrongwrong`;
    const cli = start(["--token", RELAY_TOKEN]);
    const [, url] = await cli.waitFor(/listening\s+(http:\/\/127\.0\.0\.1:\d+)/);
    expect((await send(`${url}/_t/${wrong}/v1/messages`, { body: MESSAGE, headers: JSON_HEADERS })).status).toBe(401);
    await cli.waitFor(/401/);
    expect(cli.stdout()).not.toContain(wrong);
    expect(cli.stdout()).toMatch(/POST \/_t\/…\[len=35 #[0-9a-f]{6}\]\/v1\/messages/);
  });
});

describe("--token is checked before anything listens", () => {
  it.each([
    ["a /", `${RELAY_TOKEN.slice(0, 20)}/abc`, "may only contain letters, digits and - . _ ~ (it travels in one URL path segment, /_t/<token>/)"],
    ["a space", `${RELAY_TOKEN.slice(0, 20)} abc`, "may only contain letters, digits and - . _ ~"],
    ["a %", `${RELAY_TOKEN.slice(0, 20)}%2F`, "may only contain letters, digits and - . _ ~"],
    ["15 characters", RELAY_TOKEN.slice(0, 15), "must be at least 16 characters (it has 15)"],
  ])("%s: exit 1, a clear message, the token not shown", async (_name, token, expected) => {
    const result = await runCli(["start", "--port", "0", "--token", token], { env: cleanEnv(home), cwd: home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`llm-relay: the relay token (--token) ${expected}`);
    expect(result.stderr).not.toContain(token);
    expect(result.stdout).toBe("");
  });

  it("the same rule for LLM_RELAY_TOKEN, named as such", async () => {
    const result = await runCli(["start", "--port", "0"], { env: cleanEnv(home, { LLM_RELAY_TOKEN: "short" }), cwd: home });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("llm-relay: the relay token (LLM_RELAY_TOKEN) must be at least 16 characters (it has 5)");
  });

  it("letters, digits and - . _ ~ are accepted (a base64url token)", async () => {
    const cli = start(["--token", "Ab9-._~Ab9-._~Ab9-._~"]);
    await cli.waitFor(/listening\s+http:\/\/127\.0\.0\.1:\d+/);
  });
});

describe("a request missing its /v1 is told what it meant", () => {
  it.each([
    ["/chat/completions", "openai", "OpenAI API paths start with /v1 (did you mean /v1/chat/completions?); set OPENAI_BASE_URL to the relay's URL ending in /v1: http://127.0.0.1:PORT/v1"],
    ["/messages", "anthropic", "Anthropic API paths start with /v1 (did you mean /v1/messages?); set ANTHROPIC_BASE_URL to the relay's URL without /v1: http://127.0.0.1:PORT"],
  ])("POST %s: a 404 in the %s shape with the right base URL", async (target, shape, hint) => {
    const cli = start([]);
    const [, url, port] = await cli.waitFor(/listening\s+(http:\/\/127\.0\.0\.1:(\d+))/);
    const res = await send(`${url}${target}`, { body: MESSAGE, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(404);
    const body = res.json() as { type?: string; error: { message: string; type: string } };
    const expected = `llm-relay: no provider for POST ${target}: ${hint.replace("PORT", port!)}`;
    expect(body.error.message).toBe(expected);
    if (shape === "openai") expect(body.type).toBeUndefined();
    else expect(body.type).toBe("error");
  });
});
