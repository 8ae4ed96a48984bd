/**
 * The bench's own machinery (issue 7): the verdicts it prints, the profile summary it reports,
 * how it splits and times SSE events, and its stall case against the mock upstream and the
 * baseline relay. The benchmark itself (`npm run bench`) is not run here: it takes minutes.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventTimer, connect, stallCase } from "../../bench/lib/clients.mjs";
import { ROOT, cleanEnv, makeTempDir, spawnScript, type ServerHandle } from "../../bench/lib/processes.mjs";
import { evaluateTargets } from "../../bench/lib/report.mjs";
import { summariseProfile, type CpuProfile } from "../../bench/profile.mjs";

const MiB = 1024 * 1024;

/** Figures of a run where every target is met by a clear margin. */
function passingRun(): Record<string, any> {
  return {
    throughput: { arms: { direct: { rps: 20_000 }, baseline: { rps: 10_000 }, llmRelay: { rps: 9_500 }, noInspect: { rps: 9_600 } } },
    latency: { added: { baseline: { p50Ms: 0.1, p99Ms: 0.4 }, llmRelay: { p50Ms: 0.15, p99Ms: 0.6 }, noInspect: { p50Ms: 0.13, p99Ms: 0.55 } } },
    sse: { added: { llmRelay: { perEventP99Ms: 0.2 } } },
    stall: { llmRelay: { trials: 3, delivered: 3, firstEventMsMedian: 1 } },
    streams: { count: 1000, llmRelay: { increase: 30 * MiB } },
    upload: { arms: { baseline: { peakIncrease: 6 * MiB, wallMs: 100 }, llmRelay: { peakIncrease: 7 * MiB, wallMs: 110 } } },
    coldStart: { versionMs: 60, startToHealthMs: 200 },
    micro: { decideHeaders: { medianUs: 3 } },
  };
}

function verdict(run: Record<string, any>, namePart: string) {
  const target = evaluateTargets(run).find((t) => t.name.includes(namePart));
  if (!target) throw new Error(`no target named like ${namePart}`);
  return target.pass;
}

describe("targets", () => {
  it("a run meeting every figure passes every target", () => {
    const targets = evaluateTargets(passingRun());
    expect(targets).toHaveLength(14);
    expect(targets.filter((t) => t.pass !== true).map((t) => t.name)).toEqual([]);
  });

  it.each([
    ["throughput", (r: any) => (r.throughput.arms.llmRelay.rps = 8_999)],
    ["p50", (r: any) => (r.latency.added.llmRelay.p50Ms = 0.21)],
    ["p99 ≤ baseline", (r: any) => (r.latency.added.llmRelay.p99Ms = 0.91)],
    ["inspector on: throughput", (r: any) => (r.throughput.arms.llmRelay.rps = 9_110)],
    ["inspector on: added latency", (r: any) => (r.latency.added.llmRelay.p50Ms = 0.1801)],
    ["--no-inspect: throughput", (r: any) => (r.throughput.arms.noInspect.rps = 6_199)],
    ["per-event", (r: any) => (r.sse.added.llmRelay.perEventP99Ms = 1.01)],
    ["stall", (r: any) => (r.stall.llmRelay.delivered = 2)],
    ["open SSE streams", (r: any) => (r.streams.llmRelay.increase = 61 * MiB)],
    ["peak RSS", (r: any) => (r.upload.arms.llmRelay.peakIncrease = 10.5 * MiB)],
    ["wall", (r: any) => (r.upload.arms.llmRelay.wallMs = 121)],
    ["--version", (r: any) => (r.coldStart.versionMs = 151)],
    ["listening", (r: any) => (r.coldStart.startToHealthMs = 301)],
    ["decideHeaders", (r: any) => (r.micro.decideHeaders.medianUs = 5.5)],
  ])("%s fails just past its limit", (name, worsen) => {
    const run = passingRun();
    worsen(run);
    expect(verdict(run, name)).toBe(false);
  });

  it("a phase that did not run is n/a, never a pass", () => {
    const run = passingRun();
    delete run.throughput;
    delete run.upload;
    const missing = evaluateTargets(run).filter((t) => t.pass === undefined).map((t) => t.text);
    expect(missing).toEqual(["not measured", "not measured", "not measured", "not measured", "not measured"]);
  });
});

describe("profile summary", () => {
  // root → handle (dist) → decideHeaders (dist); a node internal and GC beside them.
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 }, children: [2, 3, 4] },
      { id: 2, callFrame: { functionName: "handle", url: "file:///x/dist/relay/server.js", lineNumber: 87 }, children: [5] },
      { id: 3, callFrame: { functionName: "writev", url: "node:internal/stream_base_commons", lineNumber: 9 } },
      { id: 4, callFrame: { functionName: "(garbage collector)", url: "", lineNumber: -1 } },
      { id: 5, callFrame: { functionName: "decideHeaders", url: "file:///x/dist/policy/headers.js", lineNumber: 61 } },
    ],
    startTime: 1000,
    endTime: 2000,
    // Sample times 1000, 1100, 1400, 1600, 1700; the last runs to endTime.
    samples: [2, 3, 5, 4, 3],
    timeDeltas: [0, 100, 300, 200, 100],
  };
  // In µs, rounded: the summary reports ms as floating point.
  const us = (ms: number) => Math.round(ms * 1000);

  it("charges each sample the time until the next, per function and per area", () => {
    const summary = summariseProfile(profile);
    expect(summary.totalMs).toBeCloseTo(1);
    expect(summary.functions.map((f) => [f.name, f.where, us(f.selfMs)])).toEqual([
      ["writev", "node:internal/stream_base_commons:10", 300 + 300],
      ["decideHeaders", "dist/policy/headers.js:62", 200],
      ["handle", "dist/relay/server.js:88", 100],
      ["(garbage collector)", "", 100],
    ]);
    expect(summary.categories.map((c) => [c.category, Math.round(c.share * 100)])).toEqual([
      ["node internals", 60],
      ["llm-relay (dist)", 30],
      ["gc", 10],
    ]);
    expect(summary.distFiles.map((f) => [f.file, us(f.selfMs)])).toEqual([
      ["dist/policy/headers.js", 200],
      ["dist/relay/server.js", 100],
    ]);
  });

  it("counts a callee's time in its llm-relay callers (inclusive)", () => {
    const summary = summariseProfile(profile);
    expect(summary.distInclusive.map((f) => [f.name, us(f.totalMs)])).toEqual([
      ["handle  dist/relay/server.js:88", 100 + 200],
      ["decideHeaders  dist/policy/headers.js:62", 200],
    ]);
  });
});

describe("SSE event timing", () => {
  it("reports each event once, with the send stamp it carries, however the bytes are split", () => {
    const seen: Array<[number, number]> = [];
    const timer = new EventTimer(({ sentAt, index }) => seen.push([index, sentAt]));
    const stream = 'event: a\ndata: {"t":111,"i":0}\n\nevent: b\ndata: {"t":222,"i":1}\n\nevent: c\ndata: {"t":333,"i":2}\n\n';
    for (const piece of [stream.slice(0, 10), stream.slice(10, 33), stream.slice(33, 34), stream.slice(34)]) {
      timer.push(Buffer.from(piece));
    }
    expect(seen).toEqual([
      [0, 111],
      [1, 222],
      [2, 333],
    ]);
    expect(timer.events).toBe(3);
  });
});

describe("stall case against the bench's mock upstream", () => {
  let temp: ReturnType<typeof makeTempDir>;
  let mock: ServerHandle;
  let baseline: ServerHandle;

  beforeAll(async () => {
    temp = makeTempDir();
    const env = cleanEnv(temp.dir);
    mock = await spawnScript("mock-upstream.mjs", [], { env });
    baseline = await spawnScript("baseline-relay.mjs", [mock.url], { env });
  });
  afterAll(async () => {
    await baseline?.stop();
    await mock?.stop();
    temp?.cleanup();
  });

  it.each([["direct"], ["baseline relay"]])("%s: the first event arrives while the rest is held, then all 64", async (arm) => {
    const client = connect(arm === "direct" ? mock.url : baseline.url);
    try {
      const result = await stallCase(client, mock.url, { id: `test-${arm}`, events: 64, timeoutMs: 5000 });
      expect(result.error).toBeUndefined();
      expect(result.heldWhileFirstArrived).toBe(1);
      expect(result.delivered).toBe(true);
      expect(result.events).toBe(64);
    } finally {
      await client.close();
    }
  });
});

describe("bench/pair.mjs (arms under load at the same moment)", () => {
  const run = (args: string[]) => spawnSync(process.execPath, [path.join(ROOT, "bench", "pair.mjs"), ...args], { encoding: "utf8", timeout: 60_000 });

  it("measures --no-inspect and inspector on side by side, each as a ratio to the first", () => {
    const result = run(["--rounds", "1", "--seconds", "1", "--connections", "2"]);
    expect(result.stderr).toContain("round 1/1");
    expect(result.status).toBe(0);
    const rows = result.stdout.split("\n").filter((line) => /^(--no-inspect|inspector on) /.test(line));
    expect(rows.map((line) => line.split(/\s{2,}/)[0])).toEqual(["--no-inspect", "inspector on"]);
    // The first arm against itself is 1; the other's ratios are measured (some positive number).
    expect(rows[0]).toMatch(/1\.000×\s+\d+\.\d µs\s+1\.000×$/);
    const [, rps, ratio, cpu] = rows[1]!.match(/^inspector on\s+(\d+)\s+(\d\.\d{3})×\s+(\d+\.\d) µs/) ?? [];
    expect(Number(rps)).toBeGreaterThan(0);
    expect(Number(ratio)).toBeGreaterThan(0);
    expect(Number(cpu)).toBeGreaterThan(0);
  });

  it.each([["--rounds", "0"], ["--seconds", "x"], ["--connections", "2.5"]])("refuses %s %s with one line and exit 2", (flag, value) => {
    const result = run([flag, value]);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe(`bench/pair: ${flag} must be a whole number from 1 to 1000`);
  });
});
