/**
 * Where `exec` writes its request lines (DESIGN §7): the child owns the terminal, so they go to a
 * private file under the user's state folder (or `--log-file FILE`), or to stderr with
 * `--log-file -`. Files get plain text (NDJSON with `--json`), never color.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { Chalk } from "chalk";
import { chalkFor } from "../log/color.js";
import type { RequestRecord } from "../log/record.js";
import { createReporter } from "../log/reporter.js";
import { CliError } from "../cli/errors.js";

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

function openPrivate(file: string): Promise<WriteStream> {
  return new Promise((resolve, reject) => {
    // 0600: the log describes the user's traffic (paths, models, redacted credentials).
    const stream = createWriteStream(file, { flags: "a", mode: 0o600 });
    stream.once("open", () => resolve(stream));
    stream.once("error", reject);
  });
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
    stream = await openPrivate(file);
  } catch (error) {
    throw new CliError(`cannot open log file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  // A full disk must not take the session down; the child keeps running without its log.
  stream.on("error", () => {});
  const report = createReporter({ sink: stream, ...format, chalk: new Chalk({ level: 0 }) });
  return {
    where: file,
    write: report,
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}
