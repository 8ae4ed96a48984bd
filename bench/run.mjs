/**
 * `npm run bench` (issue 7): llm-relay side by side with the physical limit of a Node relay.
 *
 * Three arms, measured in one run and interleaved round by round so a noisy neighbour hurts all
 * of them alike: **direct** (client → mock upstream), **baseline** (bench/baseline-relay.mjs, ~30
 * lines, no policy) and **llm-relay** (the real CLI, `start` with logging and the inspector on,
 * as a user runs it); the latency and throughput phases add **no-inspect** (the same CLI with
 * `--no-inspect`), so the inspector's capture has a price tag of its own. The mock upstream
 * and each relay run in their own processes, so a relay's memory is read from /proc. The
 * **bodies** phase runs two more llm-relay processes beside the plain one, on the same Claude Code
 * body: one renaming its model (a provider's `models`), one with a `when` route (DESIGN §10).
 *
 *   node bench/run.mjs                 the full run (a few minutes), table + bench/results/*.json
 *   node bench/run.mjs --quick         small counts, for a smoke check (figures not meaningful)
 *   node bench/run.mjs --only sse,stall
 *   node bench/run.mjs --profile       CPU profiles of both relays under the throughput load
 *   node bench/run.mjs --cli ../other/bin/llm-relay.js   the llm-relay arm runs another build
 *
 * Targets and their verdicts are in lib/report.mjs; figures are read with hdr-histogram-js and
 * autocannon. Loopback only; every loop is bounded; every child is stopped on exit.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { request } from "undici";
import {
  CLAUDE_CODE_BODY,
  CLAUDE_CODE_PATH,
  connect,
  manyOpenStreams,
  nanosHistogram,
  requestHeaders,
  stallCase,
  timeSequential,
  timeStream,
  timeUpload,
} from "./lib/clients.mjs";
import {
  BENCH_DIR,
  BODY_VARIANTS,
  CLI,
  ROOT,
  cleanEnv,
  makeTempDir,
  openFileLimits,
  readCpuMs,
  readMemory,
  resetPeak,
  sampleRss,
  spawnLlmRelay,
  spawnScript,
  stopChild,
  writeRelayConfig,
} from "./lib/processes.mjs";
import { evaluateTargets, formatReport } from "./lib/report.mjs";
import { runMicro } from "./micro-headers.mjs";
import { runCaptureMicro } from "./micro-capture.mjs";
import { formatProfile, summariseProfile } from "./profile.mjs";

const PHASES = ["cold", "latency", "throughput", "bodies", "sse", "stall", "streams", "upload", "micro"];
const ARMS = ["direct", "baseline", "llmRelay"];
const RELAY_ARMS = ["baseline", "llmRelay"];
/**
 * The latency and throughput phases also run llm-relay without its inspector (capture off), and
 * the baseline plus one colored log line per request (`baseline-relay.mjs --log`): how much of
 * llm-relay's gap to the baseline is only its logging.
 */
const LOAD_ARMS = [...ARMS, "noInspect", "baselineLog"];
const MiB = 1024 * 1024;

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    profile: { type: "boolean", default: false },
    "profile-seconds": { type: "string", default: "10" },
    "profile-arms": { type: "string", default: "llmRelay,noInspect,baseline" },
    "no-write": { type: "boolean", default: false },
    streams: { type: "string" },
    "sse-interval": { type: "string", default: "1" },
    cli: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (flags.help) {
  console.log("usage: node bench/run.mjs [--quick] [--only phase,…] [--streams N] [--sse-interval MS] [--no-write] [--profile [--profile-seconds S] [--profile-arms llmRelay,noInspect,baseline]] [--cli PATH]");
  console.log("  --cli PATH   the llm-relay arm runs this bin/llm-relay.js (e.g. another checkout's build) instead of this tree's");
  console.log(`phases: ${PHASES.join(", ")}`);
  process.exit(0);
}

const quick = flags.quick;
const cli = flags.cli ? path.resolve(flags.cli) : CLI;
const settings = {
  rounds: quick ? 2 : 5,
  latencyWarmup: quick ? 100 : 500,
  latencyPerRound: quick ? 150 : 600, // × rounds ≥ 2,000 per arm in the full run
  throughputConnections: 32,
  throughputWarmupSeconds: quick ? 0.5 : 1,
  throughputRounds: quick ? 1 : 3,
  throughputSeconds: quick ? 1 : 4,
  sseEvents: 64,
  sseIntervalMs: Number(flags["sse-interval"]),
  sseStreamsPerRound: quick ? 2 : 10,
  stallTrials: quick ? 1 : 3,
  streams: Number(flags.streams ?? (quick ? 100 : 1000)),
  uploadBytes: 20 * MiB,
  uploadReps: quick ? 2 : 9,
  coldRuns: quick ? 3 : 15,
  startRuns: quick ? 2 : 7,
};
const only = flags.only ? new Set(flags.only.split(",").map((s) => s.trim())) : new Set(PHASES);
for (const phase of only) if (!PHASES.includes(phase)) throw new Error(`unknown phase ${phase}; phases: ${PHASES.join(", ")}`);

// 1,000 streams hold ~2 descriptors each in a relay; raise the soft limit (as a shell would) if we may.
const neededFiles = settings.streams * 2 + 512;
const limits = openFileLimits();
if (limits && limits.soft < neededFiles && only.has("streams") && !flags.profile && !process.env.LLM_RELAY_BENCH_ULIMIT) {
  if (limits.hard >= neededFiles) {
    const raised = Number.isFinite(limits.hard) ? Math.min(limits.hard, 65536) : 65536;
    const child = spawn("/bin/sh", ["-c", `ulimit -n ${raised} && exec "$0" "$@"`, process.execPath, ...process.argv.slice(1)], {
      stdio: "inherit",
      env: { ...process.env, LLM_RELAY_BENCH_ULIMIT: String(raised) },
    });
    child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
    await new Promise(() => {}); // the re-executed bench does the work
  }
  const requested = settings.streams;
  settings.streams = Math.max(10, Math.floor((limits.soft - 512) / 2));
  console.error(`bench: open-file limit ${limits.soft} (hard ${limits.hard}): measuring ${settings.streams} streams instead of ${requested}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)];
};
/** Arms in a different order each round, so none always runs first or last. */
const rotate = (arms, round) => arms.map((_, i) => arms[(i + round) % arms.length]);
const progress = (text) => process.stderr.write(`bench: ${text}\n`);

// Every child we start is killed if we end abnormally; on a normal end each is stopped by pid.
const children = new Set();
const track = (handle) => {
  children.add(handle.child);
  handle.child.once("exit", () => children.delete(handle.child));
  return handle;
};
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));

function gitInfo() {
  const git = (args) => execFileSync("git", args, { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  try {
    return { sha: git(["rev-parse", "--short", "HEAD"]), dirty: git(["status", "--porcelain", "--untracked-files=no"]) !== "" };
  } catch {
    return { sha: "nogit", dirty: false };
  }
}

function machineInfo() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: typeof os.availableParallelism === "function" ? os.availableParallelism() : cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    totalMemMiB: Math.round(os.totalmem() / MiB),
    loadavg: os.loadavg(),
    openFiles: openFileLimits(),
  };
}

const toMs = (ns) => ns / 1e6;
const percentiles = (h) => ({ p50Ms: toMs(h.getValueAtPercentile(50)), p99Ms: toMs(h.getValueAtPercentile(99)), meanMs: toMs(h.mean), count: h.totalCount });

// ——— phases ———

async function coldStart(env, configFile) {
  const timeSpawn = (args) => {
    const start = process.hrtime.bigint();
    const result = spawnSync(process.execPath, args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const elapsed = toMs(Number(process.hrtime.bigint() - start));
    if (result.status !== 0) throw new Error(`node ${args.join(" ")} exited ${result.status}: ${result.stderr.split("\n")[0]}`);
    return { elapsed, stdout: result.stdout.trim() };
  };
  const floor = [];
  const version = [];
  let printed;
  for (let i = 0; i < settings.coldRuns; i++) {
    floor.push(timeSpawn(["-e", "0"]).elapsed);
    const run = timeSpawn([cli, "--version"]);
    version.push(run.elapsed);
    printed = run.stdout;
  }
  const ready = [];
  for (let i = 0; i < settings.startRuns; i++) {
    const relay = track(await spawnLlmRelay({ configFile, env, cli }));
    ready.push(relay.readyMs);
    await relay.stop();
  }
  return {
    runs: settings.coldRuns,
    startRuns: settings.startRuns,
    versionPrinted: printed,
    nodeFloorMs: median(floor),
    versionMs: median(version),
    versionRunsMs: version,
    startToHealthMs: median(ready),
    startToHealthRunsMs: ready,
  };
}

async function latency(urls) {
  const clients = Object.fromEntries(LOAD_ARMS.map((arm) => [arm, connect(urls[arm])]));
  const histograms = Object.fromEntries(LOAD_ARMS.map((arm) => [arm, nanosHistogram()]));
  try {
    for (const arm of LOAD_ARMS) await timeSequential(clients[arm], settings.latencyWarmup, null);
    for (let round = 0; round < settings.rounds; round++) {
      for (const arm of rotate(LOAD_ARMS, round)) await timeSequential(clients[arm], settings.latencyPerRound, histograms[arm]);
    }
  } finally {
    await Promise.all(LOAD_ARMS.map((arm) => clients[arm].close()));
  }
  const arms = Object.fromEntries(LOAD_ARMS.map((arm) => [arm, percentiles(histograms[arm])]));
  const addedTo = (arm) => ({ p50Ms: arms[arm].p50Ms - arms.direct.p50Ms, p99Ms: arms[arm].p99Ms - arms.direct.p99Ms });
  return {
    countPerArm: settings.rounds * settings.latencyPerRound,
    arms,
    added: { baseline: addedTo("baseline"), llmRelay: addedTo("llmRelay"), noInspect: addedTo("noInspect"), baselineLog: addedTo("baselineLog") },
  };
}

function cannon(url, seconds) {
  return autocannon({
    url: `${url}${CLAUDE_CODE_PATH}&bench=json`,
    method: "POST",
    headers: requestHeaders(),
    body: CLAUDE_CODE_BODY,
    connections: settings.throughputConnections,
    pipelining: 1,
    duration: seconds,
  });
}

/**
 * Requests/s at c=32, and for the relay arms the CPU time (user + system, from /proc) they spent
 * per request: on a busy machine the ratio of CPU per request is steadier than requests/s.
 */
async function throughput(urls, pids, arms = LOAD_ARMS) {
  const totals = Object.fromEntries(arms.map((arm) => [arm, { requests: 0, seconds: 0, errors: 0, non2xx: 0, cpuMs: 0, roundsRps: [] }]));
  for (const arm of arms) await cannon(urls[arm], settings.throughputWarmupSeconds);
  for (let round = 0; round < settings.throughputRounds; round++) {
    for (const arm of rotate(arms, round)) {
      const cpuBefore = pids[arm] === undefined ? undefined : readCpuMs(pids[arm]);
      const result = await cannon(urls[arm], settings.throughputSeconds);
      const t = totals[arm];
      if (cpuBefore !== undefined) t.cpuMs += readCpuMs(pids[arm]) - cpuBefore;
      t.requests += result.requests.total;
      t.seconds += result.duration;
      t.errors += result.errors + result.timeouts;
      t.non2xx += result.non2xx;
      t.roundsRps.push(Math.round(result.requests.total / result.duration));
    }
  }
  const figures = Object.fromEntries(
    arms.map((arm) => {
      const t = totals[arm];
      return [arm, { ...t, rps: t.requests / t.seconds, ...(pids[arm] === undefined ? {} : { cpuUsPerRequest: (t.cpuMs * 1000) / t.requests }) }];
    }),
  );
  for (const arm of arms) {
    if (figures[arm].errors > 0 || figures[arm].non2xx > 0) throw new Error(`${arm}: ${figures[arm].errors} errors, ${figures[arm].non2xx} non-2xx under load`);
  }
  return { connections: settings.throughputConnections, secondsPerRound: settings.throughputSeconds, rounds: settings.throughputRounds, arms: figures };
}

const BODY_ARMS = ["llmRelay", "llmRelayRewrite", "llmRelayWhen"];

/**
 * Body decisions under the throughput load (DESIGN §10): pass-through, a model rewrite, and a
 * `when` route, on the Claude Code fixture body, each its own llm-relay process, interleaved.
 */
async function bodies(urls, pids, mockUrl, env) {
  const extra = {};
  try {
    for (const [arm, variant] of [["llmRelayRewrite", BODY_VARIANTS.rewrite], ["llmRelayWhen", BODY_VARIANTS.when]]) {
      extra[arm] = track(await spawnLlmRelay({ configFile: writeRelayConfig(temp.dir, mockUrl, variant), env, cli }));
    }
    // The pass-through process is warm from the throughput phase; give the fresh ones as long.
    for (const handle of Object.values(extra)) await cannon(handle.url, settings.throughputSeconds * settings.throughputRounds);
    const all = { ...urls, llmRelayRewrite: extra.llmRelayRewrite.url, llmRelayWhen: extra.llmRelayWhen.url };
    const allPids = { ...pids, llmRelayRewrite: extra.llmRelayRewrite.pid, llmRelayWhen: extra.llmRelayWhen.pid };
    const result = await throughput(all, allPids, BODY_ARMS);
    return { ...result, body: "test/fixtures/claude-code-request.mjs CLAUDE_CODE_BODY", variants: { rewrite: BODY_VARIANTS.rewrite, when: BODY_VARIANTS.when } };
  } finally {
    for (const handle of Object.values(extra)) await handle.stop();
  }
}

async function sse(urls) {
  const clients = Object.fromEntries(ARMS.map((arm) => [arm, connect(urls[arm])]));
  const ttfe = Object.fromEntries(ARMS.map((arm) => [arm, nanosHistogram()]));
  const perEvent = Object.fromEntries(ARMS.map((arm) => [arm, nanosHistogram()]));
  const stream = (arm, record) =>
    timeStream(clients[arm], {
      events: settings.sseEvents,
      intervalMs: settings.sseIntervalMs,
      ttfe: record ? ttfe[arm] : undefined,
      perEvent: record ? perEvent[arm] : undefined,
    });
  try {
    for (const arm of ARMS) for (let i = 0; i < 3; i++) await stream(arm, false);
    for (let round = 0; round < settings.rounds; round++) {
      for (const arm of rotate(ARMS, round)) for (let i = 0; i < settings.sseStreamsPerRound; i++) await stream(arm, true);
    }
  } finally {
    await Promise.all(ARMS.map((arm) => clients[arm].close()));
  }
  const arms = Object.fromEntries(
    ARMS.map((arm) => {
      const first = percentiles(ttfe[arm]);
      const each = percentiles(perEvent[arm]);
      return [arm, { ttfeP50Ms: first.p50Ms, ttfeP99Ms: first.p99Ms, perEventP50Ms: each.p50Ms, perEventP99Ms: each.p99Ms, eventsMeasured: each.count }];
    }),
  );
  const addedTo = (arm) => ({
    ttfeP50Ms: arms[arm].ttfeP50Ms - arms.direct.ttfeP50Ms,
    ttfeP99Ms: arms[arm].ttfeP99Ms - arms.direct.ttfeP99Ms,
    perEventP50Ms: arms[arm].perEventP50Ms - arms.direct.perEventP50Ms,
    perEventP99Ms: arms[arm].perEventP99Ms - arms.direct.perEventP99Ms,
  });
  return {
    events: settings.sseEvents,
    intervalMs: settings.sseIntervalMs,
    streamsPerArm: settings.rounds * settings.sseStreamsPerRound,
    clock: "per-event delay = arrival − the mock's send stamp (process.hrtime, CLOCK_MONOTONIC, shared across processes)",
    arms,
    added: { baseline: addedTo("baseline"), llmRelay: addedTo("llmRelay") },
  };
}

async function stall(urls, mockUrl) {
  const out = {};
  for (const arm of ARMS) {
    const client = connect(urls[arm]);
    const trials = [];
    try {
      await timeSequential(client, 5, null); // a warm connection, as in the other phases
      for (let i = 0; i < settings.stallTrials; i++) trials.push(await stallCase(client, mockUrl, { id: `stall-${arm}-${i}`, events: settings.sseEvents }));
    } finally {
      await client.close();
    }
    out[arm] = {
      trials: trials.length,
      delivered: trials.filter((t) => t.delivered).length,
      firstEventMsMedian: median(trials.filter((t) => t.delivered).map((t) => t.firstEventMs)),
      eventsAfterRelease: trials.map((t) => t.events),
      errors: trials.map((t) => t.error).filter(Boolean),
    };
  }
  return out;
}

/** A fresh process of each relay arm, warmed up, for the memory phases (its RSS history is then only this phase's). */
async function freshRelay(arm, mockUrl, env, configFile) {
  const handle = arm === "baseline" ? await spawnScript("baseline-relay.mjs", [mockUrl], { env }) : await spawnLlmRelay({ configFile, env, cli });
  track(handle);
  const client = connect(handle.url);
  try {
    await timeSequential(client, 200, null);
    for (let i = 0; i < 5; i++) await timeStream(client, { events: 8, intervalMs: 0 });
  } finally {
    await client.close();
  }
  await sleep(200);
  return handle;
}

async function streams(mockUrl, env, configFile) {
  const out = { count: settings.streams };
  for (const arm of RELAY_ARMS) {
    const relay = await freshRelay(arm, mockUrl, env, configFile);
    try {
      const before = readMemory(relay.pid);
      const { measured, events } = await manyOpenStreams(relay.url, mockUrl, { count: settings.streams }, async () => {
        await sleep(300);
        return readMemory(relay.pid);
      });
      if (!before || !measured) throw new Error("cannot read /proc/<pid>/status");
      out[arm] = { rssBefore: before.rss, rssOpen: measured.rss, increase: measured.rss - before.rss, perStreamKiB: (measured.rss - before.rss) / settings.streams / 1024, events };
    } finally {
      await relay.stop();
    }
  }
  return out;
}

/** A valid Messages request of `bytes` bytes, "model" first (as SDKs write it). */
function largeBody(bytes) {
  const head = `{"model":"claude-sonnet-4-5-20250929","max_tokens":1024,"messages":[{"role":"user","content":"`;
  const tail = `"}]}`;
  const body = Buffer.alloc(bytes, "a");
  body.write(head, 0, "latin1");
  body.write(tail, bytes - tail.length, "latin1");
  return body;
}

async function upload(mockUrl, env, configFile) {
  const body = largeBody(settings.uploadBytes);
  const relays = {};
  for (const arm of RELAY_ARMS) relays[arm] = await freshRelay(arm, mockUrl, env, configFile);
  const targets = { direct: mockUrl, baseline: relays.baseline.url, llmRelay: relays.llmRelay.url };
  const clients = Object.fromEntries(ARMS.map((arm) => [arm, connect(targets[arm])]));
  const walls = Object.fromEntries(ARMS.map((arm) => [arm, []]));
  const increases = { baseline: [], llmRelay: [] };
  let peakMethod = "VmHWM (reset through /proc/<pid>/clear_refs)";
  try {
    for (const arm of ARMS) await timeUpload(clients[arm], body);
    for (let rep = 0; rep < settings.uploadReps; rep++) {
      for (const arm of rotate(ARMS, rep)) {
        const relay = relays[arm];
        if (!relay) {
          walls[arm].push(toMs(await timeUpload(clients[arm], body)));
          continue;
        }
        const before = readMemory(relay.pid).rss;
        const reset = resetPeak(relay.pid);
        if (!reset) peakMethod = "VmRSS sampled every 5 ms (clear_refs refused)";
        const sampler = sampleRss(relay.pid, 5);
        walls[arm].push(toMs(await timeUpload(clients[arm], body)));
        const sampled = sampler.stop();
        const peak = reset ? Math.max(readMemory(relay.pid).hwm, sampled) : sampled;
        increases[arm].push(Math.max(0, peak - before));
      }
    }
  } finally {
    await Promise.all(ARMS.map((arm) => clients[arm].close()));
    for (const arm of RELAY_ARMS) await relays[arm].stop();
  }
  const arms = Object.fromEntries(
    ARMS.map((arm) => [arm, { wallMs: median(walls[arm]), wallRunsMs: walls[arm], ...(increases[arm] ? { peakIncrease: median(increases[arm]), peakIncreaseMax: Math.max(...increases[arm]) } : {}) }]),
  );
  return { bytes: settings.uploadBytes, reps: settings.uploadReps, peakMethod, arms };
}

// ——— profile mode ———

async function profile(mockUrl, env, configFile, tempDir) {
  const seconds = Number(flags["profile-seconds"]);
  const summaries = {};
  for (const arm of flags["profile-arms"].split(",")) {
    const dir = path.join(tempDir, `profile-${arm}`);
    mkdirSync(dir, { recursive: true });
    const nodeArgs = ["--cpu-prof", "--cpu-prof-dir", dir];
    const relay = track(
      arm === "baseline"
        ? await spawnScript("baseline-relay.mjs", [mockUrl], { env, nodeArgs })
        : await spawnLlmRelay({ configFile, env, nodeArgs, cli, args: arm === "noInspect" ? ["--no-inspect"] : [] }),
    );
    progress(`profiling ${arm} under c=${settings.throughputConnections} for ${seconds} s`);
    await cannon(relay.url, 1);
    const result = await cannon(relay.url, seconds);
    await stopChild(relay.child, 10_000); // the profile is written as the process exits
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"));
    if (!file) throw new Error(`${arm}: no .cpuprofile written in ${dir}`);
    const summary = summariseProfile(JSON.parse(readFileSync(path.join(dir, file), "utf8")), 45);
    summaries[arm] = { rps: result.requests.total / result.duration, ...summary };
    console.log(`\n=== ${arm}: ${Math.round(summaries[arm].rps)} req/s under the profiler ===\n${formatProfile(summary)}`);
  }
  return summaries;
}

// ——— main ———

const started = Date.now();
const temp = makeTempDir();
const env = cleanEnv(temp.dir);
const results = { date: new Date().toISOString(), machine: machineInfo(), git: gitInfo(), settings, cli: path.relative(ROOT, cli), errors: [] };
let exitCode = 0;
try {
  const mock = track(await spawnScript("mock-upstream.mjs", [], { env }));
  const configFile = writeRelayConfig(temp.dir, mock.url);

  if (flags.profile) {
    results.profile = await profile(mock.url, env, configFile, temp.dir);
    if (!flags["no-write"]) {
      mkdirSync(path.join(BENCH_DIR, "results"), { recursive: true });
      writeFileSync(path.join(BENCH_DIR, "results", "profile-latest.json"), `${JSON.stringify(results, null, 2)}\n`);
    }
  } else {
    const phase = async (name, fn) => {
      if (!only.has(name)) return;
      const t0 = Date.now();
      progress(`${name}…`);
      try {
        results[name === "cold" ? "coldStart" : name] = await fn();
      } catch (error) {
        results.errors.push({ phase: name, message: error.message.split("\n").slice(0, 6).join(" | ") });
        progress(`${name} failed: ${error.message}`);
      }
      progress(`${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    };

    await phase("cold", () => coldStart(env, configFile));

    const needArms = ["latency", "throughput", "bodies", "sse", "stall"].some((p) => only.has(p));
    if (needArms) {
      const baseline = track(await spawnScript("baseline-relay.mjs", [mock.url], { env }));
      const relay = track(await spawnLlmRelay({ configFile, env, cli }));
      const noInspect = track(await spawnLlmRelay({ configFile, env, cli, args: ["--no-inspect"] }));
      const baselineLog = track(await spawnScript("baseline-relay.mjs", [mock.url, "--log", path.join(temp.dir, "baseline-log.txt")], { env }));
      const urls = { direct: mock.url, baseline: baseline.url, llmRelay: relay.url, noInspect: noInspect.url, baselineLog: baselineLog.url };
      try {
        await phase("latency", () => latency(urls));
        await phase("throughput", () => throughput(urls, { baseline: baseline.pid, llmRelay: relay.pid, noInspect: noInspect.pid, baselineLog: baselineLog.pid }));
        await phase("bodies", () => bodies(urls, { llmRelay: relay.pid }, mock.url, env));
        await phase("sse", () => sse(urls));
        await phase("stall", () => stall(urls, mock.url));
        const stats = await (await request(`${mock.url}/_bench/stats`)).body.json();
        results.log = { lines: relay.logLines(), requests: stats.viaLlmRelay, note: "lines the llm-relay arm printed on stdout vs requests the mock received through it" };
      } finally {
        await baseline.stop();
        await relay.stop();
        await noInspect.stop();
        await baselineLog.stop();
      }
    }
    await phase("streams", () => streams(mock.url, env, configFile));
    await phase("upload", () => upload(mock.url, env, configFile));
    await phase("micro", async () => ({ ...(await runMicro()), capture: await runCaptureMicro() }));

    results.durationSeconds = (Date.now() - started) / 1000;
    results.targets = evaluateTargets(results);
    console.log(formatReport(results, results.targets));
    console.log(`\n(${results.durationSeconds.toFixed(0)} s)`);
    if (!flags["no-write"]) {
      const dir = path.join(BENCH_DIR, "results");
      mkdirSync(dir, { recursive: true });
      const json = `${JSON.stringify(results, null, 2)}\n`;
      const file = path.join(dir, `${results.date.slice(0, 10)}-${results.git.sha}.json`);
      writeFileSync(file, json);
      writeFileSync(path.join(dir, "latest.json"), json);
      console.log(`results: ${path.relative(ROOT, file)}, bench/results/latest.json`);
    }
    if (results.errors.length > 0) exitCode = 1;
  }
  await mock.stop();
} catch (error) {
  console.error(`bench: ${error.stack ?? error}`);
  exitCode = 1;
} finally {
  temp.cleanup();
}
process.exit(exitCode);
