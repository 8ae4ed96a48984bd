/**
 * The inspector as users reach it, through the built binary (DESIGN §11, §8): `start` prints
 * the page URL with its token; that URL logs in, nothing else does; foreign Origin/Host → 403.
 * `exec`'s inspector opens by its session token path. `--no-inspect` leaves `/_relay/` a 404.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send } from "../helpers/client.js";
import { cleanEnv, ROOT, startCli, type RunningCli } from "../helpers/cli.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults } from "../helpers/relay.js";

let upstream: MockUpstream;
let home: string;
let configFile: string;

beforeAll(async () => {
  upstream = await startMockUpstream();
  home = mkdtempSync(path.join(tmpdir(), "llm-relay-inspect-cli-"));
  configFile = path.join(home, "llm-relay.config.json");
  writeFileSync(configFile, JSON.stringify(mockedDefaults(upstream.url)));
});
afterAll(async () => {
  await upstream.close();
  rmSync(home, { recursive: true, force: true });
});

async function stop(cli: RunningCli): Promise<void> {
  cli.child.kill("SIGTERM");
  await cli.exited;
}

/** Every way in that must be refused, and how. */
async function expectGuarded(base: string, authorized: Record<string, string>, allowedUrl: string): Promise<void> {
  expect((await send(allowedUrl, { headers: authorized })).status).toBe(200);
  expect((await send(`${base}/_relay/api/requests`)).status).toBe(401);
  expect((await send(`${base}/_relay/`)).status).toBe(401);
  expect((await send(`${base}/_relay/api/requests`, { headers: { "x-llm-relay-token": "x".repeat(32) } })).status).toBe(401);
  expect((await send(allowedUrl, { headers: { ...authorized, origin: "https://evil.example" } })).status).toBe(403);
  expect((await send(allowedUrl, { headers: { ...authorized, host: "evil.example:80" } })).status).toBe(403);
}

describe("start", () => {
  it("prints the page URL with a fresh token; it logs in by cookie and the API is guarded", async () => {
    const cli = startCli(["start", "--port", "0", "-c", configFile], { env: cleanEnv(home), cwd: home });
    try {
      const [, base, token] = await cli.waitFor(/inspector\s+(http:\/\/127\.0\.0\.1:\d+)\/_relay\/\?token=([A-Za-z0-9_-]+)/);
      const login = await send(`${base}/_relay/?token=${token}`);
      expect(login.status).toBe(303);
      expect(login.headers.location).toBe("/_relay/");
      const cookie = login.headers["set-cookie"]![0]!;
      expect(cookie).toMatch(/; HttpOnly; SameSite=Strict; Path=\/_relay\/$/);
      const jar = { cookie: cookie.split(";")[0]! };
      const page = await send(`${base}/_relay/`, { headers: jar });
      expect(page.status).toBe(200);
      expect(page.headers["content-security-policy"]).toBe("default-src 'self'");
      await send(`${base}/v1/messages`, { body: JSON.stringify({ model: "claude-cli", messages: [] }), headers: { "content-type": "application/json" } });
      const list = await send(`${base}/_relay/api/requests`, { headers: jar });
      expect((list.json() as { requests: Array<{ model?: string }> }).requests.map((r) => r.model)).toEqual(["claude-cli"]);
      await expectGuarded(base!, jar, `${base}/_relay/api/requests`);
      expect((await send(`${base}/_relay/api/requests`, { headers: { "x-llm-relay-token": token! } })).status).toBe(200);
      // The token is printed once, in the banner, and nowhere else.
      await stop(cli);
      expect((cli.stdout() + cli.stderr()).split(token!).length - 1).toBe(1);
    } finally {
      cli.child.kill("SIGKILL");
    }
  });

  it("makes a new token each run", async () => {
    const tokens = [];
    for (let i = 0; i < 2; i++) {
      const cli = startCli(["start", "--port", "0", "-c", configFile], { env: cleanEnv(home), cwd: home });
      tokens.push((await cli.waitFor(/\/_relay\/\?token=([A-Za-z0-9_-]+)/))[1]);
      await stop(cli);
    }
    expect(tokens[0]).not.toBe(tokens[1]);
  });

  it("--no-inspect: no page URL, /_relay/ is 404", async () => {
    const cli = startCli(["start", "--port", "0", "-c", configFile, "--no-inspect"], { env: cleanEnv(home), cwd: home });
    try {
      const [, base] = await cli.waitFor(/listening\s+(http:\/\/127\.0\.0\.1:\d+)/);
      expect(cli.stderr()).not.toContain("/_relay/");
      expect((await send(`${base}/_relay/`)).status).toBe(404);
      expect((await send(`${base}/_relay/api/requests`)).status).toBe(404);
    } finally {
      await stop(cli);
    }
  });

  it("inspect: false in the config turns it off too", async () => {
    const off = path.join(home, "off.json");
    writeFileSync(off, JSON.stringify({ ...mockedDefaults(upstream.url), inspect: false }));
    const cli = startCli(["start", "--port", "0", "-c", off], { env: cleanEnv(home), cwd: home });
    try {
      const [, base] = await cli.waitFor(/listening\s+(http:\/\/127\.0\.0\.1:\d+)/);
      expect((await send(`${base}/_relay/`)).status).toBe(404);
    } finally {
      await stop(cli);
    }
  });
});

describe("exec", () => {
  it("opens the inspector by the session token path only", async () => {
    const marker = path.join(home, "exec.marker");
    const child = path.join(ROOT, "test", "fixtures", "children", "hold.mjs");
    const cli = startCli(["exec", "--config", configFile, "--", "node", child, marker], { env: cleanEnv(home), cwd: home });
    try {
      const [, session] = await cli.waitFor(/"url":"(http:\/\/127\.0\.0\.1:\d+\/_t\/[^"]+)"/);
      const base = session!.replace(/\/_t\/[^/]+$/, "");
      const page = await send(`${session}/_relay/`);
      expect(page.status).toBe(200);
      expect(page.headers["content-security-policy"]).toBe("default-src 'self'");
      await expectGuarded(base, {}, `${session}/_relay/api/requests`);
      expect((await send(`${base}/_t/${"y".repeat(43)}/_relay/api/requests`)).status).toBe(401);
      // The page shows the path the child asked for: the session's `/_t/<token>` is exec's plumbing (as in its log).
      await send(`${session}/v1/messages?beta=true`, { body: JSON.stringify({ model: "claude-cli", messages: [] }), headers: { "content-type": "application/json" } });
      const list = (await send(`${session}/_relay/api/requests`)).json() as { requests: Array<{ id: number; path: string }> };
      const relayed = list.requests.filter((r) => !r.path.startsWith("/_relay/"));
      expect(relayed.map((r) => r.path)).toEqual(["/v1/messages?beta=true"]);
      expect(JSON.stringify(list)).not.toContain("/_t/");
      const detail = (await send(`${session}/_relay/api/requests/${relayed[0]!.id}`)).json() as { path: string };
      expect(detail.path).toBe("/v1/messages?beta=true");
    } finally {
      await stop(cli);
    }
  });
});
