/**
 * Pure formatting of request records: the colored request line and the `--verbose` decision
 * lines (DESIGN §9). Color comes from the chalk instance passed in (level 0 = plain text).
 */
import type { ChalkInstance } from "chalk";
import type { Decision, DecisionAction } from "../policy/headers.js";
import type { RequestRecord } from "./record.js";

/**
 * Fields that come from the client (path, model, header values) may hold control characters; an
 * ESC would let a request body repaint the user's terminal. Show them escaped, as JSON would.
 */
export function safe(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(2)}s`;
}

function clock(iso: string): string {
  return iso.slice(11, 19);
}

function statusColor(chalk: ChalkInstance, status: number): (text: string) => string {
  if (status >= 500) return chalk.red;
  if (status >= 400) return chalk.yellow;
  if (status >= 300) return chalk.cyan;
  return chalk.green;
}

/**
 * `12:04:05 POST /v1/messages claude-sonnet-4 → anthropic 200 stream 1.23s ttfb 310ms in 1200 out 45`;
 * a model the provider's `models` renamed reads `claude-haiku-4-5 → local (as qwen3-coder:30b)`.
 */
export function formatRequestLine(record: RequestRecord, chalk: ChalkInstance): string {
  const parts = [
    chalk.dim(clock(record.time)),
    chalk.bold(record.method),
    safe(record.path),
    record.model ? chalk.magenta(safe(record.model)) : chalk.dim("-"),
    `→ ${record.provider ? chalk.cyan(record.provider) : chalk.dim("none")}`,
    ...(record.upstreamModel !== undefined && record.upstreamModel !== record.model ? [chalk.magenta(`(as ${safe(record.upstreamModel)})`)] : []),
    statusColor(chalk, record.status)(String(record.status)),
    record.stream ? "stream" : "json",
    formatDuration(record.durationMs),
  ];
  if (record.ttfbMs !== undefined) parts.push(chalk.dim(`ttfb ${formatDuration(record.ttfbMs)}`));
  const usage = record.usage;
  if (usage) {
    if (usage.inputTokens !== undefined) parts.push(`in ${usage.inputTokens}`);
    if (usage.outputTokens !== undefined) parts.push(`out ${usage.outputTokens}`);
    if (usage.cacheReadTokens) parts.push(chalk.dim(`cache-read ${usage.cacheReadTokens}`));
    if (usage.cacheCreationTokens) parts.push(chalk.dim(`cache-write ${usage.cacheCreationTokens}`));
  }
  if (record.error) parts.push(chalk.red(safe(record.error)));
  return parts.join(" ");
}

function actionColor(chalk: ChalkInstance, action: DecisionAction): (text: string) => string {
  switch (action) {
    case "forward":
      return chalk.green;
    case "set":
      return chalk.blue;
    case "rewrite":
      return chalk.yellow;
    case "strip":
      return chalk.gray;
    case "withhold":
      return chalk.red;
  }
}

/** One line per decision: header, action, redacted value, reason. */
export function formatDecisionLines(decisions: readonly Decision[], chalk: ChalkInstance, indent = "    "): string[] {
  const nameWidth = Math.min(36, Math.max(0, ...decisions.map((d) => d.header.length)));
  return decisions.map((d) => {
    const color = actionColor(chalk, d.action);
    const value = safe(d.value.length > 120 ? `${d.value.slice(0, 117)}...` : d.value);
    return `${indent}${d.header.padEnd(nameWidth)}  ${color(d.action.padEnd(8))}  ${value}  ${chalk.dim(`(${safe(d.reason)})`)}`;
  });
}

/** The `--verbose` line naming the rule that chose the provider (and the token estimate it used). */
export function formatRouteLine(record: RequestRecord, chalk: ChalkInstance, indent = "    "): string | undefined {
  if (record.route === undefined) return undefined;
  const estimate = record.inputTokensEstimate === undefined ? "" : chalk.dim(` (input estimate ${record.inputTokensEstimate} tokens)`);
  return `${indent}${chalk.dim("route")}  ${safe(record.route)}${estimate}`;
}
