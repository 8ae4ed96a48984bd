/**
 * Two (or more) llm-relay processes under the throughput load at the same moment: by default
 * `start --no-inspect` and `start` (inspector on), each with its own autocannon at c=16 on the
 * Claude Code request, against one mock upstream. On a noisy machine the two arms of
 * `bench/run.mjs`, measured one after the other, can differ by ±0.1 from run to run; here a
 * neighbour's burst hits every arm alike. Reports requests/s and CPU per request (user + system
 * of the whole process, from /proc), each as a ratio to the first arm.
 *
 *   node bench/pair.mjs                         --no-inspect vs inspector on, 4 rounds of 5 s
 *   node bench/pair.mjs --rounds 6 --seconds 4
 *   node bench/pair.mjs --cli ../other/bin/llm-relay.js   a third arm: another build, inspector on
 *
 * Not a target: the figures the issues set are `npm run bench`'s. Loopback only; every child is
 * stopped on exit.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { CLAUDE_CODE_BODY, CLAUDE_CODE_PATH, requestHeaders } from "./lib/clients.mjs";
import { CLI, cleanEnv, makeTempDir, readCpuMs, spawnLlmRelay, spawnScript, stopChild, writeRelayConfig } from "./lib/processes.mjs";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "4" },
    seconds: { type: "string", default: "5" },
    connections: { type: "string", default: "16" },
    cli: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (flags.help) {
  console.log("usage: node bench/pair.mjs [--rounds N] [--seconds S] [--connections C] [--cli PATH]");
  process.exit(0);
}
const rounds = Number(flags.rounds);
const seconds = Number(flags.seconds);
const connections = Number(flags.connections);
for (const [name, value] of [["rounds", rounds], ["seconds", seconds], ["connections", connections]]) {
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    console.error(`bench/pair: --${name} must be a whole number from 1 to 1000`);
    process.exit(2);
  }
}

const arms = [
  { name: "--no-inspect", cli: CLI, args: ["--no-inspect"] },
  { name: "inspector on", cli: CLI, args: [] },
  ...(flags.cli ? [{ name: `${path.relative(process.cwd(), path.resolve(flags.cli))} (on)`, cli: path.resolve(flags.cli), args: [] }] : []),
];

const children = new Set();
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(130));

const temp = makeTempDir();
const env = cleanEnv(temp.dir);
const load = (url, duration) =>
  autocannon({ url: `${url}${CLAUDE_CODE_PATH}&bench=json`, method: "POST", headers: requestHeaders(), body: CLAUDE_CODE_BODY, connections, pipelining: 1, duration });

try {
  const mock = await spawnScript("mock-upstream.mjs", [], { env });
  children.add(mock.child);
  const configFile = writeRelayConfig(temp.dir, mock.url);
  const relays = [];
  for (const arm of arms) {
    const relay = await spawnLlmRelay({ configFile, env, cli: arm.cli, args: arm.args });
    children.add(relay.child);
    relays.push(relay);
  }
  await Promise.all(relays.map((relay) => load(relay.url, 2))); // warm-up
  const totals = arms.map(() => ({ requests: 0, cpuMs: 0, failed: 0 }));
  for (let round = 0; round < rounds; round++) {
    const before = relays.map((relay) => readCpuMs(relay.pid));
    const results = await Promise.all(relays.map((relay) => load(relay.url, seconds)));
    results.forEach((result, i) => {
      totals[i].requests += result.requests.total;
      totals[i].cpuMs += readCpuMs(relays[i].pid) - before[i];
      totals[i].failed += result.errors + result.timeouts + result.non2xx;
    });
    process.stderr.write(`bench/pair: round ${round + 1}/${rounds}: ${arms.map((arm, i) => `${arm.name} ${Math.round(results[i].requests.total / seconds)}/s`).join(", ")}\n`);
  }
  const failed = totals.findIndex((t) => t.failed > 0);
  if (failed !== -1) throw new Error(`${arms[failed].name}: ${totals[failed].failed} failed requests under load`);
  const cpuUs = totals.map((t) => (t.cpuMs * 1000) / t.requests);
  console.log(`${rounds} rounds of ${seconds} s, c=${connections} per arm, all arms at once\n`);
  const width = Math.max(...arms.map((arm) => arm.name.length)) + 2;
  console.log(`${"arm".padEnd(width)}${"req/s".padStart(8)}${"÷ first".padStart(10)}${"CPU/request".padStart(14)}${"first ÷ this".padStart(14)}`);
  arms.forEach((arm, i) => {
    const rps = totals[i].requests / (rounds * seconds);
    console.log(
      `${arm.name.padEnd(width)}${rps.toFixed(0).padStart(8)}${(totals[i].requests / totals[0].requests).toFixed(3).padStart(9)}×${`${cpuUs[i].toFixed(1)} µs`.padStart(14)}${(cpuUs[0] / cpuUs[i]).toFixed(3).padStart(13)}×`,
    );
  });
  for (const relay of relays) await stopChild(relay.child);
  await stopChild(mock.child);
} catch (error) {
  console.error(`bench/pair: ${error.message}`);
  process.exitCode = 1;
} finally {
  temp.cleanup();
}
