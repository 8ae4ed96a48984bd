/**
 * Where `exec` writes its request lines (DESIGN §7): the child owns the terminal, so they go to a
 * private file under the user's state folder (or `--log-file FILE`), or to stderr with
 * `--log-file -`. Files get plain text (NDJSON with `--json`), never color.
 */
import type { WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { Chalk } from "chalk";
import { chalkFor } from "../log/color.js";
import type { RequestRecord } from "../log/record.js";
import { openPrivateAppend } from "../log/log-file.js";
import { createReporter } from "../log/reporter.js";

export interface SessionLog {
  /** The file's absolute path, or `stderr`. */
  readonly where: string;
  write(record: RequestRecord): void;
  close(): Promise<void>;
}

/**
 * `$XDG_STATE_HOME/llm-relay/exec-<time>-<pid>.log`; the XDG Base Directory spec says to ignore a
 * relative `XDG_STATE_HOME`, and its default is `~/.local/state`. Pure.
 */
export function defaultLogPath(env: NodeJS.ProcessEnv, home: string, now: Date, pid: number): string {
  const xdg = env.XDG_STATE_HOME;
  const base = xdg && path.isAbsolute(xdg) ? xdg : path.join(home, ".local", "state");
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  return path.join(base, "llm-relay", `exec-${stamp}-${pid}.log`);
}

export async function openSessionLog(
  target: string,
  format: { json: boolean; verbose: boolean },
  stderr: NodeJS.WriteStream = process.stderr,
): Promise<SessionLog> {
  if (target === "-") {
    const report = createReporter({ sink: stderr, ...format, chalk: chalkFor(stderr) });
    return { where: "stderr", write: report, close: async () => {} };
  }
  const file = path.resolve(target);
  let stream: WriteStream;
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    // 0600 even when the file already exists: the log describes the user's traffic (paths, models, redacted credentials).
    stream = openPrivateAppend(file);
  } catch (error) {
    // Named CliError so the CLI prints it as a user error, without exec importing the CLI layer.
    const message = `cannot open log file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`;
    throw Object.assign(new Error(message), { name: "CliError" });
  }
  const report = createReporter({ sink: stream, ...format, chalk: new Chalk({ level: 0 }) });
  return {
    where: file,
    write: report,
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}
