/**
 * The shell of the status line (see `status-line.ts`): redraws it with log-update below what
 * `start` prints on a terminal. Loaded only when a status line is wanted.
 */
import type { ChalkInstance } from "chalk";
import { createLogUpdate } from "log-update";
import { NO_SECRETS, type KnownSecrets } from "../policy/redact.js";
import type { RequestRecord } from "./record.js";
import type { LineSink } from "./reporter.js";
import { formatStatusLine, REDRAW_MS, SHOW_AFTER_MS } from "./status-line.js";

export interface StatusLine {
  /** A request left for its upstream. */
  start(record: RequestRecord): void;
  /** A request ended (its line is about to be written). */
  end(record: RequestRecord): void;
  /** Writes text above the status line (request lines, notes), then redraws it. */
  above(target: LineSink): LineSink;
  /** Clears the line and stops redrawing (before exit). */
  stop(): void;
}

/**
 * Redraws the status line on `stream` (a terminal) every {@link REDRAW_MS} while a request has
 * run for {@link SHOW_AFTER_MS}; text written through `above` goes above it. The timer does not
 * keep the process alive, and nothing runs while no request is in flight.
 */
export function createStatusLine(stream: NodeJS.WriteStream, chalk: ChalkInstance, secrets: KnownSecrets = NO_SECRETS): StatusLine {
  const update = createLogUpdate(stream, { showCursor: true });
  const inFlight = new Map<number, RequestRecord>();
  let shown = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const draw = () => {
    const line = stopped ? undefined : formatStatusLine([...inFlight.values()], { now: Date.now(), columns: stream.columns || 80, chalk, secrets });
    if (line === undefined) {
      if (shown) update.clear();
      shown = false;
    } else {
      update(line);
      shown = true;
    }
  };
  const stopTimer = () => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };

  return {
    start(record) {
      if (stopped) return;
      inFlight.set(record.id, record);
      if (timer === undefined) {
        timer = setInterval(draw, REDRAW_MS);
        timer.unref();
      }
    },
    end(record) {
      if (!inFlight.delete(record.id) || inFlight.size > 0) return;
      stopTimer();
      draw();
    },
    above(target) {
      return {
        write(text: string) {
          if (!shown) return target.write(text);
          update.clear();
          shown = false;
          const written = target.write(text);
          draw();
          return written;
        },
      };
    },
    stop() {
      stopped = true;
      stopTimer();
      inFlight.clear();
      draw();
      update.done();
    },
  };
}
