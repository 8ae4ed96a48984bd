/**
 * What a new user sees from `llm-relay start` (issue 11, items 12–15), the built binary against
 * loopback mock upstreams: the status line of what is in flight on a real terminal (and never in
 * piped output or --json), `--verbose` folding the headers passed through (`-vv` lists them), a
 * withheld OAuth token marked on its line with a once-per-run hint, and an upstream's error
 * answer (type, message, request-id, retry-after) on the line and in the NDJSON record.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { open, readAll, send } from "../helpers/client.js";
import { cleanEnv, ROOT, runCli, startCli, type RunningCli } from "../helpers/cli.js";
import { anthropicMessage, gatedStream, sendJson, startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { startInTerminal, visible, type RunningTerminal } from "../helpers/terminal.js";
import { claudeCodeHeaders, CLAUDE_CODE_BODY, CLAUDE_CODE_PATH } from "../fixtures/claude-code.js";
import { ALL_TEST_SECRETS, ANTHROPIC_API_KEY, leakForms, OAUTH_TOKEN } from "../fixtures/tokens.js";

let home: string;
let config: string;
let upstream: MockUpstream;
const running = new Set<{ child: RunningCli["child"]; exited: Promise<unknown> }>();

beforeAll(async () => {
  home = mkdtempSync(path.join(tmpdir(), "llm-relay-tty-"));
  upstream = await startMockUpstream();
  config = path.join(home, "relay.json");
  writeFileSync(
    config,
    JSON.stringify({
      providers: {
        anthropic: { kind: "anthropic", baseUrl: upstream.url, oauth: "forward" },
        // A gateway that is not trusted with the subscription token (the default off the official origin).
        gateway: { kind: "anthropic", baseUrl: `${upstream.url}/gw` },
        openai: { kind: "openai", baseUrl: upstream.url },
      },
    }),
  );
});
afterEach(async () => {
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

function start(args: string[]): RunningCli {
  const cli = startCli(["start", "--port", "0", "--no-inspect", "-c", config, ...args], { env: cleanEnv(home), cwd: home });
  running.add(cli);
  return cli;
}

function startTty(args: string[]): RunningTerminal {
  const term = startInTerminal(["start", "--port", "0", "--no-inspect", "-c", config, ...args], { env: cleanEnv(home), cwd: home });
  running.add(term);
  return term;
}

async function listening(cli: { waitFor(p: RegExp): Promise<RegExpMatchArray> }): Promise<string> {
  const [, url] = await cli.waitFor(/listening\s+(http:\/\/127\.0\.0\.1:\d+)/);
  return url!;
}

const MESSAGE = JSON.stringify({ model: "claude-test", max_tokens: 8, stream: true, messages: [{ role: "user", content: "hi" }] });


const STATUS = /1 in flight: POST \/v1\/messages claude-test → anthropic (\d+(?:\.\d)?)s/;
const ERASE_LINE = "\u001b[2K";

describe("the status line of what is in flight (item 12)", () => {
  it("on a terminal, shows the running request with its elapsed time, then erases it when the request line is printed", async () => {
    const release = gatedStream(upstream);
    const term = startTty([]);
    const url = await listening(term);
    const res = await open(`${url}/v1/messages`, { body: MESSAGE, headers: { "anthropic-version": "2023-06-01" } }).response;
    const [, first] = await term.waitFor(STATUS);
    // It is redrawn while the request runs: the elapsed time grows.
    await term.waitFor(new RegExp(STATUS.source.replace("(\\d+(?:\\.\\d)?)", `(?!${first!.replace(".", "\\.")}s)\\d+(?:\\.\\d)?`)));
    release();
    await readAll(res);
    await term.waitFor(/POST \/v1\/messages claude-test → anthropic 200 stream/);
    const raw = term.output();
    const lineAt = raw.lastIndexOf("POST /v1/messages claude-test → anthropic 200 stream");
    const lastStatus = raw.lastIndexOf("1 in flight:");
    // The status line was drawn before the request line and erased before it was written over it.
    expect(lastStatus).toBeGreaterThan(-1);
    expect(lastStatus).toBeLessThan(lineAt);
    expect(raw.slice(lastStatus, lineAt)).toContain(ERASE_LINE);
    term.interrupt();
    const done = await term.exited;
    expect(done.code).toBe(0);
    // Nothing in flight any more: the summary is the last thing on screen, no status line after it.
    const shown = visible(done.stdout);
    expect(shown).toMatch(/llm-relay: SIGINT: stopping/);
    expect(shown.slice(shown.indexOf("SIGINT: stopping"))).not.toContain("in flight");
  });

  it("never in piped output: the same slow request prints only its line", async () => {
    const release = gatedStream(upstream);
    const cli = start([]);
    const url = await listening(cli);
    const res = await open(`${url}/v1/messages`, { body: MESSAGE, headers: { "anthropic-version": "2023-06-01" } }).response;
    // Long past the moment the status line would show on a terminal.
    await new Promise((r) => setTimeout(r, 1200));
    release();
    await readAll(res);
    await cli.waitFor(/POST \/v1\/messages claude-test → anthropic 200 stream/);
    cli.child.kill("SIGTERM");
    const done = await cli.exited;
    expect(done.code).toBe(0);
    expect(done.stdout + done.stderr).not.toContain("in flight");
    expect(done.stdout).not.toContain("\u001b[");
  });

  it("never with --json, even on a terminal: stdout stays NDJSON records", async () => {
    const release = gatedStream(upstream);
    const term = startTty(["--json"]);
    const url = await listening(term);
    const res = await open(`${url}/v1/messages`, { body: MESSAGE, headers: { "anthropic-version": "2023-06-01" } }).response;
    await new Promise((r) => setTimeout(r, 1200));
    release();
    await readAll(res);
    await term.waitFor(/"type":"request"/);
    term.interrupt();
    const done = await term.exited;
    expect(done.code).toBe(0);
    expect(done.stdout).not.toContain("in flight");
    const records = visible(done.stdout).split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { path: string; status: number });
    expect(records).toEqual([expect.objectContaining({ path: "/v1/messages", status: 200 })]);
  });
});

/** Decision lines of the first request block in `stdout` (indented lines under the request line). */
function decisionLines(stdout: string): string[] {
  const lines = stdout.split("\n");
  const at = lines.findIndex((l) => l.includes("POST /v1/messages?beta=true"));
  const block: string[] = [];
  for (const line of lines.slice(at + 1)) {
    if (!line.startsWith("    ")) break;
    block.push(line);
  }
  return block.filter((l) => !l.trimStart().startsWith("route"));
}

async function claudeCodeRequest(verbosity: string): Promise<{ shown: string[]; decisions: Array<{ header: string; action: string; reason: string }> }> {
  const log = path.join(home, `verbose${verbosity}.ndjson`);
  rmSync(log, { force: true });
  const cli = start([verbosity, "--log-file", log]);
  const url = await listening(cli);
  const res = await send(`${url}${CLAUDE_CODE_PATH}`, { body: JSON.stringify(CLAUDE_CODE_BODY), headers: claudeCodeHeaders() });
  expect(res.status).toBe(200);
  await cli.waitFor(/POST \/v1\/messages\?beta=true .* 200 json/);
  cli.child.kill("SIGTERM");
  const done = await cli.exited;
  expect(done.code).toBe(0);
  // The log file's record holds every decision the relay made: the reference for what is shown.
  const record = JSON.parse(readFileSync(log, "utf8").trim()) as { decisions: Array<{ header: string; action: string; reason: string }> };
  return { shown: decisionLines(done.stdout), decisions: record.decisions };
}

/** The column where the action starts, per line (name, two spaces, action). */
function actionColumns(lines: string[], decisions: Array<{ header: string; action: string }>): number[] {
  return lines.map((line, i) => line.indexOf(`  ${decisions[i]!.action}`, 4 + decisions[i]!.header.length - 1));
}

describe("--verbose folds the headers passed through (item 13)", () => {
  it("-v: one line per decision that changed something, one line naming the headers passed through, columns sized to the names shown", async () => {
    const { shown, decisions } = await claudeCodeRequest("-v");
    const passed = decisions.filter((d) => d.action === "forward" && d.reason === "passed through");
    const kept = decisions.filter((d) => !passed.includes(d));
    expect(passed.length).toBeGreaterThan(5);
    expect(shown).toHaveLength(kept.length + 1);
    kept.forEach((d, i) => expect(shown[i]!.trimStart().startsWith(`${d.header} `)).toBe(true));
    const folded = shown.at(-1)!;
    expect(folded).toMatch(new RegExp(`^    ${passed.length} headers passed through: `));
    expect(folded).toContain(passed[0]!.header);
    expect(folded).toContain("(-vv lists them)");
    // Aligned: every action starts in one column, two spaces after the longest name shown.
    const longest = Math.max(...kept.map((d) => d.header.length));
    expect(new Set(actionColumns(shown.slice(0, -1), kept))).toEqual(new Set([4 + longest]));
  });

  it("-vv: every decision on its own line, aligned", async () => {
    const { shown, decisions } = await claudeCodeRequest("-vv");
    expect(shown).toHaveLength(decisions.length);
    decisions.forEach((d, i) => expect(shown[i]!.trimStart().startsWith(`${d.header} `)).toBe(true));
    expect(shown.join("\n")).not.toContain("headers passed through:");
    const longest = Math.max(...decisions.map((d) => d.header.length));
    expect(new Set(actionColumns(shown, decisions))).toEqual(new Set([4 + longest]));
  });

  it("exec -v folds the same way and exec -vv lists every header (its log is the terminal's only record)", async () => {
    const child = path.join(ROOT, "test", "fixtures", "children", "request.mjs");
    const folded = await runCli(["exec", "-c", config, "--no-inspect", "--log-file", "-", "-v", "--", process.execPath, child], { env: cleanEnv(home, { CLAUDE_CODE_OAUTH_TOKEN: OAUTH_TOKEN }), cwd: home });
    const listed = await runCli(["exec", "-c", config, "--no-inspect", "--log-file", "-", "-vv", "--", process.execPath, child], { env: cleanEnv(home, { CLAUDE_CODE_OAUTH_TOKEN: OAUTH_TOKEN }), cwd: home });
    expect([folded.code, listed.code]).toEqual([0, 0]);
    expect(folded.stderr).toMatch(/^ {4}\d+ headers? passed through: .*anthropic-version.* \(-vv lists them\)$/m);
    expect(folded.stderr).not.toMatch(/^ {4}anthropic-version +forward/m);
    expect(listed.stderr).toMatch(/^ {4}anthropic-version +forward +2023-06-01 +\(passed through\)$/m);
    expect(listed.stderr).not.toContain("headers passed through:");
  });
});

describe("a withheld OAuth token is marked (item 14)", () => {
  it("marks each request line whose token was withheld and says once which setting allows it; a forwarded token is not marked", async () => {
    upstream.handle((_req, res) => sendJson(res, 401, { type: "error", error: { type: "authentication_error", message: "invalid x-api-key" } }));
    const cli = start([]);
    const url = await listening(cli);
    for (const prefix of ["/gateway", "/gateway", "/anthropic"]) {
      await send(`${url}${prefix}/v1/messages`, { body: MESSAGE, headers: { "anthropic-version": "2023-06-01", authorization: `Bearer ${OAUTH_TOKEN}` } });
    }
    await cli.waitFor(/\/anthropic\/v1\/messages/);
    cli.child.kill("SIGTERM");
    const done = await cli.exited;
    expect(done.code).toBe(0);
    const lines = done.stdout.split("\n").filter((l) => l.includes(" POST "));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/→ gateway oauth withheld 401/);
    expect(lines[1]).toMatch(/→ gateway oauth withheld 401/);
    expect(lines[2]).toMatch(/→ anthropic 401/);
    expect(lines[2]).not.toContain("oauth withheld");
    const hints = done.stderr.split("\n").filter((l) => l.includes("oauth withheld"));
    expect(hints).toHaveLength(1);
    expect(hints[0]).toContain('set oauth: "forward" on providers.gateway');
    // The gateway really got no token, and no output holds one.
    expect(upstream.received.filter((r) => r.url.startsWith("/gw")).map((r) => r.headers.authorization)).toEqual([undefined, undefined]);
    for (const form of leakForms(OAUTH_TOKEN)) expect(done.stdout + done.stderr).not.toContain(form);
  });
});

describe("upstream errors on the line and in the record (item 15)", () => {
  const longMessage =
    `Number of request tokens has exceeded your per-minute rate limit for key ${ANTHROPIC_API_KEY}; ` +
    "see the rate limits page for the limits that apply to your organization and how to raise them, or contact sales.";

  it.each([
    {
      shape: "Anthropic",
      status: 429,
      body: { type: "error", error: { type: "rate_limit_error", message: longMessage } },
      headers: { "request-id": "req_011CVrelayTest", "retry-after": "17" } as Record<string, string>,
      expected: { type: "rate_limit_error", requestId: "req_011CVrelayTest", retryAfter: "17" },
      line: /429 json .* rate_limit_error: Number of request tokens has exceeded .*… request-id req_011CVrelayTest retry-after 17s/,
    },
    {
      shape: "OpenAI",
      status: 400,
      body: { error: { message: "Invalid value for 'model'.", type: "invalid_request_error", code: "model_not_found", param: "model" } },
      headers: { "x-request-id": "req_openaiTest42" } as Record<string, string>,
      expected: { type: "invalid_request_error", code: "model_not_found", message: "Invalid value for 'model'.", requestId: "req_openaiTest42" },
      line: /400 json .* invalid_request_error\/model_not_found: Invalid value for 'model'\. request-id req_openaiTest42$/m,
    },
  ])("$shape: type, shortened redacted message, request-id and retry-after; the client still gets the body untouched", async ({ status, body, headers, expected, line }) => {
    upstream.handle((_req, res) => sendJson(res, status, body, headers));
    const log = path.join(home, `errors-${status}.ndjson`);
    rmSync(log, { force: true });
    const cli = start(["--log-file", log]);
    const url = await listening(cli);
    const res = await send(`${url}/v1/messages`, { body: MESSAGE, headers: { "anthropic-version": "2023-06-01" } });
    expect(res.status).toBe(status);
    expect(res.json()).toEqual(body);
    await cli.waitFor(new RegExp(` ${status} json`));
    cli.child.kill("SIGTERM");
    const done = await cli.exited;
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(line);
    const record = JSON.parse(readFileSync(log, "utf8").trim()) as { upstreamError: Record<string, string> };
    expect(record.upstreamError).toMatchObject(expected);
    const sent = body.error.message;
    const message = record.upstreamError.message!;
    expect(message.length).toBeLessThanOrEqual(120);
    // What is kept is the start of what the upstream said (a secret in it redacted).
    expect(sent.startsWith(message.replace(/…$/, "").split(" sk-ant-")[0]!)).toBe(true);
    for (const secret of ALL_TEST_SECRETS) for (const form of leakForms(secret)) expect(done.stdout + done.stderr + readFileSync(log, "utf8")).not.toContain(form);
  });

  it("a secret the upstream echoes in its message is printed only redacted", async () => {
    upstream.handle((_req, res) => sendJson(res, 401, { type: "error", error: { type: "authentication_error", message: `invalid x-api-key ${ANTHROPIC_API_KEY}` } }));
    const cli = start(["--json"]);
    const url = await listening(cli);
    await send(`${url}/v1/messages`, { body: MESSAGE, headers: { "anthropic-version": "2023-06-01" } });
    await cli.waitFor(/"status":401/);
    cli.child.kill("SIGTERM");
    const done = await cli.exited;
    const record = JSON.parse(done.stdout.trim()) as { upstreamError: { message: string } };
    expect(record.upstreamError.message).toMatch(/^invalid x-api-key sk-ant-api03-…\[len=\d+ #[0-9a-f]{6}\]$/);
    for (const form of leakForms(ANTHROPIC_API_KEY)) expect(done.stdout + done.stderr).not.toContain(form);
  });
});
