/**
 * The chalk instance for one output stream: NO_COLOR (no-color.org) wins, then FORCE_COLOR,
 * then whether the stream is a terminal. Files and pipes get plain text.
 */
import { Chalk, supportsColor, type ChalkInstance, type ColorSupportLevel } from "chalk";

export function chalkFor(stream: { isTTY?: boolean } | undefined, env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  return new Chalk({ level: colorLevel(stream, env) });
}

export function colorLevel(stream: { isTTY?: boolean } | undefined, env: NodeJS.ProcessEnv): ColorSupportLevel {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return 0;
  if (env.FORCE_COLOR !== undefined) {
    if (env.FORCE_COLOR === "false" || env.FORCE_COLOR === "0") return 0;
    const n = Number.parseInt(env.FORCE_COLOR, 10);
    return (Number.isNaN(n) ? 1 : Math.min(Math.max(n, 1), 3)) as ColorSupportLevel;
  }
  if (!stream?.isTTY) return 0;
  return supportsColor ? supportsColor.level : 1;
}
