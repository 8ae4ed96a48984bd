/**
 * The bench's processes: the mock upstream, the baseline relay and the real `llm-relay start`,
 * each in its own process so its memory can be read from /proc, plus the /proc readers and a
 * bounded stop. Every child is tied to us by its stdin pipe and is stopped by pid.
 */
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { request } from "undici";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BENCH_DIR = path.join(ROOT, "bench");
export const CLI = path.join(ROOT, "bin", "llm-relay.js");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A temp folder removed by `cleanup()`. */
export function makeTempDir() {
  const dir = mkdtempSync(path.join(tmpdir(), "llm-relay-bench-"));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The environment every child runs in: no proxy (EnvHttpProxyAgent would send loopback traffic
 * to it), no inherited NODE_OPTIONS or LLM_RELAY_* settings, no colors, a throwaway HOME.
 */
export function cleanEnv(home) {
  const env = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(https?_proxy|all_proxy|no_proxy|node_options|llm_relay_.*|force_color|anthropic_.*|openai_.*)$/i.test(name)) continue;
    env[name] = value;
  }
  return { ...env, HOME: home, XDG_CONFIG_HOME: path.join(home, ".config"), NO_PROXY: "127.0.0.1,localhost", NO_COLOR: "1" };
}

/** A port that was free a moment ago (the CLI is given `--port`, as a user would). */
export async function freePort() {
  const server = net.createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `VmRSS` and `VmHWM` (peak RSS) of a process, in bytes; undefined when /proc is unavailable. */
export function readMemory(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kib = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kib("VmRSS"), hwm: kib("VmHWM") };
  } catch {
    return undefined;
  }
}

let clockTicks;
/** CPU time (user + system) a process has used, in ms, from /proc/<pid>/stat; undefined without /proc. */
export function readCpuMs(pid) {
  try {
    clockTicks ??= Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    clockTicks = 100;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return undefined;
  }
}

/** Reset a process's VmHWM to its current RSS (Linux ≥ 4.0, `clear_refs` value 5); false if refused. */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** Samples VmRSS every `intervalMs` until `stop()`, which returns the highest value seen. */
export function sampleRss(pid, intervalMs = 5) {
  let max = readMemory(pid)?.rss ?? NaN;
  const timer = setInterval(() => {
    const rss = readMemory(pid)?.rss;
    if (rss !== undefined && !(rss <= max)) max = rss;
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const rss = readMemory(pid)?.rss;
      if (rss !== undefined && !(rss <= max)) max = rss;
      return max;
    },
  };
}

/** The soft and hard open-file limits of this process, from /proc. */
export function openFileLimits() {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
    const [soft, hard] = line.trim().split(/\s+/).slice(3, 5).map((v) => (v === "unlimited" ? Infinity : Number(v)));
    return { soft, hard };
  } catch {
    return undefined;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the child has exited. */
export async function stopChild(child, graceMs = 3000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
  await exited;
  clearTimeout(timer);
}

function tail(text, lines = 20) {
  return text.split("\n").slice(-lines).join("\n");
}

/** Spawn a bench server script that prints a `{"port":N}` line; resolves once it listens. */
export async function spawnScript(script, args, { env, nodeArgs = [] }) {
  const child = spawn(process.execPath, [...nodeArgs, path.join(BENCH_DIR, script), ...args], {
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr = tail(stderr + d)));
  let buffered = "";
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start in 10 s:\n${stderr}`)), 10_000);
    child.once("exit", (code) => reject(new Error(`${script} exited (${code}) before listening:\n${stderr}`)));
    // Node flags such as --trace-gc may print before the script does: look for our line.
    const onData = (d) => {
      buffered += d;
      const match = /^\{"port":(\d+)\}$/m.exec(buffered);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off("data", onData);
      resolve(Number(match[1]));
    };
    child.stdout.on("data", onData);
  });
  child.removeAllListeners("exit");
  child.stdout.resume();
  return { child, pid: child.pid, port, url: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

/** Polls `GET /_relay/health` (a refused connection fails fast) until it answers 200. */
export async function waitForHealth(url, { timeoutMs = 10_000, everyMs = 2, child } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`llm-relay exited with ${child.exitCode} before listening`);
    try {
      const res = await request(`${url}/_relay/health`, { headersTimeout: 1000, bodyTimeout: 1000 });
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(everyMs);
  }
  throw new Error(`llm-relay did not answer ${url}/_relay/health within ${timeoutMs} ms`);
}

/**
 * The config the llm-relay arm runs with: the anthropic and openai providers pointed at the mock,
 * the subscription token trusted to it, as a user with a local gateway would write.
 */
export function writeRelayConfig(dir, upstreamUrl, variant = BODY_VARIANTS.plain) {
  const file = path.join(dir, `llm-relay.bench${variant.suffix}.json`);
  const config = {
    providers: {
      anthropic: { kind: "anthropic", baseUrl: upstreamUrl, oauth: "forward", ...variant.anthropic },
      openai: { kind: "openai", baseUrl: upstreamUrl },
    },
    ...(variant.routes ? { routes: variant.routes } : {}),
    timeouts: { shutdownMs: 2000 },
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/**
 * The body-decision arms (DESIGN §10), on the Claude Code fixture body: `rewrite` renames its
 * model (the sniffer's span spliced, content-length recomputed); `when` has a route whose `when`
 * holds for it, so every body is read whole and parsed before routing.
 */
export const BODY_VARIANTS = {
  plain: { suffix: "" },
  rewrite: { suffix: ".rewrite", anthropic: { models: { "claude-sonnet-4-5*": "claude-sonnet-4-5" } } },
  when: { suffix: ".when", routes: [{ when: { stream: true, thinking: false }, provider: "anthropic" }] },
};

/**
 * `node bin/llm-relay.js start --port P --config F` with logging on, `--verbose` off. Its stdout
 * goes to a file, as a terminal would take it: written synchronously, never blocked by a reader
 * (a pipe read by this busy load generator would stall the relay and measure us, not it).
 * Resolves once the health endpoint answers.
 */
export async function spawnLlmRelay({ configFile, env, nodeArgs = [], cli = CLI, args = [] }) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = path.join(path.dirname(configFile), `stdout-${port}-${Date.now()}.log`);
  const stdout = openSync(logFile, "w");
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [...nodeArgs, cli, "start", "--port", String(port), "--config", configFile, ...args], {
    env,
    stdio: ["pipe", stdout, "pipe"],
  });
  closeSync(stdout);
  let stderr = "";
  child.stderr.on("data", (d) => (stderr = tail(stderr + d)));
  try {
    await waitForHealth(url, { child });
  } catch (error) {
    await stopChild(child);
    throw new Error(`${error.message}\n${stderr}`);
  }
  const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    child,
    pid: child.pid,
    port,
    url,
    readyMs,
    logFile,
    /** Lines llm-relay has printed on stdout so far (one per request). */
    logLines() {
      const text = readFileSync(logFile);
      let lines = 0;
      for (let i = text.indexOf(10); i !== -1; i = text.indexOf(10, i + 1)) lines++;
      return lines;
    },
    get stderr() {
      return stderr;
    },
    stop: () => stopChild(child, 5000),
  };
}
