/**
 * `llm-relay explain` (DESIGN §2): prints the chosen provider and every header decision, offline,
 * and agrees with the live relay: the same config file and the same header lines give the same
 * provider, upstream URL and decisions (only the `via` instance id differs, by design).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLAUDE_CODE_BODY, claudeCodeHeaders } from "../fixtures/claude-code.js";
import { ANTHROPIC_API_KEY, findLeaks, INJECTED_KEY, OAUTH_TOKEN, OAUTH_TOKEN_2, OPENAI_KEY, RELAY_TOKEN } from "../fixtures/tokens.js";
import { cleanEnv, runCli, startCli, type RunningCli } from "../helpers/cli.js";
import { mockedDefaults } from "../helpers/relay.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";

interface Decision {
  header: string;
  action: string;
  reason: string;
  value: string;
}
interface ExplainJson {
  provider: string | null;
  route?: string;
  upstream?: string;
  decisions?: Decision[];
  status?: number;
}
interface LiveRecord {
  path: string;
  provider?: string;
  route?: string;
  upstream?: string;
  status: number;
  decisions?: Decision[];
}

let upstream: MockUpstream;
let home: string;
let configFile: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  upstream = await startMockUpstream();
  home = await mkdtemp(path.join(os.tmpdir(), "llm-relay-explain-"));
  configFile = path.join(home, "relay.json");
  await writeFile(
    configFile,
    JSON.stringify({
      providers: {
        ...mockedDefaults(upstream.url).providers,
        thirdparty: { kind: "anthropic", baseUrl: `${upstream.url}/thirdparty`, betas: { remove: ["interleaved-thinking-2025-05-14"] } },
        injected: { kind: "anthropic", baseUrl: `${upstream.url}/injected`, apiKey: { env: "TEST_INJECTED_KEY" }, headers: { set: { "x-team": "blue" } } },
      },
      routes: [{ model: "claude-3-5-haiku*", provider: "thirdparty" }],
    }),
  );
  env = cleanEnv(home, { LLM_RELAY_TOKEN: RELAY_TOKEN, TEST_INJECTED_KEY: INJECTED_KEY });
});
afterAll(async () => {
  await upstream?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

async function explain(args: string[], extraEnv: NodeJS.ProcessEnv = {}) {
  return runCli(["explain", "-c", configFile, ...args], { env: { ...env, ...extraEnv }, cwd: home });
}

/** Header lines sent byte for byte, so the relay sees exactly what explain is given. */
type HeaderLines = Array<[string, string]>;

function rawRequest(url: string, target: string, headers: HeaderLines, body: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), "127.0.0.1");
    let response = "";
    // Resolve once the whole response arrived: a keep-alive connection is not closed for us.
    socket.on("data", (d: Buffer) => {
      response += d.toString();
      const headEnd = response.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length: *(\d+)/i.exec(response.slice(0, headEnd));
      if (headEnd !== -1 && length && Buffer.byteLength(response.slice(headEnd + 4)) >= Number(length[1])) {
        socket.destroy();
        resolve(response);
      }
    });
    socket.on("end", () => resolve(response));
    socket.on("error", reject);
    const head = [`POST ${target} HTTP/1.1`, ...headers.map(([n, v]) => `${n}: ${v}`)].join("\r\n");
    socket.write(`${head}\r\n\r\n${body}`);
  });
}

const haikuBody = JSON.stringify({ model: "claude-3-5-haiku-latest", max_tokens: 8, messages: [{ role: "user", content: "hi" }] });
const plainBody = JSON.stringify({ max_tokens: 8, messages: [{ role: "user", content: "hi" }] });

/** [label, request target, header lines (host added per relay), body, model for explain] */
const cases: Array<[string, string, HeaderLines, string, string | undefined]> = [
  ["Claude Code to the trusted origin", `/_t/${RELAY_TOKEN}/v1/messages?beta=true`, Object.entries(claudeCodeHeaders()), CLAUDE_CODE_BODY, "claude-sonnet-4-5-20250929"],
  ["model route to a third party: OAuth withheld, betas.remove", `/_t/${RELAY_TOKEN}/v1/messages`,
    [["authorization", `Bearer ${OAUTH_TOKEN}`], ["anthropic-beta", "oauth-2025-04-20,interleaved-thinking-2025-05-14,x-1"], ["anthropic-version", "2023-06-01"]], haikuBody, "claude-3-5-haiku-latest"],
  ["injected apiKey and headers.set", `/_t/${RELAY_TOKEN}/injected/v1/messages`,
    [["x-api-key", ANTHROPIC_API_KEY], ["authorization", `Bearer ${OAUTH_TOKEN_2}`], ["cookie", "a=b"]], plainBody, undefined],
  ["misplaced OAuth and the relay's own headers", "/v1/messages",
    [["x-llm-relay-token", RELAY_TOKEN], ["x-trace", `t-${RELAY_TOKEN}`], ["x-api-key", OAUTH_TOKEN], ["x-llm-relay-debug", "1"], ["connection", "close, x-hop"], ["x-hop", "1"]], plainBody, undefined],
  ["OpenAI path with an OAuth token and a key", `/_t/${RELAY_TOKEN}/v1/chat/completions`,
    [["authorization", `Bearer ${OAUTH_TOKEN}`], ["api-key", OPENAI_KEY], ["user-agent", "OpenAI/JS 6.0"]], plainBody, undefined],
];

function normaliseVia(decisions: Decision[] | undefined): Decision[] {
  return (decisions ?? []).map((d) => (d.header === "via" ? { ...d, value: d.value.replace(/llm-relay-[\w-]+$/, "llm-relay-<instance>") } : d));
}

describe("explain agrees with the live relay", () => {
  let relay: RunningCli;
  let url: string;

  beforeAll(async () => {
    relay = startCli(["start", "--port", "0", "-c", configFile, "--verbose", "--json"], { env, cwd: home });
    url = (await relay.waitFor(/listening\s+(http:\/\/127\.0\.0\.1:\d+)/))[1]!;
  });
  afterAll(async () => {
    relay?.child.kill("SIGINT");
    await relay?.exited;
  });

  it.each(cases)("%s", async (_label, target, headerLines, body, model) => {
    const host = new URL(url).host;
    const lines: HeaderLines = [["host", host], ...headerLines.filter(([n]) => n !== "connection"), ["content-length", String(Buffer.byteLength(body))]];
    if (!headerLines.some(([n]) => n === "connection")) lines.push(["connection", "close"]);
    else lines.push(headerLines.find(([n]) => n === "connection")!);

    const before = relay.stdout().split("\n").filter((l) => l.startsWith("{")).length;
    const response = await rawRequest(url, target, lines, body);
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    let records: LiveRecord[] = [];
    const deadline = Date.now() + 5000;
    while (records.length <= before && Date.now() < deadline) {
      records = relay.stdout().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as LiveRecord);
      await new Promise((r) => setTimeout(r, 20));
    }
    const live = records[before]!;
    expect(live).toBeDefined();

    const flags = ["--json", "--path", target, ...(model ? ["--model", model] : []), "-H", ...lines.map(([n, v]) => `${n}: ${v}`)];
    const dry = await explain(flags);
    expect(dry.code, dry.stderr).toBe(0);
    const planned = JSON.parse(dry.stdout) as ExplainJson;

    expect(planned.provider).toBe(live.provider);
    expect(planned.route).toBe(live.route);
    expect(planned.upstream).toBe(live.upstream);
    expect(normaliseVia(planned.decisions)).toEqual(normaliseVia(live.decisions));
    expect(planned.decisions!.length).toBeGreaterThan(3);
    // the only difference is the via instance id
    const viaOf = (ds: Decision[] | undefined) => ds?.find((d) => d.header === "via")?.value;
    expect(viaOf(planned.decisions)).toBe("1.1 llm-relay-explain");
    expect(viaOf(live.decisions)).toMatch(/^1\.1 llm-relay-[0-9a-f]{8}$/);
    expect(findLeaks(`${dry.stdout}${dry.stderr}`)).toEqual([]);
  });
});

describe("explain output", () => {
  it("prints the config, request, chosen provider, upstream and one line per decision", async () => {
    const result = await explain([
      "--path", "/v1/messages?beta=true", "--model", "claude-3-5-haiku-20241022",
      "-H", `authorization: Bearer ${OAUTH_TOKEN}`, "-H", "anthropic-beta: oauth-2025-04-20,x-1", "-H", "x-stainless-os: Linux",
    ]);
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toContain(`config    ${configFile} (--config)`);
    expect(out).toContain("request   POST /v1/messages?beta=true  model claude-3-5-haiku-20241022");
    expect(out).toMatch(/^provider  thirdparty \(anthropic\) via routes\[0\] \(model claude-3-5-haiku\*\)$/m);
    expect(out).toMatch(/^trust     oauth strip, clientKeys strip$/m);
    expect(out).toContain(`upstream  ${upstream.url}/thirdparty/v1/messages?beta=true`);
    expect(out).toMatch(/^ {2}authorization\s+withhold\s+Bearer sk-ant-oat01-…\[len=108 #[0-9a-f]{6}\]\s+\(Anthropic OAuth token is not trusted/m);
    expect(out).toMatch(/^ {2}anthropic-beta\s+rewrite\s+x-1\s+\(removed oauth-2025-04-20/m);
    expect(out).toMatch(/^ {2}x-stainless-os\s+forward\s+Linux/m);
    expect(out).toMatch(/^ {2}via\s+set\s+1\.1 llm-relay-explain/m);
    // Host defaults to the listen address, as on a live request, and is set to the upstream's
    expect(out).toContain(`  host            set       ${new URL(upstream.url).host}`);
    expect(findLeaks(`${out}${result.stderr}`)).toEqual([]);
  });

  it("works with no network: sockets and DNS fail in the process, explain still answers", async () => {
    const preload = path.join(home, "no-network.cjs");
    await writeFile(
      preload,
      `const net = require("node:net"); const dns = require("node:dns");
       const boom = () => { process.stderr.write("NETWORK USED\\n"); process.exit(99); };
       net.Socket.prototype.connect = boom; dns.lookup = boom; dns.promises.lookup = boom;`,
    );
    const offline = path.join(home, "offline.json");
    await writeFile(offline, JSON.stringify({ providers: { far: { kind: "anthropic", baseUrl: "https://llm.invalid/api", oauth: "forward" } }, defaultProvider: "far" }));
    const result = await runCli(["explain", "-c", offline, "--json", "-H", `authorization: Bearer ${OAUTH_TOKEN}`], {
      env: { ...env, NODE_OPTIONS: `--require ${preload}` },
      cwd: home,
    });
    expect(result.stderr).not.toContain("NETWORK USED");
    expect(result.code, result.stderr).toBe(0);
    const planned = JSON.parse(result.stdout) as ExplainJson;
    expect(planned.provider).toBe("anthropic");
    const viaDefault = await runCli(["explain", "-c", offline, "--json", "--path", "/v2/other", "-H", `authorization: Bearer ${OAUTH_TOKEN}`], {
      env: { ...env, NODE_OPTIONS: `--require ${preload}` },
      cwd: home,
    });
    expect(viaDefault.code, viaDefault.stderr).toBe(0);
    const far = JSON.parse(viaDefault.stdout) as ExplainJson;
    expect(far.provider).toBe("far");
    expect(far.upstream).toBe("https://llm.invalid/api/v2/other");
    expect(far.decisions?.find((d) => d.header === "authorization")?.action).toBe("forward");
  });

  it.each([
    ["no route: says the relay answers 404", ["--path", "/v2/unknown"], 0, /provider {2}none: the relay answers 404/],
    ["-H without a colon: clear error", ["-H", "authorization"], 1, /^llm-relay: -H expects 'name: value'/m],
    ["-H with a bad name: clear error", ["-H", "bad name: x"], 1, /^llm-relay: -H: "bad name" is not a header name/m],
    ["--path without a slash: clear error", ["--path", "v1/messages"], 1, /^llm-relay: --path must start with "\/"/m],
  ] as Array<[string, string[], number, RegExp]>)("%s", async (_label, args, code, pattern) => {
    const result = await explain(args);
    expect(result.code).toBe(code);
    expect(`${result.stdout}${result.stderr}`).toMatch(pattern);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
