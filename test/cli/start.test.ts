/**
 * `llm-relay start`, the built binary as a user runs it (DESIGN §2, §6): the banner, a request
 * served and logged, config and port errors, LLM_RELAY_PORT, and graceful shutdown on
 * SIGTERM/SIGINT (drain, deadline, second signal). Run `npm run build` first (`npm test` does).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually, freePort, open, readAll, send } from "../helpers/client.js";
import { cleanEnv, ROOT, runCli, startCli, type RunningCli } from "../helpers/cli.js";
import { anthropicMessage, anthropicStream, gatedStream, sseFrame, startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";

let home: string;
let upstream: MockUpstream;
const running = new Set<RunningCli>();

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), "llm-relay-start-"));
  upstream = await startMockUpstream();
});
afterEach(async () => {
  // A failed test must not leave a relay running on the shared machine.
  for (const cli of running) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill("SIGKILL");
    await cli.exited;
  }
  running.clear();
  upstream.handle(anthropicMessage);
});
afterAll(async () => {
  await upstream?.close();
  rmSync(home, { recursive: true, force: true });
});

function writeConfig(name: string, extra: Record<string, unknown> = {}): string {
  const file = path.join(home, name);
  writeFileSync(
    file,
    JSON.stringify({
      providers: {
        anthropic: { kind: "anthropic", baseUrl: upstream.url, oauth: "forward" },
        openai: { kind: "openai", baseUrl: upstream.url },
      },
      ...extra,
    }),
  );
  return file;
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): RunningCli {
  const cli = startCli(["start", ...args], { env: cleanEnv(home, env), cwd: home });
  running.add(cli);
  return cli;
}

/** Waits for the banner and returns the URL it says the relay listens on. */
async function listening(cli: RunningCli): Promise<string> {
  const [, url] = await cli.waitFor(/listening\s+(http:\/\/127\.0\.0\.1:\d+)/);
  return url!;
}

const MESSAGE = JSON.stringify({ model: "claude-test", max_tokens: 8, messages: [{ role: "user", content: "hi" }] });


describe("llm-relay start", () => {
  it("prints its banner, serves a request and logs one line for it", async () => {
    const config = writeConfig("serve.json");
    const cli = start(["--port", "0", "--config", config]);
    const url = await listening(cli);
    const banner = cli.stderr();
    expect(banner).toContain(`${config} (--config)`);
    expect(banner).toMatch(new RegExp(`anthropic\\s+${upstream.url}\\s+anthropic`));
    expect(banner).toMatch(new RegExp(`openai\\s+${upstream.url}\\s+openai`));
    expect(banner).toContain(`export ANTHROPIC_BASE_URL=${url}\n`);

    const res = await send(`${url}/v1/messages`, { body: MESSAGE, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(200);
    expect(res.headers["request-id"]).toBe("req_mock");
    const [line] = await cli.waitFor(/^.*POST \/v1\/messages.*$/m);
    expect(line).toMatch(/^\d\d:\d\d:\d\d POST \/v1\/messages claude-test → anthropic 200 json (?:\d+ms|\d+\.\d\ds) /);
    expect(cli.stdout().match(/POST \/v1\/messages/g)).toHaveLength(1);

    cli.child.kill("SIGTERM");
    const result = await cli.exited;
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^provider\s+requests\s+status/m);
    expect(result.stderr).toMatch(/^anthropic\s+1\s+200×1/m);
  });

  it("names where the config came from: the embedded default in an empty folder", async () => {
    const cli = start(["--port", "0"]);
    await listening(cli);
    expect(cli.stderr()).toContain("embedded default (no config file found)");
    expect(cli.stderr()).toMatch(/anthropic\s+https:\/\/api\.anthropic\.com/);
    cli.child.kill("SIGTERM");
    expect((await cli.exited).code).toBe(0);
  });

  it("LLM_RELAY_PORT sets the port; --port wins over it", async () => {
    const port = await freePort();
    const cli = start(["--config", writeConfig("port.json")], { LLM_RELAY_PORT: String(port) });
    expect(await listening(cli)).toBe(`http://127.0.0.1:${port}`);
    cli.child.kill("SIGTERM");
    expect((await cli.exited).code).toBe(0);

    const other = start(["--port", "0", "--config", writeConfig("port.json")], { LLM_RELAY_PORT: String(port) });
    expect(await listening(other)).not.toBe(`http://127.0.0.1:${port}`);
    other.child.kill("SIGTERM");
    expect((await other.exited).code).toBe(0);
  });

  it.each([
    ["a wrong provider kind", { providers: { local: { kind: "ollama", baseUrl: "http://127.0.0.1:1" } } }, /providers\.local\.kind/],
    ["a route to an unknown provider", { routes: [{ path: "/v1", provider: "nope" }] }, /routes\.0\.provider: unknown provider "nope"/],
    ["an unset { env } token", { token: { env: "LLM_RELAY_TEST_UNSET" } }, /token: environment variable LLM_RELAY_TEST_UNSET is not set/],
    ["a provider with neither preset nor kind", { providers: { local: { baseUrl: "http://127.0.0.1:1" } } }, /providers\.local\.kind: required unless the provider names a preset \(anthropic, openai, deepseek/],
    ["an unknown preset", { providers: { ds: { preset: "deepsek" } } }, /providers\.ds\.preset: unknown preset; the presets are anthropic, openai, deepseek/],
  ])("a bad config (%s) exits 1 naming the file and key, without a stack trace", async (_name, raw, pattern) => {
    const file = path.join(home, "bad.json");
    writeFileSync(file, JSON.stringify(raw));
    const result = await runCli(["start", "--port", "0", "--config", file], { env: cleanEnv(home), cwd: home });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^llm-relay: invalid config in /);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toMatch(pattern);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stdout).toBe("");
  });

  it("a --config file that does not exist exits 1 with a clear message", async () => {
    const result = await runCli(["start", "--config", "nope.json"], { env: cleanEnv(home), cwd: home });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`llm-relay: config file not found: ${path.join(home, "nope.json")}\n`);
  });

  it("a taken --port exits 1 with a clear message, never another port", async () => {
    // start probes a taken port for another llm-relay (a GET of /_relay/health): this listener
    // is no relay and hangs up, as most other programs would not answer that GET either.
    const taken = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const result = await runCli(["start", "--port", String(port), "--config", writeConfig("taken.json")], { env: cleanEnv(home), cwd: home });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^llm-relay: port ${port} on 127\\.0\\.0\\.1 is already in use; choose another with --port\\n$`));
      expect(result.stderr).not.toMatch(/listening/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe("graceful shutdown", () => {
  // SIGHUP too: without --log-file it means the terminal closed, and the relay must not linger.
  it.each(["SIGTERM", "SIGINT", "SIGHUP"] as const)("%s lets an in-flight stream finish, then exits 0 with the summary", async (signal) => {
    const cli = start(["--port", "0", "--config", writeConfig("drain.json", { timeouts: { shutdownMs: 20_000 } })]);
    const url = await listening(cli);
    const release = gatedStream(upstream);
    const received = upstream.received.length;
    const res = await open(`${url}/v1/messages`, { body: MESSAGE }).response;
    const body = readAll(res);
    await upstream.waitForRequests(received + 1);
    cli.child.kill(signal);
    await cli.waitFor(new RegExp(`${signal}: stopping, waiting up to 20000 ms for 1 request`));
    // New connections are refused while draining.
    await expect(send(`${url}/v1/messages`, { body: MESSAGE })).rejects.toThrow();
    release();
    expect((await body).toString()).toBe(anthropicStream(["a", "b"]).map(sseFrame).join(""));
    const result = await cli.exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/POST \/v1\/messages claude-test → anthropic 200 stream/);
    expect(result.stderr).toMatch(/^anthropic\s+1\s+200×1/m);
  });

  it("cuts a stream still running at timeouts.shutdownMs, then exits 0", async () => {
    const cli = start(["--port", "0", "--config", writeConfig("deadline.json", { timeouts: { shutdownMs: 300 } })]);
    const url = await listening(cli);
    const release = gatedStream(upstream);
    const received = upstream.received.length;
    const res = await open(`${url}/v1/messages`, { body: MESSAGE }).response;
    res.on("error", () => {});
    const closed = new Promise((resolve) => res.on("close", resolve));
    await upstream.waitForRequests(received + 1);
    cli.child.kill("SIGTERM");
    const result = await cli.exited;
    await closed;
    release();
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^anthropic\s+1\s+/m);
    // The request line says the relay cut it, not that the upstream failed.
    expect(result.stdout).toMatch(/the relay shut down: timeouts\.shutdownMs \(300 ms\) passed/);
    // The relay hung up on the upstream too.
    await eventually(() => upstream.received[received]!.abortedAt !== undefined, 3000, "upstream aborted");
  });

  it("a second signal exits at once", async () => {
    const cli = start(["--port", "0", "--config", writeConfig("twice.json", { timeouts: { shutdownMs: 60_000 } })]);
    const url = await listening(cli);
    const release = gatedStream(upstream);
    const received = upstream.received.length;
    const { req, response } = open(`${url}/v1/messages`, { body: MESSAGE });
    req.on("error", () => {});
    (await response).on("error", () => {});
    await upstream.waitForRequests(received + 1);
    cli.child.kill("SIGINT");
    await cli.waitFor(/SIGINT: stopping/);
    cli.child.kill("SIGINT");
    const result = await cli.exited;
    release();
    expect(result.stderr).toContain("SIGINT again, exiting now");
    expect(result.code).toBe(130);
  });
});

describe("--version", () => {
  it.each([["--version"], ["-V"]])("%s prints the package version and exits 0", async (flag) => {
    const home = mkdtempSync(path.join(tmpdir(), "llm-relay-version-"));
    const { version } = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
    const result = await runCli([flag], { env: cleanEnv(home) });
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: "" });
  });
});

describe("output that goes away", () => {
  it("stops cleanly when its stdout pipe closes (start --json | head -1), no internal error", async () => {
    const cli = start(["--port", "0", "--json", "--config", writeConfig("pipe.json")]);
    const url = await listening(cli);
    cli.child.stdout!.destroy(); // the reader is gone, as after `| head -1`
    await send(`${url}/v1/messages`, { body: MESSAGE }).catch(() => undefined);
    await send(`${url}/v1/messages`, { body: MESSAGE }).catch(() => undefined);
    const result = await cli.exited;
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/internal error|EPIPE/);
  });
});
