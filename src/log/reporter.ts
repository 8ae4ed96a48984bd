/**
 * Where request records go: a terminal or file as colored/plain lines (`--verbose` adds the
 * decision lines), or NDJSON (`--json`, log files). The records are already redacted; reporters
 * only format and write.
 */
import type { ChalkInstance } from "chalk";
import { formatDecisionLines, formatRequestLine, formatRouteLine } from "./format.js";
import type { RequestRecord } from "./record.js";

export interface LineSink {
  write(text: string): unknown;
}

export interface ReporterOptions {
  sink: LineSink;
  json: boolean;
  verbose: boolean;
  /** `-vv`: list the headers passed through unchanged one by one instead of folding them into a line. */
  allDecisions?: boolean | undefined;
  chalk: ChalkInstance;
}

export type Reporter = (record: RequestRecord) => void;

/** The JSON form of a record: decisions only when verbose (they are most of its size). */
export function recordJson(record: RequestRecord, verbose: boolean): string {
  if (verbose || record.decisions === undefined) return JSON.stringify(record);
  const { decisions: _omitted, ...rest } = record;
  return JSON.stringify(rest);
}

export function createReporter({ sink, json, verbose, allDecisions = false, chalk }: ReporterOptions): Reporter {
  if (json) return (record) => sink.write(`${recordJson(record, verbose)}\n`);
  return (record) => {
    let text = `${formatRequestLine(record, chalk)}\n`;
    if (verbose) {
      const route = formatRouteLine(record, chalk);
      if (route !== undefined) text += `${route}\n`;
    }
    if (verbose && record.decisions && record.decisions.length > 0) {
      text += `${formatDecisionLines(record.decisions, chalk, "    ", allDecisions).join("\n")}\n`;
    }
    sink.write(text);
  };
}

export interface BatchedSink extends LineSink {
  /** Write what is pending now (before exit). */
  flush(): void;
}

/**
 * Collects lines and writes them once per event-loop turn: under load one `write` (a
 * synchronous syscall for files and terminals) serves many requests instead of one each.
 */
export function batchedSink(target: LineSink): BatchedSink {
  let pending: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.length === 1 ? pending[0]! : pending.join("");
    pending = [];
    target.write(text);
  };
  return {
    write(text: string) {
      pending.push(text);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}
