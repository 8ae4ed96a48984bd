/**
 * SIGHUP for `start --log-file` (issue 11, item 5): on a terminal it means the terminal went
 * away, so the relay stops as on SIGTERM; without one (nohup, a service manager, output to a
 * file) it reopens the log file (the reopen itself is tested in log/log-file.test.ts). The
 * terminal case runs the built binary on a real pty from util-linux `script`.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sighupMeaning } from "../../src/cli/start.js";
import { eventually, send } from "../helpers/client.js";
import { BIN, cleanEnv, startCli } from "../helpers/cli.js";
import { mockedDefaults } from "../helpers/relay.js";
import { startMockUpstream } from "../helpers/mock-upstream.js";

const home = mkdtempSync(path.join(tmpdir(), "llm-relay-sighup-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("sighupMeaning", () => {
  it.each([
    [true, true, "stop"],
    [true, false, "stop"],
    [false, true, "reopen"],
    [false, false, "stop"],
  ] as const)("terminal %s, log file %s → %s", (terminal, logFile, expected) => {
    expect(sighupMeaning({ terminal, logFile })).toBe(expected);
  });
});

/** The pid of the one child of `parent` (script's child, which execs node). */
function childOf(parent: number): number | undefined {
  try {
    const children = readFileSync(`/proc/${parent}/task/${parent}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
    return children.length === 1 ? Number(children[0]) : undefined;
  } catch {
    return undefined;
  }
}

const hasScript = ["/usr/bin/script", "/bin/script"].some((p) => existsSync(p));

describe("start --log-file on a terminal", () => {
  it("util-linux script is installed (the pty this test needs)", () => {
    expect(hasScript).toBe(true);
  });

  it("SIGHUP stops it as SIGTERM would: the summary, exit 0", async () => {
    const upstream = await startMockUpstream();
    const config = path.join(home, "relay.json");
    writeFileSync(config, JSON.stringify(mockedDefaults(upstream.url)));
    const log = path.join(home, "relay.ndjson");
    const command = `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} start --port 0 -c ${JSON.stringify(config)} --log-file ${JSON.stringify(log)}`;
    const script = spawn("script", ["-qfec", command, "/dev/null"], {
      env: cleanEnv(home, { SHELL: "/bin/sh", TERM: "dumb" }),
      cwd: home,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let output = "";
    script.stdout!.on("data", (d: Buffer) => (output += d.toString()));
    script.stderr!.on("data", (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => script.on("close", (code) => resolve(code)));
    try {
      await eventually(() => /listening\s+http:\/\/127\.0\.0\.1:\d+/.test(output), 15_000, "the banner on the pty");
      const url = /listening\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)![1]!;
      const res = await send(`${url}/v1/messages`, {
        body: JSON.stringify({ model: "claude-test", messages: [] }),
        headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      });
      expect(res.status).toBe(200);
      await eventually(() => /POST \/v1\/messages/.test(output), 10_000, "the request line");
      const relayPid = childOf(script.pid!);
      expect(relayPid).toBeGreaterThan(0);
      process.kill(relayPid!, "SIGHUP");
      expect(await exited).toBe(0);
      expect(output).toContain("llm-relay: SIGHUP: stopping");
      expect(output).toMatch(/^total\s+1\s+200×1/m);
      expect(readFileSync(log, "utf8").trim().split("\n")).toHaveLength(1);
    } finally {
      if (script.exitCode === null) script.kill("SIGKILL");
      await upstream.close();
    }
  });
});

describe("start --log-file without a terminal", () => {
  it("SIGHUP does not stop it: it keeps serving, and SIGTERM stops it", async () => {
    const upstream = await startMockUpstream();
    const config = path.join(home, "relay2.json");
    writeFileSync(config, JSON.stringify(mockedDefaults(upstream.url)));
    const cli = startCli(["start", "--port", "0", "-c", config, "--log-file", path.join(home, "piped.ndjson")], { env: cleanEnv(home), cwd: home });
    try {
      const [, url] = await cli.waitFor(/listening\s+(http:\/\/127\.0\.0\.1:\d+)/);
      cli.child.kill("SIGHUP");
      const body = JSON.stringify({ model: "claude-test", messages: [] });
      const headers = { "content-type": "application/json", "anthropic-version": "2023-06-01" };
      await new Promise((r) => setTimeout(r, 300));
      expect((await send(`${url}/v1/messages`, { body, headers })).status).toBe(200);
      expect(cli.stderr()).not.toContain("stopping");
      cli.child.kill("SIGTERM");
      const result = await cli.exited;
      expect(result.code).toBe(0);
      expect(result.stderr).toContain("llm-relay: SIGTERM: stopping");
    } finally {
      if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
      await upstream.close();
    }
  });
});
