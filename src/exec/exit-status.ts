/**
 * How `exec` turns its child's fate into its own exit code, the way POSIX shells do
 * (POSIX.1-2017 XCU §2.8.2): the child's code; 128+n when signal n killed it; 127 when the
 * command was not found; 126 when it was found but could not be run. Pure.
 */
import { constants } from "node:os";

/** The shell's "command not found" status. */
export const EXIT_NOT_FOUND = 127;
/** The shell's "found but not executable" status. */
export const EXIT_NOT_EXECUTABLE = 126;

export type ChildOutcome =
  | { kind: "exited"; code: number }
  | { kind: "signaled"; signal: NodeJS.Signals }
  | { kind: "spawn-failed"; errorCode: string | undefined; message: string };

export function exitCodeOf(outcome: ChildOutcome): number {
  switch (outcome.kind) {
    case "exited":
      return outcome.code;
    case "signaled":
      return 128 + (constants.signals[outcome.signal] ?? 0);
    case "spawn-failed":
      return outcome.errorCode === "ENOENT" ? EXIT_NOT_FOUND : EXIT_NOT_EXECUTABLE;
  }
}

/** `"claude" exited with 0`, for the summary line. */
export function describeOutcome(command: string, outcome: ChildOutcome): string {
  switch (outcome.kind) {
    case "exited":
      return `${command} exited with ${outcome.code}`;
    case "signaled":
      return `${command} was killed by ${outcome.signal} (exit ${exitCodeOf(outcome)})`;
    case "spawn-failed":
      return outcome.errorCode === "ENOENT"
        ? `${command}: command not found`
        : outcome.errorCode === "EACCES"
          ? `${command}: permission denied (not an executable file)`
          : `${command}: cannot run it (${outcome.errorCode ?? outcome.message})`;
  }
}
