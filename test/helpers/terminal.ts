/**
 * The built binary on a real pseudo-terminal: util-linux `script` gives it a pty (stdout and
 * stderr are TTYs, as in a user's terminal window) and hands back everything drawn on it,
 * escape sequences included. Ctrl-C is the byte 0x03 typed into the terminal, as a user does.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { BIN, waitForOutput, type CliResult } from "./cli.js";

export interface RunningTerminal {
  child: ChildProcess;
  /** Everything drawn so far, raw (escape sequences, CR LF). */
  output(): string;
  /** Resolves with the first match of `pattern` in what was drawn (escape sequences removed). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Types Ctrl-C: the terminal sends SIGINT to the program. */
  interrupt(): void;
  exited: Promise<CliResult>;
}

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** What a person sees: escape sequences and carriage returns removed. */
export function visible(raw: string): string {
  return raw.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");
}

export function startInTerminal(
  args: string[],
  { env, cwd, columns = 120, rows = 24 }: { env: NodeJS.ProcessEnv; cwd: string; columns?: number; rows?: number },
): RunningTerminal {
  // A pty made by `script` has no size until one is set; a real terminal always has one.
  const command = `stty rows ${rows} cols ${columns}; exec ${quote(process.execPath)} ${quote(BIN)} ${args.map(quote).join(" ")}`;
  const child = spawn("script", ["-qfec", command, "/dev/null"], { env, cwd, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  const listeners = new Set<() => void>();
  child.stdout!.on("data", (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  });
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<CliResult>((resolve) => {
    child.on("close", (code, signal) => {
      for (const l of listeners) l();
      resolve({ code, signal, stdout: out, stderr: err });
    });
  });
  return {
    child,
    output: () => out,
    exited,
    interrupt: () => child.stdin!.write("\u0003"),
    waitFor: (pattern, timeoutMs) => waitForOutput(child, listeners, () => `${visible(out)}${err}`, pattern, timeoutMs),
  };
}
