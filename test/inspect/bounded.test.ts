/**
 * The capture is bounded (DESIGN §11): with `inspect.maxBytes` = 8 MiB, 200 requests with 1 MiB
 * bodies keep the capture within its bound, the API says which bodies were evicted (oldest
 * first), and the newest are kept whole; and the relay's RSS (VmRSS from /proc) ends under
 * 8 MiB + 30 MiB above where it stood before the 200.
 *
 * Both relays here run with `--max-old-space-size=64` (their live heap is a few MiB): by default
 * V8 defers collecting the 200 dead 1 MiB strings until its heap limit, so RSS measured its GC
 * timing, not what the relay keeps (+35 MiB at 2 s with or without the inspector, +65 MiB and not
 * settling in 40 s on the loaded full suite, +3 MiB once an idle GC ran). With the cap V8 must
 * collect, so only what is really kept stays: a capture that held its bodies would grow past the
 * bound or die of an out-of-memory error. A relay with `--no-inspect` beside it gives the scale.
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
/** The same relay with capture off: what 200 × 1 MiB cost without the inspector, on the same machine at the same time. */
let plain: RunningCli;
let plainBase: string;
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
  cli = startCli(["start", "--port", "0", "-c", configFile], { env: cleanEnv(home, { NODE_OPTIONS: "--max-old-space-size=64" }), cwd: home });
  [, base, token] = (await cli.waitFor(/inspector\s+(http:\/\/127\.0\.0\.1:\d+)\/_relay\/\?token=([A-Za-z0-9_-]+)/)) as unknown as [string, string, string];

  plain = startCli(["start", "--port", "0", "--no-inspect", "-c", configFile], { env: cleanEnv(home, { NODE_OPTIONS: "--max-old-space-size=64" }), cwd: home });
  [, plainBase] = (await plain.waitFor(/listening\s+(http:\/\/127\.0\.0\.1:\d+)/)) as unknown as [string, string];
});
afterAll(async () => {
  cli?.child.kill("SIGKILL");
  plain?.child.kill("SIGKILL");
  await upstream.close();
  rmSync(home, { recursive: true, force: true });
});

const oneMiBBody = (i: number) => JSON.stringify({ model: "claude-big", messages: [{ role: "user", content: `${i} `.padEnd(MiB - 80, "x") }] });

const mib = (bytes: number): string => (bytes / MiB).toFixed(1);

/**
 * 200 requests of 1 MiB after a warm-up; the RSS growth once it settles (V8 collects lazily and,
 * once the relay is idle, its memory reducer runs a full GC: sampled for up to 20 s, lowest kept)
 * and at its peak.
 */
async function burst(relay: RunningCli, url: string): Promise<{ after: number; peak: number }> {
  const headers = { "content-type": "application/json" };
  // Warm up first: undici, the JIT and the heap's first growth are not the capture's.
  for (let i = 0; i < 10; i++) await send(`${url}/v1/messages`, { body: oneMiBBody(i), headers });
  const pid = relay.child.pid!;
  const before = rssBytes(pid);
  let peak = before;
  for (let i = 0; i < 200; i++) {
    const res = await send(`${url}/v1/messages`, { body: oneMiBBody(i), headers });
    expect(res.status).toBe(200);
    if (i % 10 === 0) peak = Math.max(peak, rssBytes(pid));
  }
  let after = rssBytes(pid);
  for (let waited = 0; after - before >= 8 * MiB && waited < 20_000; waited += 500) {
    await new Promise((r) => setTimeout(r, 500));
    after = Math.min(after, rssBytes(pid));
  }
  return { after: after - before, peak: peak - before };
}

describe.skipIf(process.platform !== "linux")("inspect.maxBytes", () => {
  it("200 requests of 1 MiB: the capture stays within 8 MiB and the evicted bodies are listed", { timeout: 240_000 }, async () => {
    const ownGrowth = await burst(cli, base);
    const plainGrowth = await burst(plain, plainBase);
    console.log(
      `bounded capture: RSS growth ${mib(ownGrowth.after)} MiB settled (peak ${mib(ownGrowth.peak)}) with the inspector, ` +
        `${mib(plainGrowth.after)} MiB (peak ${mib(plainGrowth.peak)}) without`,
    );
    expect(ownGrowth.after).toBeLessThan(8 * MiB + 30 * MiB);
    expect(cli.child.exitCode).toBeNull();

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
