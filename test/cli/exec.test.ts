/**
 * `llm-relay exec` (DESIGN §7, §8 token): the pure environment rules by table, then the built
 * binary running small child scripts against a mock upstream — what the child sees, what the
 * upstream receives, exit codes, signals, the log file, and two sessions side by side.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { childEnvironment } from "../../src/exec/child-env.js";
import { ANTHROPIC_API_KEY, findLeaks, OAUTH_TOKEN } from "../fixtures/tokens.js";
import { BIN, cleanEnv, ROOT, runCli, startCli, type CliResult } from "../helpers/cli.js";
import { anthropicMessage, startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults } from "../helpers/relay.js";

const BASE = "http://127.0.0.1:40000/_t/SESSIONtoken";
const LOOPBACK = "127.0.0.1,localhost";

describe("childEnvironment: what exec changes in the child's environment", () => {
  it.each<[string, NodeJS.Platform, NodeJS.ProcessEnv, NodeJS.ProcessEnv]>([
    ["nothing set", "linux", {}, { NO_PROXY: LOOPBACK, no_proxy: LOOPBACK }],
    ["NO_PROXY only: both spellings keep its hosts", "linux", { NO_PROXY: "corp.internal" },
      { NO_PROXY: `corp.internal,${LOOPBACK}`, no_proxy: `corp.internal,${LOOPBACK}` }],
    ["no_proxy only: both spellings keep its hosts", "linux", { no_proxy: ".corp" },
      { NO_PROXY: `.corp,${LOOPBACK}`, no_proxy: `.corp,${LOOPBACK}` }],
    ["both set: each keeps its own", "linux", { NO_PROXY: "a.test", no_proxy: "b.test" },
      { NO_PROXY: `a.test,${LOOPBACK}`, no_proxy: `b.test,${LOOPBACK}` }],
    ["loopback already listed: not repeated", "linux", { NO_PROXY: "localhost, x.test" },
      { NO_PROXY: "localhost,x.test,127.0.0.1", no_proxy: "localhost,x.test,127.0.0.1" }],
    ["Windows: one variable whatever its spelling", "win32", { no_proxy: "corp" }, { NO_PROXY: `corp,${LOOPBACK}`, no_proxy: undefined }],
  ])("NO_PROXY: %s", (_name, platform, parent, expected) => {
    const { env } = childEnvironment(parent, BASE, platform);
    expect({ NO_PROXY: env.NO_PROXY, no_proxy: env.no_proxy }).toEqual(expected);
  });

  it.each<[string, NodeJS.Platform, NodeJS.ProcessEnv, string[]]>([
    ["nothing to replace", "linux", { PATH: "/bin" }, []],
    ["a parent ANTHROPIC_BASE_URL", "linux", { ANTHROPIC_BASE_URL: "https://gw.example/anthropic" }, ["ANTHROPIC_BASE_URL"]],
    ["a parent OPENAI_BASE_URL", "linux", { OPENAI_BASE_URL: "https://gw.example/v1" }, ["OPENAI_BASE_URL"]],
    ["Windows spelling Anthropic_Base_Url", "win32", { Anthropic_Base_Url: "https://gw.example" }, ["ANTHROPIC_BASE_URL"]],
  ])("base URLs point at the relay (%s), with a warning per replaced variable", (_name, platform, parent, warned) => {
    const { env, warnings } = childEnvironment(parent, BASE, platform);
    expect(env.ANTHROPIC_BASE_URL).toBe(BASE);
    expect(env.OPENAI_BASE_URL).toBe(`${BASE}/v1`);
    expect(env.LLM_RELAY_URL).toBe(BASE);
    expect(Object.keys(env).filter((k) => /^anthropic_base_url$/i.test(k))).toEqual(["ANTHROPIC_BASE_URL"]);
    expect(warnings.map((w) => w.split(" ")[0])).toEqual(warned);
  });

  it("never sets credentials, passes the parent's through untouched, and redacts a replaced URL's userinfo", () => {
    expect(childEnvironment({ PATH: "/bin" }, BASE, "linux").env).not.toHaveProperty("ANTHROPIC_API_KEY");
    expect(childEnvironment({ PATH: "/bin" }, BASE, "linux").env).not.toHaveProperty("ANTHROPIC_AUTH_TOKEN");
    const { env, warnings } = childEnvironment(
      { ANTHROPIC_API_KEY, HOME: "/h", ANTHROPIC_BASE_URL: `https://user:${ANTHROPIC_API_KEY}@gw.example` },
      BASE,
      "linux",
    );
    expect(env.ANTHROPIC_API_KEY).toBe(ANTHROPIC_API_KEY);
    expect(env.HOME).toBe("/h");
    expect(findLeaks(warnings.join("\n"))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

const child = (name: string) => path.join(ROOT, "test", "fixtures", "children", name);
const RELAY_BASE = /^http:\/\/127\.0\.0\.1:(\d+)\/_t\/([A-Za-z0-9_-]{43})$/;

let upstream: MockUpstream;
let home: string;
let configFile: string;
let notExecutable: string;

beforeAll(async () => {
  upstream = await startMockUpstream();
  upstream.handle(anthropicMessage);
  home = await mkdtemp(path.join(tmpdir(), "llm-relay-exec-"));
  configFile = path.join(home, "relay.config.json");
  await writeFile(
    configFile,
    JSON.stringify({
      providers: {
        ...mockedDefaults(upstream.url).providers,
      },
    }),
  );
  notExecutable = path.join(home, "not-executable.sh");
  await writeFile(notExecutable, "#!/bin/sh\necho should not run\n");
  await chmod(notExecutable, 0o644);
});
afterAll(async () => {
  await upstream?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

const execArgs = (options: string[], command: string[]) => ["exec", "--config", configFile, ...options, "--", ...command];
const env = (extra: NodeJS.ProcessEnv = {}) => cleanEnv(home, extra);
/** The child's last stdout line as JSON; on failure, says what exec printed. */
function lastJson<T>(stdout: string, stderr = ""): T {
  try {
    return JSON.parse(stdout.trim().split("\n").at(-1)!) as T;
  } catch {
    throw new Error(`the child printed no JSON.\nstdout: ${stdout}\nstderr: ${stderr}`);
  }
}
/** The fields of a log file's NDJSON record these tests read. */
interface LoggedRecord {
  type: string;
  method: string;
  path: string;
  status: number;
  error?: string;
  decisions?: Array<{ header: string; action: string }>;
}
const tokenOf = (url: string) => RELAY_BASE.exec(url)?.[2] ?? "(no token)";
/** The log path exec printed (`log: …`), each time it printed it. */
const printedLogPaths = (stderr: string) => [...stderr.matchAll(/log: (\S+)/g)].map((m) => m[1]!);

describe("exec: the child's environment", () => {
  it("points the child at a tokened loopback relay, adds loopback to NO_PROXY, sets no credentials, passes arguments untouched", async () => {
    const args = ["--verbose", "a b", "$HOME", "*"];
    const result = await runCli(execArgs([], ["node", child("print-env.mjs"), ...args]), {
      env: env({ NO_PROXY: "corp.internal", PASSED_THROUGH: "yes" }),
    });
    expect(result.code).toBe(0);
    const seen = lastJson<{ env: Record<string, string>; args: string[] }>(result.stdout, result.stderr);
    const base = seen.env.ANTHROPIC_BASE_URL!;
    expect(base).toMatch(RELAY_BASE);
    expect(Number(RELAY_BASE.exec(base)![1])).toBeGreaterThan(0);
    expect(seen.env.OPENAI_BASE_URL).toBe(`${base}/v1`);
    expect(seen.env.LLM_RELAY_URL).toBe(base);
    expect(seen.env.NO_PROXY).toBe("corp.internal,127.0.0.1,localhost");
    expect(seen.env.no_proxy).toBe("corp.internal,127.0.0.1,localhost");
    expect(seen.env).not.toHaveProperty("ANTHROPIC_AUTH_TOKEN");
    expect(seen.env).not.toHaveProperty("ANTHROPIC_API_KEY");
    expect(seen.env.PASSED_THROUGH).toBe("yes");
    expect(seen.args).toEqual(args);
    expect(result.stderr).not.toContain(tokenOf(base));
  });

  it("ignores start's settings: a short LLM_RELAY_TOKEN and a config host beyond loopback", async () => {
    const result = await runCli(execArgs([], ["node", child("print-env.mjs")]), { env: env({ LLM_RELAY_TOKEN: "short" }) });
    expect(result.code).toBe(0);
    expect(result.stderr).not.toMatch(/at least 16 characters|other machines can reach/);
    expect(lastJson<{ env: Record<string, string> }>(result.stdout, result.stderr).env.ANTHROPIC_BASE_URL).toMatch(RELAY_BASE);
  });

  it("warns on stderr when it replaces the parent's ANTHROPIC_BASE_URL", async () => {
    const result = await runCli(execArgs([], ["node", child("print-env.mjs")]), {
      env: env({ ANTHROPIC_BASE_URL: "https://gateway.example/anthropic" }),
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: ANTHROPIC_BASE_URL is set \(https:\/\/gateway\.example\/anthropic\).*instead/);
    expect(lastJson<{ env: Record<string, string> }>(result.stdout, result.stderr).env.ANTHROPIC_BASE_URL).toMatch(RELAY_BASE);
  });
});

describe("exec: a request from the child", () => {
  let result: CliResult;
  let logFile: string;
  let sessionToken: string;
  let received: MockUpstream["received"];
  let seen: Record<"withToken" | "withoutToken" | "openai", { status: number; body: string }> & { base: string };

  beforeAll(async () => {
    logFile = path.join(home, "logs", "session.log");
    const before = upstream.received.length;
    result = await runCli(execArgs(["--verbose", "--log-file", logFile], ["node", child("request.mjs")]), {
      env: env({ CLAUDE_CODE_OAUTH_TOKEN: OAUTH_TOKEN }),
    });
    received = upstream.received.slice(before);
    seen = lastJson(result.stdout, result.stderr);
    sessionToken = tokenOf(seen.base);
  });

  it("reaches the upstream with the OAuth header intact and the session token gone", () => {
    expect(result.code).toBe(0);
    expect(seen.withToken.status).toBe(200);
    expect(JSON.parse(seen.withToken.body)).toMatchObject({ id: "msg_test" });
    const messages = received.filter((r) => r.url === "/v1/messages");
    expect(messages).toHaveLength(1);
    const got = messages[0]!;
    expect(got.headers.authorization).toBe(`Bearer ${OAUTH_TOKEN}`);
    expect(got.headers["x-api-key"]).toBeUndefined();
    expect(got.headers["x-llm-relay-token"]).toBeUndefined();
    expect(String(got.headers["anthropic-beta"]).split(",")).toEqual(["claude-code-20250219", "oauth-2025-04-20"]);
    expect(sessionToken).toMatch(/^[\w-]{43}$/);
    expect(JSON.stringify(got.headers)).not.toContain(sessionToken);
  });

  it("gets 401 in the Anthropic API shape without the session token, and nothing reaches the upstream", () => {
    expect(seen.withoutToken.status).toBe(401);
    expect(JSON.parse(seen.withoutToken.body)).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    expect(received.map((r) => r.url).sort()).toEqual(["/v1/chat/completions", "/v1/messages"]);
  });

  it("routes $OPENAI_BASE_URL requests by the built-in OpenAI path rules", () => {
    expect(seen.openai.status).toBe(200);
    expect(received.find((r) => r.url === "/v1/chat/completions")).toBeDefined();
  });

  it("writes one NDJSON record per request to a private log file (start --log-file's format), with no secret, and prints its path before and after", async () => {
    const log = await readFile(logFile, "utf8");
    if (process.platform !== "win32") expect((await stat(logFile)).mode & 0o777).toBe(0o600);
    const records = log.trim().split("\n").map((line) => JSON.parse(line) as LoggedRecord);
    expect(records.map((r) => [r.type, r.method, r.path, r.status]).sort()).toEqual([
      ["request", "POST", "/v1/chat/completions", 200],
      ["request", "POST", "/v1/messages", 200],
      ["request", "POST", "/v1/messages", 401],
    ]);
    expect(records.find((r) => r.status === 401)?.error).toMatch(/requires its token/);
    // --verbose: the header decisions ride along, as with start.
    expect(records.find((r) => r.status === 200 && r.path === "/v1/messages")?.decisions).toContainEqual(
      expect.objectContaining({ header: "authorization", action: "forward" }),
    );
    expect(log).not.toContain("/_t/…"); // (the 401 message names the placeholder /_t/<token>)
    expect(findLeaks(log)).toEqual([]);
    expect(findLeaks(log, [sessionToken])).toEqual([]);
    expect(findLeaks(result.stderr, [OAUTH_TOKEN, sessionToken])).toEqual([]);
    expect(printedLogPaths(result.stderr)).toEqual([logFile, logFile]);
    expect(result.stderr).toMatch(/node exited with 0; 3 requests, 1 error/);
  });
});

describe("exec: where the log goes", () => {
  it("defaults to a new 0600 file under $XDG_STATE_HOME/llm-relay/, its path printed before and after", async () => {
    const result = await runCli(execArgs([], ["node", child("request.mjs")]), { env: env({ CLAUDE_CODE_OAUTH_TOKEN: OAUTH_TOKEN }) });
    expect(result.code).toBe(0);
    const paths = printedLogPaths(result.stderr);
    expect(paths).toHaveLength(2);
    expect(paths[0]).toBe(paths[1]);
    const file = paths[0]!;
    expect(path.dirname(file)).toBe(path.join(home, ".local", "state", "llm-relay"));
    expect(path.basename(file)).toMatch(/^exec-.+-\d+\.log$/);
    if (process.platform !== "win32") expect((await stat(file)).mode & 0o777).toBe(0o600);
    const log = await readFile(file, "utf8");
    expect(log.trim().split("\n").map((line) => (JSON.parse(line) as LoggedRecord).status).sort()).toEqual([200, 200, 401]);
    expect(findLeaks(log, [OAUTH_TOKEN, tokenOf(lastJson<{ base: string }>(result.stdout, result.stderr).base)])).toEqual([]);
  });

  it("a command that makes no request leaves no log file, and the summary says so", async () => {
    const state = path.join(home, "quiet-state");
    const result = await runCli(execArgs([], ["node", child("exit.mjs"), "0"]), { env: env({ XDG_STATE_HOME: state }) });
    expect(result.code).toBe(0);
    const announced = printedLogPaths(result.stderr);
    expect(announced).toHaveLength(1);
    expect(existsSync(announced[0]!)).toBe(false);
    expect(await readdir(path.join(state, "llm-relay"))).toEqual([]);
    expect(result.stderr).toMatch(/llm-relay: node exited with 0; 0 requests, 0 errors; no log file \(no requests\)\n$/);
  });

  it("--json changes nothing for a file: the file is NDJSON either way, without decisions unless --verbose", async () => {
    const logFile = path.join(home, "session.ndjson");
    const result = await runCli(execArgs(["--json", "--log-file", logFile], ["node", child("request.mjs")]), {
      env: env({ CLAUDE_CODE_OAUTH_TOKEN: OAUTH_TOKEN }),
    });
    expect(result.code).toBe(0);
    const text = await readFile(logFile, "utf8");
    const records = text.trim().split("\n").map((line) => JSON.parse(line) as LoggedRecord);
    expect(records.map((r) => r.status).sort()).toEqual([200, 200, 401]);
    expect(records.every((r) => r.type === "request" && r.decisions === undefined)).toBe(true);
    expect(records.map((r) => r.path).sort()).toEqual(["/v1/chat/completions", "/v1/messages", "/v1/messages"]);
    expect(findLeaks(text, [OAUTH_TOKEN, tokenOf(lastJson<{ base: string }>(result.stdout, result.stderr).base)])).toEqual([]);
  });

  it.each(["0644", "0666", "0604"])("an existing --log-file with mode %s is made private (0600) and appended to, not truncated", async (mode) => {
    const logFile = path.join(home, `existing-${mode}.log`);
    await writeFile(logFile, "earlier line\n");
    await chmod(logFile, parseInt(mode, 8));
    const result = await runCli(execArgs(["--log-file", logFile], ["node", child("request.mjs")]), {
      env: env({ CLAUDE_CODE_OAUTH_TOKEN: OAUTH_TOKEN }),
      timeoutMs: 60_000,
    });
    expect(result.code, result.stderr).toBe(0);
    expect((await stat(logFile)).mode & 0o777).toBe(0o600);
    const log = await readFile(logFile, "utf8");
    expect(log.startsWith("earlier line\n")).toBe(true);
    expect(log).toMatch(/"status":200/);
  }, 90_000);

  it("--log-file - sends human request lines to stderr: the path as the child asked for it, no session token, no readiness probe", async () => {
    const result = await runCli(execArgs(["--log-file", "-"], ["node", child("request.mjs")]), {
      env: env({ CLAUDE_CODE_OAUTH_TOKEN: OAUTH_TOKEN }),
    });
    expect(result.code).toBe(0);
    const lines = result.stderr.split("\n").filter((line) => /^\d\d:\d\d:\d\d /.test(line));
    expect(lines.map((line) => line.slice(9).split(" → ")[0])).toEqual(
      expect.arrayContaining(["POST /v1/messages claude-test", "POST /v1/messages claude-test", "POST /v1/chat/completions gpt-test"]),
    );
    expect(lines).toHaveLength(3);
    expect(result.stderr).not.toContain("/_t/…");
    expect(result.stderr).not.toMatch(/_relay|HEAD | 404 /);
    expect(result.stderr).toMatch(/log: stderr/);
    expect(findLeaks(result.stderr, [OAUTH_TOKEN, tokenOf(lastJson<{ base: string }>(result.stdout, result.stderr).base)])).toEqual([]);
  });

  it("--log-file - with a command that makes no request prints no request line (the readiness probe is not traffic)", async () => {
    const result = await runCli(execArgs(["--log-file", "-"], ["node", child("exit.mjs"), "0"]), { env: env() });
    expect(result.code).toBe(0);
    expect(result.stderr.trim().split("\n")).toEqual([
      expect.stringMatching(/^llm-relay: relay on http:\/\/127\.0\.0\.1:\d+ for node; log: stderr$/),
      "llm-relay: node exited with 0; 0 requests, 0 errors; log: stderr",
    ]);
  });
});

describe("exec: exit codes", () => {
  it.each<[string, () => string[], number, RegExp]>([
    ["the child's 0", () => ["node", child("exit.mjs"), "0"], 0, /exited with 0/],
    ["the child's 7", () => ["node", child("exit.mjs"), "7"], 7, /exited with 7/],
    ["128+15 when SIGTERM killed the child", () => ["node", child("exit.mjs"), "SIGTERM"], 143, /killed by SIGTERM/],
    ["127 when the command is not found", () => ["llm-relay-test-no-such-command"], 127, /command not found/],
    ["126 when the command is not executable", () => [notExecutable], 126, /permission denied/],
  ])("%s", async (_name, command, code, message) => {
    const result = await runCli(execArgs([], command()), { env: env() });
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).not.toContain("should not run");
  });

  it("an unwritable --log-file is a clear error before any child runs", async () => {
    const result = await runCli(execArgs(["--log-file", home], ["node", child("print-env.mjs")]), { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^llm-relay: cannot open log file .*EISDIR/m);
    expect(result.stdout).toBe("");
  });

  it.each(["app.localhost", "localhost.evil.example", "::ffff:127.0.0.1"])("--host %s (not loopback) is refused before any child runs", async (host) => {
    const result = await runCli(execArgs(["--host", host], ["node", child("print-env.mjs")]), { env: env(), timeoutMs: 60_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^llm-relay: exec listens on a loopback address only/m);
    expect(result.stdout).toBe("");
  });

  it("a bad --host is a clear error before any child runs", async () => {
    const result = await runCli(execArgs(["--host", "0.0.0.0"], ["node", child("print-env.mjs")]), { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^llm-relay: exec listens on a loopback address only/m);
    expect(result.stdout).toBe("");
  });
});

/** Polls for a file, for signals whose effect is only visible on disk. */
async function waitForFile(file: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${file}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("exec: signals", () => {
  it("forwards SIGTERM to the child and exits with the child's code", async () => {
    const marker = path.join(home, "sigterm.marker");
    const running = startCli(execArgs([], ["node", child("hold.mjs"), marker]), { env: env() });
    await running.waitFor(/"url"/);
    running.child.kill("SIGTERM");
    const result = await running.exited;
    expect(result.code).toBe(3);
    expect(await readFile(marker, "utf8")).toBe("SIGTERM");
  });

  it.skipIf(process.platform === "win32")("Ctrl-C: the child gets one SIGINT (from the terminal, not a second from exec) and exec waits for it", async () => {
    const marker = path.join(home, "sigint.marker");
    // Its own process group, like a terminal's foreground job: Ctrl-C signals the whole group.
    const exec = spawn(process.execPath, [BIN, ...execArgs([], ["node", child("hold.mjs"), marker])], {
      env: env(),
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    let stdout = "";
    exec.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    exec.stderr!.resume();
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => exec.on("exit", (c, s) => resolve([c, s])));
    try {
      const deadline = Date.now() + 10_000;
      while (!stdout.includes('"url"')) {
        if (Date.now() > deadline) throw new Error("the child never started");
        await new Promise((r) => setTimeout(r, 20));
      }
      process.kill(-exec.pid!, "SIGINT");
      await waitForFile(`${marker}.int`);
      // A SIGINT to exec alone: exec must not pass it on (the terminal is the one that sends them).
      exec.kill("SIGINT");
      await new Promise((r) => setTimeout(r, 200));
      exec.kill("SIGTERM");
      expect(await exited).toEqual([3, null]);
      expect(await readFile(`${marker}.int`, "utf8")).toBe("SIGINT\n");
    } finally {
      try {
        process.kill(-exec.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }
  });
});

describe("exec: two sessions at once", () => {
  it("get different ports and tokens, and each refuses the other's token", async () => {
    const sessions = ["a", "b"].map((name) => {
      const logFile = path.join(home, `concurrent-${name}.log`);
      const marker = path.join(home, `concurrent-${name}.marker`);
      return { logFile, running: startCli(execArgs(["--log-file", logFile], ["node", child("hold.mjs"), marker]), { env: env() }) };
    });
    try {
      const [a, b] = await Promise.all(
        sessions.map(async ({ running }) => {
          await running.waitFor(/"url"/);
          const url = lastJson<{ url: string }>(running.stdout()).url;
          const [, port, token] = RELAY_BASE.exec(url)!;
          return { url, port: Number(port), token: token! };
        }),
      );
      expect(a!.port).not.toBe(b!.port);
      expect(a!.token).not.toBe(b!.token);

      const post = (url: string) =>
        fetch(`${url}/v1/messages`, {
          method: "POST",
          headers: { authorization: `Bearer ${OAUTH_TOKEN}`, "content-type": "application/json", "anthropic-version": "2023-06-01" },
          body: JSON.stringify({ model: "claude-test", max_tokens: 1, messages: [] }),
        });
      const own = await post(a!.url);
      expect(own.status).toBe(200);
      await own.text();
      const crossed = await post(`http://127.0.0.1:${b!.port}/_t/${a!.token}`);
      expect(crossed.status).toBe(401);
      await crossed.text();

      for (const { running } of sessions) running.child.kill("SIGTERM");
      const results = await Promise.all(sessions.map(({ running }) => running.exited));
      expect(results.map((r) => r.code)).toEqual([3, 3]);
      const [logA, logB] = await Promise.all(sessions.map(({ logFile }) => readFile(logFile, "utf8")));
      expect(logA!.trim().split("\n")).toEqual([expect.stringMatching(/"status":200/)]);
      expect(logB!.trim().split("\n")).toEqual([expect.stringMatching(/"status":401/)]);
      expect(findLeaks(`${logA}${logB}`, [a!.token, b!.token, OAUTH_TOKEN])).toEqual([]);
    } finally {
      for (const { running } of sessions) if (running.child.exitCode === null) running.child.kill("SIGKILL");
    }
  });
});
