/**
 * `--log-file`: one NDJSON record per line, appended, created private (0600) since it describes
 * the user's traffic. Rotation-safe: `reopen()` (on SIGHUP) starts writing to a fresh file at
 * the same path after logrotate moved the old one.
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { RequestRecord } from "./record.js";
import { recordJson } from "./reporter.js";

export interface LogFile {
  readonly path: string;
  write(record: RequestRecord): void;
  reopen(): void;
  close(): Promise<void>;
}

function open(file: string): Promise<WriteStream> {
  return new Promise((resolve, reject) => {
    const stream = createWriteStream(file, { flags: "a", mode: 0o600 });
    stream.once("open", () => resolve(stream));
    stream.once("error", reject);
  });
}

export async function openLogFile(file: string, { verbose }: { verbose: boolean }): Promise<LogFile> {
  const target = path.resolve(file);
  await mkdir(path.dirname(target), { recursive: true });
  let stream = await open(target).catch((error: NodeJS.ErrnoException) => {
    throw Object.assign(new Error(`cannot open log file ${target}: ${error.code ?? error.message}`), { name: "CliError" });
  });
  stream.on("error", () => {});
  return {
    path: target,
    write(record) {
      stream.write(`${recordJson(record, verbose)}\n`);
    },
    reopen() {
      const old = stream;
      stream = createWriteStream(target, { flags: "a", mode: 0o600 });
      stream.on("error", () => {});
      old.end();
    },
    close() {
      return new Promise((resolve) => stream.end(resolve));
    },
  };
}
