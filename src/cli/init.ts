/**
 * `llm-relay init [--force]` (DESIGN §2): writes a commented starter `llm-relay.config.mjs` in
 * the current folder that loads and validates as is, and equals the embedded default until the
 * user uncomments something.
 *
 * The file does not `import { defineConfig } from "llm-relay-cli"`: the relay resolves that import
 * to itself even without node_modules, but only by loading the file through jiti, which costs
 * ~200 ms on every start. A JSDoc type annotation gives editors (with the package installed) the
 * same completion and costs nothing at run time.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { findConfigFile } from "../config/load.js";
import { approveFile } from "../config/trust.js";
import { DEFAULT_LIMITS, DEFAULT_PORT, DEFAULT_TIMEOUTS } from "../config/defaults.js";
import { CliError } from "./errors.js";

export const STARTER_FILE_NAME = "llm-relay.config.mjs";

export interface InitFlags {
  force?: boolean;
}

/** `600000` → `600_000`, as a person would write it in JS. */
function jsNumber(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, "_");
}

/** The starter config; the defaults it shows come from the same constants the relay uses. */
export function starterConfig(): string {
  const t = DEFAULT_TIMEOUTS;
  return `// llm-relay config: checked with \`llm-relay config\` (or \`npx llm-relay-cli config\`),
// used by \`llm-relay start\` and \`exec\` when run in this folder or below it. Everything here is
// optional; unset values take the defaults shown. Commands and options: \`llm-relay --help\`.

/** @type {import('llm-relay-cli').RelayConfig} */
export default {
  // Where the relay listens. Loopback only, unless you also set a token.
  port: ${DEFAULT_PORT},
  // host: "127.0.0.1",

  // Providers. Built in: anthropic (https://api.anthropic.com) and openai (https://api.openai.com);
  // a provider with one of those names here replaces the built-in one.
  //   kind     anthropic | openai | gemini | generic (the API the provider speaks)
  //   apiKey   { env: "NAME" }: the relay injects this key and drops the client's credentials.
  //            Name an environment variable; do not write keys into this file.
  //   auth     where the key goes: "x-api-key" | "bearer" | "x-goog-api-key"
  //   oauth    "forward" | "strip": whether a Claude subscription token may go to this provider
  //            (default: forward to https://api.anthropic.com only)
  // This file is code, so start and exec run it only once approved: init approved it as written;
  // after each edit, approve it again with \`llm-relay trust\`.
  providers: {
    // openrouter: {
    //   kind: "anthropic",
    //   baseUrl: "https://openrouter.ai/api",
    //   auth: "bearer",
    //   apiKey: { env: "OPENROUTER_API_KEY" },
    // },
    // ollama: { kind: "openai", baseUrl: "http://127.0.0.1:11434" },
  },

  // Routes, tried in order; the first match wins. Before them, a path starting with a provider's
  // name (/openrouter/v1/messages) picks that provider; after them, Anthropic API paths go to
  // anthropic and OpenAI API paths to openai.
  routes: [
    // { model: "claude-3-5-haiku*", provider: "openrouter" },          // glob on the body's "model"
    // { path: "/v1/chat/completions", provider: "ollama" },             // path prefix
    // { header: { "x-llm-relay-provider": "ollama" }, provider: "ollama" },
  ],

  // Where a request that matches nothing goes. Without it: a 404 in the client's API shape.
  // defaultProvider: "anthropic",

  timeouts: {
    connectMs: ${jsNumber(t.connectMs)}, // connecting to the provider
    headersMs: ${jsNumber(t.headersMs)}, // waiting for its response headers (models think before answering)
    idleMs: ${jsNumber(t.idleMs)}, // silence between two chunks of a response
    // clientHeadersMs: ${jsNumber(t.clientHeadersMs)}, // a client sending its request headers
    // clientBodyMs: ${jsNumber(t.clientBodyMs)}, // a client sending its request body
    // shutdownMs: ${jsNumber(t.shutdownMs)}, // on Ctrl-C, how long running requests may finish
  },

  limits: {
    maxBodyBytes: ${jsNumber(DEFAULT_LIMITS.maxBodyBytes)}, // ${DEFAULT_LIMITS.maxBodyBytes / (1024 * 1024)} MiB; a larger request body gets a 413
  },
};
`;
}

export async function runInit(flags: InitFlags, cwd = process.cwd()): Promise<number> {
  const file = path.join(cwd, STARTER_FILE_NAME);
  try {
    // "wx" fails if the file exists, so two racing inits cannot both write.
    await writeFile(file, starterConfig(), { flag: flags.force ? "w" : "wx" });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new CliError(`${file} already exists; not overwriting it (use --force to replace it)`);
    if (code === "EISDIR") throw new CliError(`${file} is a folder; not overwriting it`);
    throw new CliError(`cannot write ${file}: ${code ?? String(error)}`);
  }
  const lines = [`llm-relay: wrote ${file}`];

  // cosmiconfig tries .llm-relayrc* and package.json#llm-relay before this name: say so if one of them wins.
  const { LLM_RELAY_CONFIG: _ignored, ...searchEnv } = process.env;
  const found = await findConfigFile({ cwd, env: searchEnv }).catch(() => undefined);
  if (found?.file !== undefined && found.file !== file) {
    lines.push(`  warning: ${found.file} is found first and will be used instead; remove it to use the new file`);
  }
  // The user asked for this file and it is ours: approve it, or start would refuse a config that is code (§8).
  await approveFile(file);
  lines.push(`  approved it for start and exec (after editing it, run: llm-relay trust)`);
  if (process.env.LLM_RELAY_CONFIG) lines.push(`  note: LLM_RELAY_CONFIG is set, so start uses ${process.env.LLM_RELAY_CONFIG} instead`);
  lines.push("  check it:  llm-relay config", "  run it:    llm-relay start");
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
