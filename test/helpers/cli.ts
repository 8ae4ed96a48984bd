/**
 * The built binary (`bin/llm-relay.js`, run `npm run build` first; `npm test` does), spawned
 * as a user would run it, with output captured.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BIN = path.join(ROOT, "bin", "llm-relay.js");

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** An environment without the caller's LLM settings, colors off, HOME/XDG pointed at `home`. */
export function cleanEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(ANTHROPIC_|OPENAI_|LLM_RELAY_|CLAUDE_|HTTPS?_PROXY|NO_PROXY|FORCE_COLOR|NO_COLOR)/i.test(k)) continue;
    env[k] = v;
  }
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, ".config"),
    XDG_STATE_HOME: path.join(home, ".local", "state"),
    NO_COLOR: "1",
    ...extra,
  };
}

export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<CliResult>;
}

export function startCli(args: string[], options: { env: NodeJS.ProcessEnv; cwd?: string }): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: options.env,
    cwd: options.cwd ?? ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const listeners = new Set<() => void>();
  child.stdout!.on("data", (d: Buffer) => {
    stdout += d.toString();
    for (const l of listeners) l();
  });
  child.stderr!.on("data", (d: Buffer) => {
    stderr += d.toString();
    for (const l of listeners) l();
  });
  const exited = new Promise<CliResult>((resolve) => {
    child.on("close", (code, signal) => {
      for (const l of listeners) l();
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor: (pattern, timeoutMs) => waitForOutput(child, listeners, () => stdout + stderr, pattern, timeoutMs),
  };
}

/**
 * Resolves with the first match of `pattern` in `text()`, checked now and whenever a listener
 * fires (the caller's output handlers call them); rejects when the child exits first or time runs out.
 */
export function waitForOutput(
  child: ChildProcess,
  listeners: Set<() => void>,
  text: () => string,
  pattern: RegExp,
  timeoutMs = 10_000,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = text().match(pattern);
      if (m) {
        listeners.delete(check);
        clearTimeout(timer);
        resolve(m);
      } else if (child.exitCode !== null || child.signalCode !== null) {
        listeners.delete(check);
        clearTimeout(timer);
        reject(new Error(`process exited before ${pattern}:\n${text()}`));
      }
    };
    const timer = setTimeout(() => {
      listeners.delete(check);
      reject(new Error(`timed out waiting for ${pattern}:\n${text()}`));
    }, timeoutMs);
    listeners.add(check);
    check();
  });
}

/** Run to completion (with a deadline) and capture everything. */
export async function runCli(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<CliResult> {
  const running = startCli(args, options);
  const timer = setTimeout(() => running.child.kill("SIGKILL"), options.timeoutMs ?? 15_000);
  const result = await running.exited;
  clearTimeout(timer);
  return result;
}
