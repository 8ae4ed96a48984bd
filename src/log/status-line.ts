/**
 * The status line `start` keeps below the request lines on a terminal: how many requests are in
 * flight and the one running longest, so a 12 s stream is visible while it runs, not only when
 * its line is printed at the end. Fed by the same records as the log (the relay's
 * `onRequestStart`, then `onRecord`). Only for a terminal: never in piped output, a file or
 * `--json` (the caller decides, see {@link wantsStatusLine}).
 *
 * Pure; `live-status.ts` is the shell that redraws it with log-update.
 */
import type { ChalkInstance } from "chalk";
import { redact, NO_SECRETS, type KnownSecrets } from "../policy/redact.js";
import { safe } from "./format.js";
import type { RequestRecord } from "./record.js";

/** A request shorter than this never shows: the line would flicker once per quick request. */
export const SHOW_AFTER_MS = 300;

/** How often the elapsed time is redrawn. */
export const REDRAW_MS = 500;

type InFlight = Pick<RequestRecord, "time" | "method" | "path" | "model" | "provider">;

function elapsed(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  return s < 10 ? `${s.toFixed(1)}s` : `${Math.floor(s)}s`;
}

/**
 * `⏳ 2 in flight, longest: POST /v1/messages claude-sonnet-4-5 → anthropic 12.4s`, fitted to
 * `columns` (the path is shortened first, then the end), redacted like every other printed
 * string. Undefined when nothing has run for `showAfterMs` yet. Pure: `now` is passed in.
 */
export function formatStatusLine(
  inFlight: readonly InFlight[],
  { now, columns, chalk, secrets = NO_SECRETS, showAfterMs = SHOW_AFTER_MS }: { now: number; columns: number; chalk: ChalkInstance; secrets?: KnownSecrets; showAfterMs?: number },
): string | undefined {
  let oldest: InFlight | undefined;
  let oldestAt = Infinity;
  for (const r of inFlight) {
    const at = Date.parse(r.time);
    if (at < oldestAt) [oldest, oldestAt] = [r, at];
  }
  if (oldest === undefined || now - oldestAt < showAfterMs) return undefined;
  const clean = (text: string) => safe(redact(text, secrets));
  const head = `${inFlight.length} in flight${inFlight.length > 1 ? ", longest:" : ":"} ${oldest.method}`;
  const tail = `${clean(oldest.model ?? "-")} → ${oldest.provider === undefined ? "none" : clean(oldest.provider)} ${elapsed(now - oldestAt)}`;
  const width = Math.max(20, columns - 1);
  let path = clean(oldest.path);
  const room = width - head.length - tail.length - 2;
  if (path.length > room) path = room > 8 ? `${path.slice(0, room - 1)}…` : "…";
  let line = `${head} ${path} ${tail}`;
  if (line.length > width) line = `${line.slice(0, width - 1)}…`;
  return chalk.dim(line);
}

/** A status line only where a person watches a terminal that nothing else draws on. Pure. */
export function wantsStatusLine({ json, stdoutTTY, stderrTTY, term }: { json: boolean; stdoutTTY: boolean; stderrTTY: boolean; term: string | undefined }): boolean {
  return !json && stdoutTTY && stderrTTY && term !== "dumb";
}
