/**
 * Where `exec` writes its request records (DESIGN §7): the child owns the terminal, so they go to
 * a private file under the user's state folder (or `--log-file FILE`), or to stderr with
 * `--log-file -`.
 *
 * A file gets what `start --log-file` writes (NDJSON, one record a line, decisions with
 * `--verbose`, rotated at 10 MiB): one format for every log file, so one reader serves both.
 * The file is created at the first request: a session whose command made none leaves nothing.
 * stderr (`--log-file -`) is a terminal, and gets the human lines (NDJSON with `--json`).
 */
import { accessSync, constants, statSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { chalkFor } from "../log/color.js";
import { openLogFile, type LogFile } from "../log/log-file.js";
import type { RequestRecord } from "../log/record.js";
import { createReporter } from "../log/reporter.js";

export interface SessionLog {
  /** The file's absolute path, or `stderr`. */
  readonly where: string;
  /** Whether a record was written (false: no file was created). */
  readonly used: boolean;
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

/**
 * The path as the child meant it: the session's own `/_t/<token>` prefix (already redacted to
 * `/_t/…[len=43 #…]`, a doubled one too) is exec's plumbing, not the client's request. Any other
 * token-shaped segment stays, redacted, since it is not ours to hide. Pure.
 * @example sessionPath("/_t/…[len=43 #eb248c]/v1/messages", "/_t/…[len=43 #eb248c]") // "/v1/messages"
 */
export function sessionPath(shown: string, redactedPrefix: string): string {
  let rest = shown;
  while (rest.startsWith(redactedPrefix) && (rest.length === redactedPrefix.length || "/?".includes(rest[redactedPrefix.length]!))) {
    rest = rest.slice(redactedPrefix.length);
  }
  if (rest === shown) return shown;
  return rest === "" || rest.startsWith("?") ? `/${rest}` : rest;
}

/** Named CliError so the CLI prints it as a user error, without exec importing the CLI layer. */
function cannotOpen(file: string, error: NodeJS.ErrnoException): Error {
  return Object.assign(new Error(`cannot open log file ${file}: ${error.code ?? error.message}`), { name: "CliError" });
}

/**
 * Checks now, before the child runs, that the file could be created or appended to (the folder
 * is made, 0700), without creating it: a bad `--log-file` is an error up front, not a lost log.
 */
async function checkWritable(file: string): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    let exists = true;
    try {
      if (statSync(file).isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      exists = false;
    }
    accessSync(exists ? file : path.dirname(file), constants.W_OK);
  } catch (error) {
    throw cannotOpen(file, error as NodeJS.ErrnoException);
  }
}

export async function openSessionLog(
  target: string,
  format: { json: boolean; verbose: boolean; allDecisions?: boolean },
  stderr: NodeJS.WriteStream = process.stderr,
): Promise<SessionLog> {
  if (target === "-") {
    const report = createReporter({ sink: stderr, ...format, chalk: chalkFor(stderr) });
    let used = false;
    return {
      where: "stderr",
      get used() {
        return used;
      },
      write: (record) => {
        used = true;
        report(record);
      },
      close: async () => {},
    };
  }
  const file = path.resolve(target);
  await checkWritable(file);
  // Opened at the first record; records that arrive while it opens are written in order after.
  let opening: Promise<LogFile | undefined> | undefined;
  const open = () =>
    openLogFile(file, { verbose: format.verbose }).catch((error: Error) => {
      // The folder went away mid-session: say so once; the relay keeps serving the child.
      stderr.write(`llm-relay: warning: ${error.message}; requests are not logged\n`);
      return undefined;
    });
  return {
    where: file,
    get used() {
      return opening !== undefined;
    },
    write(record) {
      opening ??= open();
      void opening.then((log) => log?.write(record));
    },
    async close() {
      const log = await opening;
      await log?.close();
    },
  };
}
