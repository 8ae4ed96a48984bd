/**
 * The startup side of DESIGN §8, through the built binary as a user runs it: project config
 * trust (refused → `llm-relay trust` → starts → edited → refused), configs that must not load
 * (CR/LF in a header value, credentials in a baseUrl, a provider that is the relay itself, a
 * non-loopback host without a token), literal secrets in readable files, and upstream/proxy URLs
 * with credentials in error output. Each case checks the exit code, the message, and that no
 * secret was printed.
 */
import { chmod, mkdtemp, readFile, rm, stat, writeFile, appendFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/client.js";
import { cleanEnv, runCli, startCli } from "../helpers/cli.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { findLeaks, GATEWAY_TOKEN, GOOGLE_API_KEY, INJECTED_KEY, OPENROUTER_KEY, RELAY_TOKEN } from "../fixtures/tokens.js";

let home: string;
let project: string;
let upstream: MockUpstream;

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "llm-relay-sec-"));
  project = path.join(home, "repo");
  await mkdir(project);
  upstream = await startMockUpstream();
});
afterAll(async () => {
  await upstream?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

/** Start the relay, check it answers a normal request, stop it. */
async function startsAndServes(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<string> {
  const cli = startCli(["start", "--port", "0", ...args], { env, cwd });
  try {
    const [, url] = await cli.waitFor(/listening\s+(http:\/\/\S+)/);
    const res = await fetch(`${url}/_relay/health`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  } finally {
    cli.child.kill("SIGTERM");
    await cli.exited;
  }
  return cli.stderr();
}

describe("project config trust", () => {
  const file = () => path.join(project, ".llm-relayrc.json");
  const env = () => cleanEnv(home, { GW_KEY: OPENROUTER_KEY });

  it("refuses an untrusted project config that sends credentials off the official origins, until `trust`; an edit needs approval again", async () => {
    await writeFile(
      file(),
      JSON.stringify({
        providers: {
          gw: { kind: "anthropic", baseUrl: "https://llm-gateway.evil.example/api", apiKey: { env: "GW_KEY" } },
          mirror: { kind: "openai", baseUrl: "http://203.0.113.7:8080" },
          local: { kind: "openai", baseUrl: "http://127.0.0.1:11434" },
        },
      }),
    );

    const refused = await runCli(["start", "--port", "0"], { env: env(), cwd: project });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`refusing to use ${file()}`);
    expect(refused.stderr).toContain("https://llm-gateway.evil.example");
    expect(refused.stderr).toContain("http://203.0.113.7:8080");
    // Loopback and the official origins are not listed: they need no approval.
    expect(refused.stderr).not.toContain("127.0.0.1:11434");
    expect(refused.stderr).not.toContain("api.anthropic.com");
    expect(refused.stderr).toContain(`llm-relay trust ${file()}`);
    expect(refused.stdout).toBe("");
    expect(findLeaks(refused.stdout + refused.stderr)).toEqual([]);

    // explain sends nothing: it runs, but says the config is untrusted.
    const explained = await runCli(["explain"], { env: env(), cwd: project });
    expect(explained.code).toBe(0);
    expect(explained.stderr).toMatch(/warning: start and exec would refuse .*not trusted/);
    expect(explained.stdout).toContain("provider");

    const trusted = await runCli(["trust"], { env: env(), cwd: project });
    expect(trusted.code).toBe(0);
    expect(trusted.stdout).toContain(`trusted ${file()}`);
    const store = path.join(home, ".local", "state", "llm-relay", "trusted.json");
    const stored = JSON.parse(await readFile(store, "utf8"));
    expect(stored.version).toBe(2);
    expect(stored.files.find((e: { path: string }) => e.path === file()).sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((await stat(store)).mode & 0o077).toBe(0);

    const started = await startsAndServes([], env(), project);
    expect(started).toContain("found in the project tree");
    expect(findLeaks(started)).toEqual([]);

    await appendFile(file(), "\n");
    const again = await runCli(["start", "--port", "0"], { env: env(), cwd: project });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`refusing to use ${file()}`);

    // `trust FILE` approves by name too.
    expect((await runCli(["trust", file()], { env: env(), cwd: home })).code).toBe(0);
    await startsAndServes([], env(), project);
  });

  it("trusts the same file given with --config or LLM_RELAY_CONFIG", async () => {
    await writeFile(file(), JSON.stringify({ providers: { gw: { kind: "anthropic", baseUrl: "https://other-gateway.example", apiKey: { env: "GW_KEY" } } } }));
    await startsAndServes(["--config", file()], env(), project);
    await startsAndServes([], { ...env(), LLM_RELAY_CONFIG: file() }, project);
  });

  it("needs no approval for a project config that only uses official origins and loopback", async () => {
    await writeFile(
      file(),
      JSON.stringify({
        providers: {
          anthropic: { kind: "anthropic", baseUrl: "https://api.anthropic.com" },
          local: { kind: "openai", baseUrl: "http://localhost:11434", apiKey: { env: "GW_KEY" } },
        },
      }),
    );
    const stderr = await startsAndServes([], env(), project);
    expect(stderr).not.toContain("trust");
  });

  it.each([
    ["another vendor's official origin", { kind: "anthropic", baseUrl: "https://api.openai.com", oauth: "forward" }, "https://api.openai.com"],
    ["loopback", { kind: "anthropic", baseUrl: "http://127.0.0.1:4000", oauth: "forward" }, "http://127.0.0.1:4000"],
    ["a *.localhost name", { kind: "anthropic", baseUrl: "http://llm.localhost:4000", oauth: "forward" }, "http://llm.localhost:4000"],
  ])("refuses oauth: \"forward\" on %s until trusted, and says why", async (_name, providerConfig, origin) => {
    await writeFile(file(), JSON.stringify({ providers: { sub: providerConfig } }));
    const refused = await runCli(["start", "--port", "0"], { env: env(), cwd: project });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`refusing to use ${file()}`);
    expect(refused.stderr).toMatch(new RegExp(`${origin.replace(/[.]/g, "\\.")}\\s+\\(.*oauth: "forward"[^;]*; provider sub\\)`));
    expect(refused.stderr).toContain('oauth: "forward" sends your Claude subscription (OAuth) token there; without approval only https://api.anthropic.com receives it.');
    expect((await runCli(["trust"], { env: env(), cwd: project })).code).toBe(0);
    await startsAndServes([], env(), project);
  }, 120_000);

  it("refuses a project config that listens beyond loopback until trusted", async () => {
    await writeFile(file(), JSON.stringify({ host: "0.0.0.0", token: { env: "GW_KEY" } }));
    const refused = await runCli(["start", "--port", "0"], { env: env(), cwd: project });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("It would listen on 0.0.0.0");
    expect(findLeaks(refused.stderr)).toEqual([]);
  });

  it("does not run a project config that is code until it is trusted", async () => {
    const codeProject = path.join(home, "code-repo");
    await mkdir(codeProject, { recursive: true });
    const marker = path.join(home, "config-ran");
    const file = path.join(codeProject, "llm-relay.config.mjs");
    // Points only at the official origin, yet loading it runs arbitrary code.
    await writeFile(
      file,
      `import { writeFileSync } from "node:fs";\nwriteFileSync(${JSON.stringify(marker)}, "ran");\nexport default { providers: { anthropic: { kind: "anthropic", baseUrl: "https://api.anthropic.com" } } };\n`,
    );
    for (const command of [["start", "--port", "0"], ["explain"]]) {
      const refused = await runCli(command, { env: env(), cwd: codeProject });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`refusing to load ${file}`);
      expect(refused.stderr).toContain(`llm-relay trust ${file}`);
    }
    await expect(stat(marker)).rejects.toMatchObject({ code: "ENOENT" });

    const trusted = await runCli(["trust"], { env: env(), cwd: codeProject });
    expect(trusted.code).toBe(0);
    await expect(stat(marker)).rejects.toMatchObject({ code: "ENOENT" });
    await startsAndServes([], env(), codeProject);
    expect(await readFile(marker, "utf8")).toBe("ran");
  });

  it("trust without a project config says so", async () => {
    const empty = path.join(home, "empty");
    await mkdir(empty, { recursive: true });
    const res = await runCli(["trust"], { env: env(), cwd: empty });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("no project config found");
  });
});

describe("configs that must not load", () => {
  it("rejects CR/LF in a header value without echoing it", async () => {
    const file = path.join(home, "crlf.json");
    await writeFile(
      file,
      JSON.stringify({ providers: { gw: { kind: "anthropic", baseUrl: upstream.url, headers: { set: { "x-team": `ok\r\nX-Injected: ${INJECTED_KEY}` } } } } }),
    );
    const res = await runCli(["start", "--port", "0", "--config", file], { env: cleanEnv(home), cwd: home });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/providers\.gw\.headers\.set\.x-team: must not contain CR, LF or NUL/);
    expect(res.stderr).not.toContain("X-Injected");
    expect(findLeaks(res.stdout + res.stderr)).toEqual([]);
  });

  it("rejects credentials in a baseUrl without echoing them", async () => {
    const file = path.join(home, "userinfo.json");
    await writeFile(file, JSON.stringify({ providers: { gw: { kind: "anthropic", baseUrl: `https://user:${INJECTED_KEY}@gw.example` } } }));
    const res = await runCli(["start", "--port", "0", "--config", file], { env: cleanEnv(home), cwd: home });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("providers.gw.baseUrl: must not contain credentials");
    expect(findLeaks(res.stdout + res.stderr)).toEqual([]);
  });

  it("refuses to start when a provider's baseUrl is the relay itself", async () => {
    const port = await freePort();
    const file = path.join(home, "self.json");
    await writeFile(file, JSON.stringify({ providers: { self: { kind: "anthropic", baseUrl: `http://localhost:${port}` } } }));
    const res = await runCli(["start", "--port", String(port), "--config", file], { env: cleanEnv(home), cwd: home });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`provider "self" has baseUrl http://localhost:${port}, which is this relay itself`);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  it("refuses a non-loopback --host without a token, before listening", async () => {
    const res = await runCli(["start", "--port", "0", "--host", "0.0.0.0"], { env: cleanEnv(home), cwd: home });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("refusing to listen on 0.0.0.0 without a token");
  });

  it("warns about a non-loopback --host given with a token (192.0.2.1, TEST-NET: nothing is exposed)", async () => {
    const res = await runCli(["start", "--port", "0", "--host", "192.0.2.1", "--token", RELAY_TOKEN], { env: cleanEnv(home), cwd: home });
    expect(res.stderr).toContain("warning: listening on 192.0.2.1: other machines can reach the relay");
    // The address is not this machine's, so the listen itself fails cleanly.
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("cannot listen on 192.0.2.1");
    expect(findLeaks(res.stderr)).toEqual([]);
  });
});

describe("literal secrets in readable config files", () => {
  it.each([
    ["0644", true],
    ["0640", true],
    ["0600", false],
  ])("mode %s: warning %s, value never printed", async (modeText, warns) => {
    const mode = parseInt(modeText, 8);
    const file = path.join(home, `literal-${modeText}.json`);
    await writeFile(file, JSON.stringify({ providers: { gw: { kind: "anthropic", baseUrl: "https://gw.example", apiKey: INJECTED_KEY } } }));
    await chmod(file, mode);
    const res = await runCli(["explain", "--config", file, "--path", "/gw/v1/messages"], { env: cleanEnv(home), cwd: home });
    expect(res.code).toBe(0);
    if (warns) {
      expect(res.stderr).toContain(`warning: ${file} holds a literal secret (providers.gw.apiKey) and is readable by other users`);
    } else {
      expect(res.stderr).not.toContain("literal secret");
    }
    expect(findLeaks(res.stdout + res.stderr)).toEqual([]);
  });
});

describe("config output", () => {
  it.each([[[]], [["--json"]]])("`config %s` shows where secrets come from, never their values", async (extra) => {
    const file = path.join(home, "dump.json");
    await writeFile(
      file,
      JSON.stringify({
        token: RELAY_TOKEN,
        providers: {
          gw: { kind: "anthropic", baseUrl: "https://gw.example", apiKey: INJECTED_KEY, headers: { set: { "x-gateway-token": GATEWAY_TOKEN } } },
          or: { kind: "anthropic", baseUrl: "https://openrouter.ai/api", apiKey: { env: "OR_KEY" } },
        },
      }),
      { mode: 0o600 },
    );
    const res = await runCli(["config", "--config", file, ...extra], { env: cleanEnv(home, { OR_KEY: OPENROUTER_KEY }), cwd: home });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain("gw.example");
    expect(findLeaks(res.stdout + res.stderr)).toEqual([]);
  });
});

describe("credentials in upstream and proxy URLs stay out of output", () => {
  it("a failing proxy with user:pass@ and a ?key= query: 502 to the client, nothing raw in any output", async () => {
    const proxyPort = await freePort(); // closed: the proxy connection fails
    const proxyPass = "proxyPASSsecret0123456789";
    const file = path.join(home, "proxied.json");
    // Not a loopback upstream: loopback ones are reached directly, never through the proxy (§8).
    await writeFile(file, JSON.stringify({ providers: { gem: { kind: "gemini", baseUrl: "http://gemini-gw.invalid:8080" } } }));
    const env = cleanEnv(home, {
      HTTP_PROXY: `http://proxyuser:${proxyPass}@127.0.0.1:${proxyPort}`,
      HTTPS_PROXY: `http://proxyuser:${proxyPass}@127.0.0.1:${proxyPort}`,
    });
    const cli = startCli(["start", "--port", "0", "--config", file, "--json", "--verbose"], { env, cwd: home });
    const started = upstream.started;
    let status = 0;
    let body = "";
    try {
      const [, url] = await cli.waitFor(/listening\s+(http:\/\/\S+)/);
      const res = await fetch(`${url}/gem/v1beta/models/gemini-pro:generateContent?key=${GOOGLE_API_KEY}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      status = res.status;
      body = await res.text();
      await cli.waitFor(/"status":\s*502/);
    } finally {
      cli.child.kill("SIGTERM");
      await cli.exited;
    }
    expect(status).toBe(502);
    expect(upstream.started).toBe(started);
    const printed = cli.stdout() + cli.stderr() + body;
    expect(printed).not.toContain(proxyPass);
    expect(printed).not.toContain("proxyuser:");
    expect(findLeaks(printed, [GOOGLE_API_KEY, proxyPass])).toEqual([]);
  });
});
