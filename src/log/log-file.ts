/**
 * `--log-file`: one NDJSON record per line (the record `--json` prints; decisions only with
 * `--verbose`), appended, created private (0600) since it describes the user's traffic. Records
 * are redacted before they get here, so the file never holds a raw secret.
 *
 * Rotation-safe two ways:
 * - `reopen()` (wired to SIGHUP by `start`): after logrotate or `mv` moved the file, the next
 *   records go to a fresh file at the same path (the `copytruncate`-free logrotate contract,
 *   like nginx's `USR1` / syslog's `HUP`).
 * - A size cap (default {@link DEFAULT_MAX_LOG_BYTES}): before a record would take the file
 *   past it, the file is renamed to `FILE.1` (replacing any older `FILE.1`) and a fresh `FILE`
 *   is started, so an unattended relay keeps at most about twice the cap on disk.
 */
import { createWriteStream, fchmodSync, openSync, renameSync, statSync, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { RequestRecord } from "./record.js";
import { recordJson } from "./reporter.js";

/** 10 MiB: about 20 000 records without decisions, 2 000 with `--verbose`. */
export const DEFAULT_MAX_LOG_BYTES = 10 * 1024 * 1024;

export interface LogFileOptions {
  verbose: boolean;
  /** Rotate to `FILE.1` before the file would grow past this many bytes; 0 = never. */
  maxBytes?: number;
}

export interface LogFile {
  readonly path: string;
  write(record: RequestRecord): void;
  /** Start a fresh file at the same path (after the old one was moved away). */
  reopen(): void;
  close(): Promise<void>;
}

/**
 * Opens the file now (synchronously) for appending, private (0600) whether new or already there,
 * and wraps the descriptor in a stream; `start --log-file` and `exec --log-file` both write
 * through it. Opening eagerly matters for rotation: a rename right after must move the file this
 * stream writes to, not race an open that has not happened yet. A later write error (disk full,
 * folder removed) must not crash the relay: logging is best effort. Open errors throw.
 */
export function openPrivateAppend(file: string): WriteStream {
  const fd = openSync(file, "a", 0o600);
  // The mode above only applies to a new file; an existing one is made private too (best effort).
  try {
    fchmodSync(fd, 0o600);
  } catch {
    // not ours to change (another owner): keep logging
  }
  const stream = createWriteStream(file, { fd, flags: "a" });
  stream.on("error", () => {});
  return stream;
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export async function openLogFile(file: string, { verbose, maxBytes = DEFAULT_MAX_LOG_BYTES }: LogFileOptions): Promise<LogFile> {
  const target = path.resolve(file);
  const fail = (error: NodeJS.ErrnoException) =>
    Object.assign(new Error(`cannot open log file ${target}: ${error.code ?? error.message}`), { name: "CliError" });
  await mkdir(path.dirname(target), { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw fail(error);
  });
  let stream: WriteStream;
  try {
    stream = openPrivateAppend(target);
  } catch (error) {
    throw fail(error as NodeJS.ErrnoException);
  }
  // Bytes in the current file: what was there before (we append) plus what we wrote.
  let size = fileSize(target);

  const reopen = () => {
    const old = stream;
    try {
      stream = openPrivateAppend(target);
    } catch {
      return; // The folder is gone or not writable: keep the old file rather than lose records.
    }
    // A SIGHUP without a move keeps appending to the same file: keep counting from its size.
    size = fileSize(target);
    old.end();
  };

  const rotate = () => {
    try {
      // Writes already queued on the old stream still land in the renamed file: its fd follows the inode.
      renameSync(target, `${target}.1`);
    } catch {
      // Moved away already (logrotate got there first): a fresh file is what we want anyway.
    }
    reopen();
  };

  return {
    path: target,
    write(record) {
      const line = `${recordJson(record, verbose)}\n`;
      const bytes = Buffer.byteLength(line);
      if (maxBytes > 0 && size > 0 && size + bytes > maxBytes) rotate();
      stream.write(line);
      size += bytes;
    },
    reopen,
    close() {
      return new Promise((resolve) => stream.end(resolve));
    },
  };
}
