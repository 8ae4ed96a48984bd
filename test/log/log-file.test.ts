/**
 * `--log-file` (DESIGN §9): NDJSON records appended to a private file, rotated at a size cap and
 * reopened on SIGHUP — first the module with a tiny cap, then the built binary as a user runs it.
 */
import { mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { openLogFile } from "../../src/log/log-file.js";
import type { RequestRecord } from "../../src/log/record.js";
import { send } from "../helpers/client.js";
import { cleanEnv, startCli, type RunningCli } from "../helpers/cli.js";
import { anthropicStream, sendSse, startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { ANTHROPIC_API_KEY, findLeaks, OAUTH_TOKEN, OPENAI_KEY } from "../fixtures/tokens.js";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "llm-relay-log-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function record(id: number): RequestRecord {
  return {
    type: "request",
    time: new Date(0).toISOString(),
    id,
    method: "POST",
    path: "/v1/messages",
    provider: "anthropic",
    status: 200,
    stream: false,
    durationMs: 12,
    decisions: [{ header: "x-app", action: "forward", value: "cli", reason: "not a credential" }],
  };
}

const lines = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RequestRecord);

describe("openLogFile", () => {
  it("appends one JSON record per line to a file only the user can read; decisions only when verbose", async () => {
    const file = path.join(tempDir(), "nested", "relay.ndjson");
    const plain = await openLogFile(file, { verbose: false });
    plain.write(record(1));
    await plain.close();
    const verbose = await openLogFile(file, { verbose: true });
    verbose.write(record(2));
    await verbose.close();

    const got = lines(file);
    expect(got.map((r) => r.id)).toEqual([1, 2]);
    expect(got[0]!.decisions).toBeUndefined();
    expect(got[1]!.decisions).toHaveLength(1);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("rotates to FILE.1 before a record would pass the size cap, keeping one old file", async () => {
    const file = path.join(tempDir(), "relay.ndjson");
    const lineBytes = Buffer.byteLength(`${JSON.stringify({ ...record(1), decisions: undefined })}\n`);
    // Room for three records per file.
    const log = await openLogFile(file, { verbose: false, maxBytes: lineBytes * 3 + 1 });
    for (let id = 1; id <= 8; id++) log.write(record(id));
    await log.close();
    await new Promise((r) => setTimeout(r, 50)); // the replaced streams finish flushing

    expect(lines(file).map((r) => r.id)).toEqual([7, 8]);
    expect(lines(`${file}.1`).map((r) => r.id)).toEqual([4, 5, 6]);
    expect(statSync(file).size).toBeLessThanOrEqual(lineBytes * 3 + 1);
  });

  it("counts the bytes already in an existing file toward the cap", async () => {
    const file = path.join(tempDir(), "relay.ndjson");
    writeFileSync(file, `${"x".repeat(1000)}\n`);
    const log = await openLogFile(file, { verbose: false, maxBytes: 1100 });
    log.write(record(1));
    await log.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(lines(file).map((r) => r.id)).toEqual([1]);
    expect(readFileSync(`${file}.1`, "utf8")).toBe(`${"x".repeat(1000)}\n`);
  });

  it("writes to a fresh file at the same path after reopen()", async () => {
    const file = path.join(tempDir(), "relay.ndjson");
    const log = await openLogFile(file, { verbose: false });
    log.write(record(1));
    await new Promise((r) => setTimeout(r, 20));
    renameSync(file, `${file}.old`);
    log.reopen();
    log.write(record(2));
    await log.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(lines(`${file}.old`).map((r) => r.id)).toEqual([1]);
    expect(lines(file).map((r) => r.id)).toEqual([2]);
  });

  it("fails with a clear message when the file cannot be created", async () => {
    const blocker = path.join(tempDir(), "not-a-folder");
    writeFileSync(blocker, "");
    await expect(openLogFile(path.join(blocker, "relay.ndjson"), { verbose: false })).rejects.toThrow(/cannot open log file .*not-a-folder/);
  });
});

describe("start --log-file (built binary)", () => {
  let upstream: MockUpstream;
  let cli: RunningCli | undefined;

  beforeAll(async () => {
    upstream = await startMockUpstream((_req, res) => sendSse(res, anthropicStream(["hé", "llo"], { input_tokens: 31, output_tokens: 5 })));
  });
  afterEach(() => {
    if (cli && cli.child.exitCode === null) cli.child.kill("SIGKILL");
  });
  afterAll(async () => {
    await upstream?.close();
  });

  it("logs redacted NDJSON records, reopens after SIGHUP, and prints a summary on SIGTERM", async () => {
    const home = tempDir();
    const configFile = path.join(home, "relay.json");
    writeFileSync(configFile, JSON.stringify({ providers: { anthropic: { kind: "anthropic", baseUrl: upstream.url, oauth: "forward" } } }));
    const logFile = path.join(home, "logs", "relay.ndjson");
    cli = startCli(["start", "-p", "0", "-c", configFile, "--verbose", "--log-file", logFile], { env: cleanEnv(home), cwd: home });
    const [, url] = await cli.waitFor(/(http:\/\/127\.0\.0\.1:\d+)/);

    const ask = () =>
      send(`${url}/v1/messages`, {
        body: JSON.stringify({ model: "claude-log", stream: true, messages: [] }),
        headers: { "content-type": "application/json", authorization: `Bearer ${OAUTH_TOKEN}`, "anthropic-version": "2023-06-01" },
      });
    expect((await ask()).status).toBe(200);
    await cli.waitFor(/POST \/v1\/messages/);
    await waitForFile(logFile, 1);

    const first = lines(logFile);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ type: "request", method: "POST", path: "/v1/messages", model: "claude-log", provider: "anthropic", status: 200, stream: true });
    expect(first[0]!.usage).toMatchObject({ inputTokens: 31, outputTokens: 5 });
    // --verbose: the decisions are in the file, the token in them redacted.
    const auth = first[0]!.decisions!.find((d) => d.header === "authorization");
    expect(auth?.action).toBe("forward");
    expect(auth?.value).toMatch(/^Bearer sk-ant-oat01-…\[len=\d+ #[0-9a-f]{6}\]$/);
    expect(findLeaks(readFileSync(logFile, "utf8"))).toEqual([]);

    // logrotate's move, then SIGHUP: the relay starts a new file at the same path.
    renameSync(logFile, `${logFile}.rotated`);
    cli.child.kill("SIGHUP");
    await waitFor(() => existsSync(logFile), "a new log file after SIGHUP");
    expect((await ask()).status).toBe(200);
    await waitForFile(logFile, 1);
    expect(lines(logFile).map((r) => r.id)).toEqual([first[0]!.id + 1]);
    expect(lines(`${logFile}.rotated`)).toHaveLength(1);

    cli.child.kill("SIGTERM");
    const result = await cli.exited;
    expect(result.code).toBe(0);
    // Two requests to anthropic, both 200, 31 + 31 in, 5 + 5 out.
    expect(result.stderr).toMatch(/provider\s+requests\s+status\s+errors\s+in\s+out\s+cache-read\s+cache-write\n\s*anthropic\s+2\s+200×2\s+0\s+62\s+10\s+0\s+0/);
    expect(findLeaks(result.stdout + result.stderr)).toEqual([]);
  });

  it("a secret sent as the body's model is relayed as sent but printed redacted: request line, NDJSON, summary", async () => {
    const home = tempDir();
    const configFile = path.join(home, "relay.json");
    writeFileSync(configFile, JSON.stringify({ providers: { anthropic: { kind: "anthropic", baseUrl: upstream.url } } }));
    const logFile = path.join(home, "relay.ndjson");
    cli = startCli(["start", "-p", "0", "-c", configFile, "--log-file", logFile], { env: cleanEnv(home), cwd: home });
    const [, url] = await cli.waitFor(/(http:\/\/127\.0\.0\.1:\d+)/);
    const before = upstream.received.length;
    // A key pasted into the wrong field, raw and base64-encoded.
    const models = [ANTHROPIC_API_KEY, `key ${Buffer.from(OPENAI_KEY).toString("base64")}`];
    for (const model of models) {
      const answer = await send(`${url}/v1/messages`, { body: JSON.stringify({ model, stream: true, messages: [] }), headers: { "content-type": "application/json" } });
      expect(answer.status).toBe(200);
    }
    await cli.waitFor(/POST \/v1\/messages[^\n]*\n[^\n]*POST \/v1\/messages/);
    await waitForFile(logFile, 2);
    // The upstream got the bytes the client sent: redaction is for what the relay prints.
    expect(upstream.received.slice(before).map((r) => (JSON.parse(r.body.toString()) as { model: string }).model)).toEqual(models);
    expect(lines(logFile).map((r) => r.model)).toEqual([expect.stringMatching(/^sk-ant-api03-…\[len=108 #[0-9a-f]{6}\]$/), expect.stringMatching(/^key sk-proj-…\[len=164 #[0-9a-f]{6}\]$/)]);
    cli.child.kill("SIGTERM");
    const result = await cli.exited;
    expect(result.code).toBe(0);
    expect(findLeaks(result.stdout + result.stderr + readFileSync(logFile, "utf8"))).toEqual([]);
  });

  it("refuses a log file it cannot create, exit 1, one line", async () => {
    const home = tempDir();
    writeFileSync(path.join(home, "file"), "");
    const run = startCli(["start", "-p", "0", "--log-file", path.join(home, "file", "x.ndjson")], { env: cleanEnv(home), cwd: home });
    const result = await run.exited;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^llm-relay: cannot open log file .*file\/x\.ndjson: (ENOTDIR|EEXIST)\n$/);
  });
});

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function waitForFile(file: string, records: number): Promise<void> {
  return waitFor(() => existsSync(file) && readFileSync(file, "utf8").split("\n").filter(Boolean).length >= records, `${records} record(s) in ${file}`);
}
