/**
 * The child process of `exec`: spawned with cross-spawn (Windows `.cmd`/`.bat` shims, PATHEXT;
 * arguments passed untouched, no shell), terminal inherited, signals relayed the way a
 * supervisor should. Resolves when the child is gone, never earlier.
 */
import type { ChildProcess } from "node:child_process";
import spawn from "cross-spawn";
import type { ChildOutcome } from "./exit-status.js";

/**
 * Signals a terminal or supervisor sends to us alone (`kill <pid>`, a closed SSH session):
 * passed on so the child can clean up.
 */
const FORWARDED: readonly NodeJS.Signals[] = ["SIGTERM", "SIGHUP"];
/**
 * Signals the terminal already sent to the whole foreground process group (Ctrl-C, Ctrl-\):
 * the child got them too, so we neither resend them nor die before the child.
 */
const GROUP_SIGNALS: readonly NodeJS.Signals[] = process.platform === "win32" ? ["SIGINT"] : ["SIGINT", "SIGQUIT"];

export function runChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<ChildOutcome> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    const listeners = new Map<NodeJS.Signals, () => void>();
    let settled = false;
    const settle = (outcome: ChildOutcome) => {
      if (settled) return;
      settled = true;
      for (const [signal, listener] of listeners) process.off(signal, listener);
      resolve(outcome);
    };

    try {
      child = spawn(command, args, { env, stdio: "inherit" });
    } catch (error) {
      const err = error as NodeJS.ErrnoException;
      settle({ kind: "spawn-failed", errorCode: err.code, message: err.message });
      return;
    }
    // Spawning is synchronous, so no signal can arrive between it and these listeners.
    for (const signal of FORWARDED) listeners.set(signal, () => void child.kill(signal));
    for (const signal of GROUP_SIGNALS) listeners.set(signal, () => {});
    for (const [signal, listener] of listeners) process.on(signal, listener);
    // A failed spawn arrives as 'error' (cross-spawn turns Windows' "not recognized" exit into
    // an ENOENT 'error' too); a later 'error' (a failed kill) leaves the child running.
    child.once("error", (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined || error.code === "ENOENT") {
        settle({ kind: "spawn-failed", errorCode: error.code, message: error.message });
      }
    });
    child.once("exit", (code, signal) => {
      settle(signal !== null ? { kind: "signaled", signal } : { kind: "exited", code: code ?? 0 });
    });
  });
}
