/**
 * Pure formatting of request records: the colored request line and the `--verbose` decision
 * lines (DESIGN §9). Color comes from the chalk instance passed in (level 0 = plain text).
 */
import type { ChalkInstance } from "chalk";
import type { Decision, DecisionAction } from "../policy/headers.js";
import type { RequestRecord, UpstreamError } from "./record.js";

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
    // Red when the provider then refused (the likely cause), yellow when it answered anyway (a local model).
    ...(oauthWithheld(record) ? [(record.status === 401 || record.status === 403 ? chalk.red : chalk.yellow)(OAUTH_WITHHELD_MARK)] : []),
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
  if (record.upstreamError) parts.push(...upstreamErrorParts(record.upstreamError, chalk));
  return parts.join(" ");
}

/** `rate_limit_error: Number of request tokens… request-id req_011C… retry-after 30s`. */
function upstreamErrorParts(e: UpstreamError, chalk: ChalkInstance): string[] {
  const parts: string[] = [];
  const kind = [e.type, e.code].filter((x) => x !== undefined).join("/");
  if (kind !== "" || e.message !== undefined) {
    parts.push(chalk.red(safe(kind === "" ? e.message! : e.message === undefined ? kind : `${kind}: ${e.message}`)));
  }
  if (e.requestId !== undefined) parts.push(chalk.dim(`request-id ${safe(e.requestId)}`));
  if (e.retryAfter !== undefined) parts.push(chalk.yellow(`retry-after ${safe(/^\d+$/.test(e.retryAfter) ? `${e.retryAfter}s` : e.retryAfter)}`));
  return parts;
}

/** What the request line says when an Anthropic OAuth token was kept from the provider. */
export const OAUTH_WITHHELD_MARK = "oauth withheld";

/**
 * The withhold reasons §5 gives an Anthropic OAuth token (src/policy/reach.ts), in a header, a
 * query parameter, or a value carrying one; a token only stripped because the provider has its
 * own `apiKey` is not withheld (the provider gets a credential).
 */
const OAUTH_WITHHOLD_REASON = /^(carries an )?Anthropic OAuth token\b/;

/** Whether the client's OAuth token was withheld from this request's provider. Pure. */
export function oauthWithheld(record: Pick<RequestRecord, "decisions">): boolean {
  return record.decisions?.some((d) => d.action === "withhold" && OAUTH_WITHHOLD_REASON.test(d.reason)) === true;
}

/**
 * The once-per-run hint after the first `oauth withheld` line: a provider behind a gateway that
 * needs the subscription token answers 401, and the setting that allows it is not obvious.
 */
export function oauthWithheldHint(record: RequestRecord, chalk: ChalkInstance): string | undefined {
  if (!oauthWithheld(record) || record.provider === undefined) return undefined;
  const provider = safe(record.provider);
  const reason = record.decisions!.find((d) => d.action === "withhold" && OAUTH_WITHHOLD_REASON.test(d.reason))!.reason;
  // Only an anthropic-kind provider can be trusted with the token; elsewhere no setting allows it.
  const allow = reason.includes('oauth: "forward"')
    ? `If it needs your Claude subscription token, set oauth: "forward" on providers.${provider} (a project config then needs llm-relay trust).`
    : `No setting sends it there: ${safe(reason.replace(/^carries an /, "an "))}.`;
  return `${chalk.yellow("llm-relay: note:")} ${provider} did not get the client's Anthropic OAuth token (${OAUTH_WITHHELD_MARK}), so it may answer 401. ${allow} (Shown once.)`;
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

/** The reason §5 step 6 gives a header forwarded unchanged: most of a request's headers. */
const PASSED_THROUGH = "passed through";

/** A header name longer than this overflows its own line instead of widening every line. */
const MAX_NAME_WIDTH = 48;

/** The folded line lists names up to about this many characters. */
const FOLDED_NAMES_CHARS = 100;

/**
 * One line per decision: header, action, redacted value, reason. Headers forwarded unchanged
 * ("passed through") fold into one line naming them, unless `all` (`-vv`); the name column is as
 * wide as the longest name shown.
 */
export function formatDecisionLines(decisions: readonly Decision[], chalk: ChalkInstance, indent = "    ", all = true): string[] {
  const folded = all ? [] : decisions.filter((d) => d.action === "forward" && d.reason === PASSED_THROUGH);
  const shown = folded.length === 0 ? decisions : decisions.filter((d) => !folded.includes(d));
  const nameWidth = Math.min(MAX_NAME_WIDTH, Math.max(0, ...shown.map((d) => d.header.length)));
  const lines = shown.map((d) => {
    const color = actionColor(chalk, d.action);
    const value = safe(d.value.length > 120 ? `${d.value.slice(0, 117)}...` : d.value);
    return `${indent}${safe(d.header).padEnd(nameWidth)}  ${color(d.action.padEnd(8))}  ${value}  ${chalk.dim(`(${safe(d.reason)})`)}`;
  });
  if (folded.length > 0) {
    const noun = folded.length === 1 ? "header" : "headers";
    lines.push(`${indent}${chalk.green(`${folded.length} ${noun} ${PASSED_THROUGH}`)}: ${listNames(folded.map((d) => safe(d.header)))} ${chalk.dim("(-vv lists them)")}`);
  }
  return lines;
}

/** `accept, anthropic-version, user-agent, … +9 more`, about FOLDED_NAMES_CHARS long. */
function listNames(names: readonly string[]): string {
  let text = "";
  for (let i = 0; i < names.length; i++) {
    const next = text === "" ? names[i]! : `${text}, ${names[i]}`;
    if (next.length > FOLDED_NAMES_CHARS && i > 0) return `${text}, … +${names.length - i} more`;
    text = next;
  }
  return text;
}

/** The `--verbose` line naming the rule that chose the provider (and the token estimate it used). */
export function formatRouteLine(record: RequestRecord, chalk: ChalkInstance, indent = "    "): string | undefined {
  if (record.route === undefined) return undefined;
  const estimate = record.inputTokensEstimate === undefined ? "" : chalk.dim(` (input estimate ${record.inputTokensEstimate} tokens)`);
  return `${indent}${chalk.dim("route")}  ${safe(record.route)}${estimate}`;
}
