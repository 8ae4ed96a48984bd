/**
 * The capture is bounded (DESIGN §11): with `inspect.maxBytes` = 8 MiB, 200 requests with 1 MiB
 * bodies keep the capture within its bound, the API says which bodies were evicted (oldest
 * first), and the newest are kept whole; and the relay's RSS (VmRSS from /proc) settles under
 * 8 MiB + 30 MiB above where it stood before the 200. "Settles": V8 collects lazily, so right
 * after the load RSS still holds garbage (measured: +35 MiB at 2 s with the inspector on, and
 * +36 MiB with it off); once the relay goes idle V8's memory reducer runs a full GC (~10 s later
 * here), after which the growth measured +3 MiB on, +19 MiB off. The test waits for that.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send } from "../helpers/client.js";
import { cleanEnv, startCli, type RunningCli } from "../helpers/cli.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults } from "../helpers/relay.js";
import type { RequestDetail, RequestList } from "../../src/inspect/types.js";

const MiB = 1024 * 1024;
let upstream: MockUpstream;
let home: string;
let cli: RunningCli;
let base: string;
let token: string;

function rssBytes(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]!;
  return Number(kib) * 1024;
}

beforeAll(async () => {
  upstream = await startMockUpstream();
  home = mkdtempSync(path.join(tmpdir(), "llm-relay-bounded-"));
  const configFile = path.join(home, "llm-relay.config.json");
  writeFileSync(configFile, JSON.stringify({ ...mockedDefaults(upstream.url), inspect: { maxBytes: 8 * MiB } }));
  cli = startCli(["start", "--port", "0", "-c", configFile], { env: cleanEnv(home), cwd: home });
  [, base, token] = (await cli.waitFor(/inspector\s+(http:\/\/127\.0\.0\.1:\d+)\/_relay\/\?token=([A-Za-z0-9_-]+)/)) as unknown as [string, string, string];
});
afterAll(async () => {
  cli?.child.kill("SIGKILL");
  await upstream.close();
  rmSync(home, { recursive: true, force: true });
});

const oneMiBBody = (i: number) => JSON.stringify({ model: "claude-big", messages: [{ role: "user", content: `${i} `.padEnd(MiB - 80, "x") }] });

describe.skipIf(process.platform !== "linux")("inspect.maxBytes", () => {
  it("200 requests of 1 MiB: the capture stays within 8 MiB and the evicted bodies are listed", { timeout: 240_000 }, async () => {
    const headers = { "content-type": "application/json" };
    // Warm up first: undici, the JIT and the heap's first growth are not the capture's.
    for (let i = 0; i < 10; i++) await send(`${base}/v1/messages`, { body: oneMiBBody(i), headers });
    const before = rssBytes(cli.child.pid!);
    let peak = before;
    for (let i = 0; i < 200; i++) {
      const res = await send(`${base}/v1/messages`, { body: oneMiBBody(i), headers });
      expect(res.status).toBe(200);
      if (i % 10 === 0) peak = Math.max(peak, rssBytes(cli.child.pid!));
    }
    const limit = before + 8 * MiB + 30 * MiB;
    let after = rssBytes(cli.child.pid!);
    for (let waited = 0; after >= limit && waited < 40_000; waited += 500) {
      await new Promise((r) => setTimeout(r, 500));
      after = rssBytes(cli.child.pid!);
    }
    console.log(`bounded capture: RSS ${Math.round(before / MiB)} → ${Math.round(after / MiB)} MiB settled (peak ${Math.round(peak / MiB)})`);
    expect(after - before).toBeLessThan(8 * MiB + 30 * MiB);

    const list = (await send(`${base}/_relay/api/requests`, { headers: { "x-llm-relay-token": token } })).json() as RequestList;
    expect(list.requests).toHaveLength(210);
    expect(list.capture.maxBytes).toBe(8 * MiB);
    expect(list.capture.bytes).toBeLessThanOrEqual(8 * MiB);
    // Eight 1 MiB bodies fit at most: the rest, oldest first, were evicted.
    expect(list.evicted.length).toBeGreaterThanOrEqual(202);
    expect(list.evicted).toEqual(list.requests.slice(0, list.evicted.length).map((r) => r.id));
    const oldest = (await send(`${base}/_relay/api/requests/${list.evicted[0]}`, { headers: { "x-llm-relay-token": token } })).json() as RequestDetail;
    expect(oldest.request.body).toMatchObject({ evicted: true, bytes: Buffer.byteLength(oneMiBBody(0)) });
    expect(oldest.request.body!.text).toBeUndefined();
    const newest = (await send(`${base}/_relay/api/requests/${list.requests.at(-1)!.id}`, { headers: { "x-llm-relay-token": token } })).json() as RequestDetail;
    expect(newest.request.body).toMatchObject({ evicted: false, truncated: false });
    expect(newest.request.body!.text).toContain("claude-big");
  });
});
