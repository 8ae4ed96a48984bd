/**
 * How the CLI fails: a user error prints one `llm-relay: …` line and exits 1; anything
 * unexpected prints its message with every known secret redacted, never a stack trace.
 */
import { redactText } from "../policy/redact.js";

/** A problem the user can fix; printed as is. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** Errors whose message is written for the user (by name, so no module needs to import the CLI). */
const USER_FACING = new Set(["CliError", "ConfigError", "RelayStartError", "TrustError"]);

/** Secrets the process knows (config keys, tokens) so crash output can scrub them. */
export const knownSecrets = new Set<string>();

export function printError(error: unknown): void {
  const err = error as Error & { code?: string };
  const userFacing = err instanceof CliError || USER_FACING.has(err?.name);
  const message = err instanceof Error ? err.message : String(error);
  const text = userFacing ? message : `internal error: ${message} (please report this)`;
  process.stderr.write(`llm-relay: ${redactText(text, knownSecrets)}\n`);
}

/** Last-resort handlers: no stack trace, no secret, exit 1. */
export function installCrashHandlers(): void {
  const crash = (error: unknown) => {
    printError(error);
    process.exit(1);
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);
}
