/**
 * The leak test (DESIGN §8, §9): the built binary runs `start --verbose`, `start --json` and
 * `start --verbose --json` against a mock upstream; every test secret is sent through it (OAuth
 * in authorization and x-api-key, API keys, the relay token in the path and a header, an
 * injected `{ env }` apiKey, `?key=` query secrets, an unreachable upstream). Everything the
 * process printed, and its log file, must hold no secret raw, base64, URL-encoded or by its
 * last 8 characters.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLAUDE_CODE_BODY, CLAUDE_CODE_PATH, claudeCodeHeaders } from "../fixtures/claude-code.js";
import {
  ANTHROPIC_API_KEY,
  findLeaks,
  GATEWAY_TOKEN,
  GOOGLE_API_KEY,
  GOOGLE_OAUTH,
  INJECTED_KEY,
  OAUTH_TOKEN,
  OAUTH_TOKEN_2,
  OPENAI_KEY,
  OPENROUTER_KEY,
  RELAY_TOKEN,
} from "../fixtures/tokens.js";
import { send } from "../helpers/client.js";
import { cleanEnv, runCli, startCli, type CliResult } from "../helpers/cli.js";
import { mockedDefaults } from "../helpers/relay.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";

let upstream: MockUpstream;
let home: string;
let configFile: string;

beforeAll(async () => {
  upstream = await startMockUpstream();
  home = await mkdtemp(path.join(os.tmpdir(), "llm-relay-leak-"));
  configFile = path.join(home, "relay.json");
  await writeFile(
    configFile,
    JSON.stringify({
      providers: {
        ...mockedDefaults(upstream.url).providers,
        thirdparty: { kind: "anthropic", baseUrl: `${upstream.url}/thirdparty` },
        injected: { kind: "anthropic", baseUrl: `${upstream.url}/injected`, apiKey: { env: "TEST_INJECTED_KEY" } },
        gemini: { kind: "gemini", baseUrl: `${upstream.url}/gemini` },
        gateway: { kind: "generic", baseUrl: `${upstream.url}/gateway` },
        // nothing listens on port 1: the relay's own 502 and its error text are checked too
        dead: { kind: "anthropic", baseUrl: "http://127.0.0.1:1/dead" },
      },
      // a route that matches on a credential: its value is printed in the banner, config and every record's route
      routes: [
        { header: { "x-api-key": ANTHROPIC_API_KEY }, provider: "anthropic" },
        { header: { "x-team": `t-${OPENROUTER_KEY}` }, provider: "anthropic" },
      ],
    }),
  );
});
afterAll(async () => {
  await upstream?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

interface Probe {
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** The integration suite's requests, with every secret somewhere. `T` is the relay token prefix. */
const T = `/_t/${RELAY_TOKEN}`;
const json = JSON.stringify({ model: "claude-test", max_tokens: 8, messages: [{ role: "user", content: "hi" }] });
const probes: Probe[] = [
  { path: `${T}${CLAUDE_CODE_PATH}`, headers: claudeCodeHeaders(), body: CLAUDE_CODE_BODY },
  { path: `${T}/thirdparty/v1/messages`, headers: claudeCodeHeaders(OAUTH_TOKEN_2) },
  { path: `${T}/v1/chat/completions`, headers: { authorization: `Bearer ${OAUTH_TOKEN}`, "x-api-key": OPENAI_KEY } },
  { path: `${T}/v1/chat/completions`, headers: { authorization: `Bearer ${OPENAI_KEY}` } },
  { path: `${T}/injected/v1/messages`, headers: { authorization: `Bearer ${OAUTH_TOKEN}`, "x-api-key": ANTHROPIC_API_KEY } },
  { path: `${T}/v1/messages`, headers: { "x-api-key": OAUTH_TOKEN_2, "anthropic-version": "2023-06-01" } },
  { path: "/v1/messages", headers: { "x-llm-relay-token": RELAY_TOKEN, "x-api-key": ANTHROPIC_API_KEY, "x-trace": `t-${RELAY_TOKEN}` } },
  { path: `${T}/gemini/v1beta/models/gemini-2.5-pro:generateContent?key=${GOOGLE_API_KEY}&alt=sse`, headers: { "x-goog-api-key": GOOGLE_API_KEY, authorization: `Bearer ${GOOGLE_OAUTH}` } },
  { path: `${T}/gateway/v1/chat/completions?api_key=${GATEWAY_TOKEN}`, headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "x-openrouter-key": OPENROUTER_KEY } },
  { path: `${T}/dead/v1/messages?key=${GOOGLE_API_KEY}`, headers: { authorization: `Bearer ${OAUTH_TOKEN}` } },
  // refused: wrong token in the path, the real one in a header; and a secret-bearing unknown path
  { path: `/_t/${RELAY_TOKEN.slice(0, -1)}x/v1/messages`, headers: { "x-api-key": ANTHROPIC_API_KEY } },
  { path: `${T}/_relay/nothing?token=${RELAY_TOKEN}`, headers: { authorization: `Bearer ${OAUTH_TOKEN}` } },
  // issue 12: the token in a non-credential header, in shapes a fixed rule missed (printed even on withhold lines)
  { path: `${T}/thirdparty/v1/messages`, headers: { "x-a": `<${OAUTH_TOKEN}>`, "x-b": `id(${OAUTH_TOKEN_2})`, "x-c": `[${OAUTH_TOKEN}]`, referer: `http://127.0.0.1:9/cb/${OAUTH_TOKEN}` } },
  { path: `${T}/v1/messages`, headers: { "x-a": `<${OAUTH_TOKEN}>`, referer: `http://127.0.0.1:9/cb/${OAUTH_TOKEN_2}`, "x-d": Buffer.from(`u:${OPENAI_KEY}`).toString("base64") } },
  // query parameters under names no list holds, and path segments
  { path: `${T}/v1/messages?x-api-key=${ANTHROPIC_API_KEY}&anthropic_api_key=${OPENAI_KEY}`, headers: {} },
  { path: `${T}/v1/messages?q=${OAUTH_TOKEN}&authorization=Bearer%20${OAUTH_TOKEN_2}`, headers: {} },
  { path: `${T}/v1/messages;${OAUTH_TOKEN}`, headers: {} },
  { path: `${T}/v1/key=${GOOGLE_API_KEY}/messages`, headers: {} },
  { path: `${T}/v1/messages?q=${OPENROUTER_KEY.replace(/-/g, "%2D")}`, headers: {} },
  // the relay token twice, and as a query value
  { path: `${T}${T}/v1/messages?session=${RELAY_TOKEN}`, headers: {} },
];

/** Requests that make a record: the one under /_relay/ is the inspector's, not traffic. */
const recorded = probes.filter((p) => !p.path.includes("/_relay/"));

async function runStart(flags: string[]): Promise<{ result: CliResult; log: string }> {
  const logFile = path.join(home, `log-${flags.join("")}.ndjson`);
  const cli = startCli(["start", "--port", "0", "-c", configFile, "--log-file", logFile, ...flags], {
    env: cleanEnv(home, { LLM_RELAY_TOKEN: RELAY_TOKEN, TEST_INJECTED_KEY: INJECTED_KEY }),
    cwd: home,
  });
  try {
    const [, url] = await cli.waitFor(/listening\s+(http:\/\/127\.0\.0\.1:\d+)/);
    for (const probe of probes) {
      await send(`${url}${probe.path}`, { method: "POST", headers: probe.headers, body: probe.body ?? json });
    }
    // Each request's record is printed when it finishes; wait until all are out, then stop.
    const expected = recorded.length;
    const countRecords = () =>
      flags.includes("--json")
        ? cli.stdout().split("\n").filter((l) => l.startsWith("{")).length
        : cli.stdout().split("\n").filter((l) => /^\d\d:\d\d:\d\d /.test(l)).length;
    const deadline = Date.now() + 10_000;
    while (countRecords() < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(countRecords(), cli.stdout()).toBe(expected);
  } finally {
    cli.child.kill("SIGINT");
  }
  const result = await cli.exited;
  const log = await readFile(logFile, "utf8").catch(() => "");
  return { result, log };
}

describe("no secret in any output of start", () => {
  it("--verbose: request lines and decision lines, no secret in any form", async () => {
    const { result, log } = await runStart(["--verbose"]);
    const everything = `${result.stdout}\n${result.stderr}\n${log}`;
    expect(findLeaks(everything)).toEqual([]);
    // the banner showed the credential route, redacted
    expect(`${result.stdout}${result.stderr}`).toMatch(/header x-api-key: sk-ant-api03-…\[len=108 #[0-9a-f]{6}\] → anthropic/);
    expect(`${result.stdout}${result.stderr}`).toMatch(/header x-team: t-sk-or-v1-…\[len=73 #[0-9a-f]{6}\] → anthropic/);
    expect(result.code).toBe(0);
    // the decisions were printed, redacted
    expect(result.stdout).toMatch(/authorization\s+forward\s+Bearer sk-ant-oat01-…\[len=108 #[0-9a-f]{6}\]/);
    expect(result.stdout).toMatch(/authorization\s+withhold\s+Bearer sk-ant-oat01-…\[len=108 #[0-9a-f]{6}\]/);
    expect(result.stdout).toMatch(/x-api-key\s+set\s+sk-or-v1-…\[len=73 #[0-9a-f]{6}\]/);
    expect(result.stdout).toMatch(/key=AIza…\[len=39 #[0-9a-f]{6}\]/);
    expect(result.stdout).toContain(" 502 ");
    expect(result.stdout).toContain(" 401 ");
    // the log file got the records too (NDJSON, decisions since --verbose)
    expect(log.trim().split("\n")).toHaveLength(recorded.length);
  });

  it("--json: NDJSON records only on stdout, no secret in any form", async () => {
    const { result, log } = await runStart(["--json"]);
    expect(findLeaks(`${result.stdout}\n${result.stderr}\n${log}`)).toEqual([]);
    const records = result.stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toHaveLength(recorded.length);
    for (const record of records) {
      expect(record.type).toBe("request");
      expect(record.decisions).toBeUndefined();
    }
  });

  it("--verbose --json: every record carries its decisions, redacted", async () => {
    const { result, log } = await runStart(["--verbose", "--json"]);
    expect(findLeaks(`${result.stdout}\n${result.stderr}\n${log}`)).toEqual([]);
    const records = result.stdout.trim().split("\n").map((line) => JSON.parse(line) as { status: number; provider?: string; decisions?: Array<{ header: string; action: string; value: string }> });
    expect(records).toHaveLength(recorded.length);
    const routed = records.filter((r) => r.provider !== undefined);
    expect(routed.length).toBeGreaterThanOrEqual(9);
    for (const record of routed) {
      expect(record.decisions?.length, JSON.stringify(record)).toBeGreaterThan(0);
    }
    const first = records[0]!;
    expect(first.decisions!.find((d) => d.header === "authorization")).toMatchObject({ action: "forward" });
    expect(first.decisions!.find((d) => d.header === "connection")).toMatchObject({ action: "strip" });
    // the route that matched on a credential is named redacted
    expect(records.map((r) => (r as { route?: string }).route).filter((r) => r?.startsWith("routes[0]"))[0]).toMatch(/^routes\[0\] \(header x-api-key: sk-ant-api03-…\[len=108/);
    const injected = records.find((r) => r.provider === "injected")!;
    expect(injected.decisions!.find((d) => d.header === "x-api-key")).toMatchObject({ action: "set" });
  });
});

describe("no secret in the other outputs (issue 12)", () => {
  const env = (extra: NodeJS.ProcessEnv = {}) => cleanEnv(home, { TEST_INJECTED_KEY: INJECTED_KEY, ...extra });

  it("config and config --json show a credential route redacted", async () => {
    for (const flags of [[], ["--json"]]) {
      const result = await runCli(["config", "-c", configFile, ...flags], { env: env(), cwd: home });
      expect(result.code, result.stderr).toBe(0);
      expect(findLeaks(`${result.stdout}\n${result.stderr}`)).toEqual([]);
      expect(result.stdout).toMatch(/sk-ant-api03-…\[len=108 #[0-9a-f]{6}\]/);
    }
  });

  it("doctor shows ANTHROPIC_BASE_URL, OPENAI_BASE_URL and HTTPS_PROXY with their secrets redacted", async () => {
    const result = await runCli(["doctor"], {
      env: env({
        ANTHROPIC_BASE_URL: `https://gw.example/v1?x-api-key=${ANTHROPIC_API_KEY}`,
        OPENAI_BASE_URL: `https://gw.example/key=${OPENAI_KEY}/v1`,
        HTTPS_PROXY: `http://proxy.example:3128/${OAUTH_TOKEN}?q=${encodeURIComponent(GOOGLE_OAUTH)}`,
        NO_PROXY: "127.0.0.1,localhost",
      }),
      cwd: home,
      timeoutMs: 30_000,
    });
    expect(findLeaks(`${result.stdout}\n${result.stderr}`)).toEqual([]);
    expect(result.stdout).toContain("ANTHROPIC_BASE_URL");
    expect(result.stdout).toMatch(/x-api-key=sk-ant-api03-…\[len=108/);
    expect(result.stdout).toMatch(/HTTPS_PROXY=http:\/\/proxy\.example:3128\/sk-ant-oat01-…\[len=108/);
  });

  it.each([
    ["?x-api-key=", `/v1/messages?x-api-key=${ANTHROPIC_API_KEY}`],
    ["?q= and ?anthropic_api_key=", `/v1/messages?q=${OAUTH_TOKEN}&anthropic_api_key=${OPENAI_KEY}`],
    ["a ;segment", `/v1/messages;${OAUTH_TOKEN_2}`],
    ["a key= segment", `/v1/key=${GOOGLE_API_KEY}/messages`],
    ["the relay token twice and as ?session=", `/_t/${RELAY_TOKEN}/_t/${RELAY_TOKEN}/v1/messages?session=${RELAY_TOKEN}`],
  ])("explain --path with %s prints no secret (text and --json)", async (_label, target) => {
    for (const flags of [[], ["--json"]]) {
      const result = await runCli(["explain", "-c", configFile, "--path", target, ...flags], { env: env({ LLM_RELAY_TOKEN: RELAY_TOKEN }), cwd: home });
      expect(findLeaks(`${result.stdout}\n${result.stderr}`), result.stdout).toEqual([]);
    }
  });

  it("exec's warning about a replaced ANTHROPIC_BASE_URL prints no secret", async () => {
    const result = await runCli(["exec", "-c", configFile, "--", "node", "-e", ""], {
      env: env({ ANTHROPIC_BASE_URL: `https://gw.example/anthropic?anthropic_api_key=${ANTHROPIC_API_KEY}&q=${OAUTH_TOKEN}`, OPENAI_BASE_URL: `https://gw.example/${OPENAI_KEY}/v1` }),
      cwd: home,
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/ANTHROPIC_BASE_URL is set \(https:\/\/gw\.example\/anthropic\?anthropic_api_key=sk-ant-api03-…/);
    expect(findLeaks(`${result.stdout}\n${result.stderr}`)).toEqual([]);
  });
});
