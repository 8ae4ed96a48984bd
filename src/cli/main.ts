/**
 * The `llm-relay` command line (DESIGN §2): commander wiring only. Each command's module is
 * loaded when it runs, so `--version` and `--help` stay fast.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import { VERSION } from "../version.js";
import { installCrashHandlers, printError } from "./errors.js";

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError("expected a port number from 0 to 65535");
  return n;
}

/** Options shared by `start` and `exec`. */
function relayOptions(command: Command, defaultPortNote: string): Command {
  return command
    .option("-p, --port <port>", `port to listen on (${defaultPortNote}; env LLM_RELAY_PORT)`, parsePort)
    .option("--host <addr>", "address to listen on (default 127.0.0.1; others need a token)")
    .option("--token <token>", "require this token from clients (env LLM_RELAY_TOKEN)")
    .option("-c, --config <file>", "config file (env LLM_RELAY_CONFIG; default: search, then ~/.config/llm-relay)")
    .option("-v, --verbose", "print every header decision under each request line")
    .option("--json", "print request records as NDJSON")
    .option("--log-file <file>", "also append NDJSON request records to this file");
}

async function run(action: () => Promise<number | void>): Promise<void> {
  try {
    const code = await action();
    if (typeof code === "number") process.exitCode = code;
  } catch (error) {
    printError(error);
    process.exitCode = 1;
  }
}

export function buildProgram(): Command {
  const program = new Command("llm-relay")
    .description("A local relay for LLM clients that keeps credentials where they belong.")
    .version(VERSION, "-V, --version")
    .showHelpAfterError("(run llm-relay --help for usage)")
    .configureOutput({ outputError: (text, write) => write(text) });

  relayOptions(program.command("start").description("start the relay and log each request"), "default 8742").action(
    (opts) => run(async () => (await import("./start.js")).runStart(opts)),
  );

  program
    .command("explain")
    .description("show the provider and every header decision for one request, without sending it")
    .option("-c, --config <file>", "config file")
    .option("--path <path>", "request path", "/v1/messages")
    .option("--method <method>", "request method", "POST")
    .option("--model <model>", 'the body\'s "model"')
    .addOption(
      new Option("-H, --header <header...>", "a request header, 'name: value' (repeatable)").default([]),
    )
    .option("--json", "print the decisions as JSON")
    .action((opts) => run(async () => (await import("./explain.js")).runExplain(opts)));

  // exec: registered below by src/cli/exec.ts's owner.
  // config / init / doctor: registered below by their owner.
  // trust: registered below by its owner.

  return program;
}

installCrashHandlers();
await buildProgram().parseAsync(process.argv);
