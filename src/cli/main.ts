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

/** Wording that differs between `start` and `exec` for the options they share. */
interface RelayOptionText {
  port: string;
  host: string;
  token: string;
  logFile: string;
}

const START_TEXT: RelayOptionText = {
  port: "port to listen on (default 8742; env LLM_RELAY_PORT)",
  host: "address to listen on (default 127.0.0.1; others need a token)",
  token: "require this token from clients (env LLM_RELAY_TOKEN): 16+ characters from A-Z a-z 0-9 - . _ ~",
  logFile: "also append NDJSON request records to this file",
};

const EXEC_TEXT: RelayOptionText = {
  port: "port to listen on (default 0: an ephemeral port)",
  host: "loopback address to listen on (default 127.0.0.1)",
  token: "use this session token instead of a fresh random one (16+ characters from A-Z a-z 0-9 - . _ ~)",
  logFile: "write request lines to this file instead (- for stderr)",
};

/** Options shared by `start` and `exec`. */
function relayOptions(command: Command, text: RelayOptionText): Command {
  return command
    .option("-p, --port <port>", text.port, parsePort)
    .option("--host <addr>", text.host)
    .option("--token <token>", text.token)
    .option("-c, --config <file>", "config file (env LLM_RELAY_CONFIG; default: search, then ~/.config/llm-relay)")
    .option("-v, --verbose", "print the header decisions under each request line (-vv: also each header passed through)", countVerbose, 0)
    .option("--json", "print request records as NDJSON")
    .option("--log-file <file>", text.logFile)
    .option("--no-inspect", "no inspector page at /_relay/ and no capture of requests");
}

function countVerbose(_flag: unknown, previous: number): number {
  return previous + 1;
}

/** `-v` → verbose, `-vv` → verbose listing every header, as the relay commands' flags take them. */
function verbosity<T extends { verbose?: unknown }>(opts: T): T & { verbose: boolean; allDecisions: boolean } {
  const count = typeof opts.verbose === "number" ? opts.verbose : opts.verbose === true ? 1 : 0;
  return { ...opts, verbose: count > 0, allDecisions: count > 1 };
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
    // Needed by exec's passThroughOptions: program options come before the subcommand.
    .enablePositionalOptions()
    .configureOutput({ outputError: (text, write) => write(text) });

  relayOptions(program.command("start").description("start the relay and log each request"), START_TEXT).action(
    (opts) => run(async () => (await import("./start.js")).runStart(verbosity(opts))),
  );

  program
    .command("explain")
    .description("show the provider, every header decision and the body's model rewrite for one request, without sending it")
    .option("-c, --config <file>", "config file")
    .option("--path <path>", "request path", "/v1/messages")
    .option("--method <method>", "request method", "POST")
    .option("--model <model>", 'the body\'s "model"')
    .option("--body <file>", "a request body (JSON) to read the model and the when-features from")
    .addOption(
      new Option("-H, --header <header...>", "a request header, 'name: value' (repeatable)").default([]),
    )
    .option("--json", "print the decisions as JSON")
    .action((opts) => run(async () => (await import("./explain.js")).runExplain(opts)));

  const exec = relayOptions(
    program
      .command("exec")
      .description("run a command with a private relay: its ANTHROPIC_BASE_URL/OPENAI_BASE_URL point at it")
      .usage("[options] -- <command> [args...]")
      .argument("<command>", "the command to run (found on PATH; no shell)")
      .argument("[args...]", "its arguments, passed through untouched")
      .addHelpText(
        "after",
        "\nRequest lines go to $XDG_STATE_HOME/llm-relay/exec-<time>-<pid>.log (NDJSON, one record per request);\n" +
          "--log-file FILE chooses the file, --log-file - sends them to stderr. Each run makes its own session token.\n" +
          "Exit code: the command's; 128+n if signal n killed it; 127 not found; 126 not executable.\n",
      ),
    EXEC_TEXT,
  );
  // Options after the command belong to it (`exec claude --resume`), not to exec.
  exec.passThroughOptions();
  exec.action((command: string, args: string[], opts) =>
    run(async () => (await import("./exec.js")).runExec(command, args, verbosity(opts))),
  );
  program
    .command("config")
    .description("print the resolved config: its source, providers (keys redacted), routes, defaults; exit 1 if invalid")
    .option("-c, --config <file>", "config file (env LLM_RELAY_CONFIG; default: search, then ~/.config/llm-relay)")
    .option("--json", "print it as JSON")
    .action((opts) => run(async () => (await import("./config.js")).runConfig(opts)));
  program
    .command("init")
    .description("write a commented starter llm-relay.config.mjs in the current folder")
    .option("--force", "overwrite an existing llm-relay.config.mjs")
    .option("--with <presets>", "add providers from these presets, e.g. deepseek,ollama (see llm-relay providers)")
    .action((opts) => run(async () => (await import("./init.js")).runInit(opts)));
  program
    .command("providers")
    .description("list the built-in provider presets: base URL, key variable, betas, count_tokens, models default")
    .option("--json", "print them as JSON, with the vendor page each follows")
    .action((opts) => run(async () => (await import("./providers.js")).runProviders(opts)));
  program
    .command("doctor")
    .description("check the environment, config, port and provider reachability; exit 1 if a check fails")
    .option("-c, --config <file>", "config file (env LLM_RELAY_CONFIG; default: search, then ~/.config/llm-relay)")
    .action((opts) => run(async () => (await import("./doctor.js")).runDoctor(opts)));
  program
    .command("trust [file]")
    .description("approve a project config that sends credentials beyond the official origins (bound to its path and SHA-256)")
    .option("--list", "list approved configs and whether each file still matches")
    .option("--revoke <file>", "drop the approval of a config file")
    .action((file: string | undefined, opts: { list?: boolean; revoke?: string }) =>
      run(async () => (await import("./trust.js")).runTrust(file, opts)),
    );

  return program;
}

installCrashHandlers();
await buildProgram().parseAsync(process.argv);
