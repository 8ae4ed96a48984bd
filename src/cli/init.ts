/**
 * `llm-relay init [--force] [--with NAME,…]` (DESIGN §2, §10): writes a commented starter
 * `llm-relay.config.mjs` in the current folder that loads and validates as is. Without `--with`
 * it equals the embedded default until the user uncomments something; `--with deepseek,ollama`
 * adds one provider per preset, named after it.
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
import { PRESET_NAMES, PRESETS, presetFor, type Preset, type PresetName } from "../providers/presets.js";
import { CliError } from "./errors.js";

export const STARTER_FILE_NAME = "llm-relay.config.mjs";

export interface InitFlags {
  force?: boolean;
  /** `--with deepseek,ollama`: presets to add as providers. */
  with?: string;
}

/** `--with a,b` → preset names, in order, without repeats; an unknown name is a usage error. */
export function parsePresetList(value: string): PresetName[] {
  const names = [...new Set(value.split(",").map((n) => n.trim()).filter((n) => n !== ""))];
  if (names.length === 0) throw new CliError(`--with expects preset names, e.g. --with deepseek,ollama (the presets: ${PRESET_NAMES.join(", ")})`);
  const unknown = names.filter((n) => presetFor(n) === undefined);
  if (unknown.length > 0) {
    const list = unknown.map((n) => JSON.stringify(n)).join(", ");
    throw new CliError(`--with: unknown preset ${list}; the presets are ${PRESET_NAMES.join(", ")} (llm-relay providers lists them)`);
  }
  return names as PresetName[];
}

/** One provider entry per preset, with a comment saying what the preset fills in. */
function presetEntries(presets: readonly PresetName[]): string {
  return presets
    .map((name) => {
      const p: Preset = PRESETS[name];
      const key =
        p.keyEnv !== undefined
          ? p.keyOptional
            ? `its key from ${p.keyEnv} if set (none needed)`
            : `its key from ${p.keyEnv} (unset: this provider answers 503, the others keep working)`
          : "no key needed";
      return `    // ${p.vendor}: ${p.baseUrl}, ${key}. Fields written here win over the preset's.\n    ${name}: { preset: "${name}" },`;
    })
    .join("\n");
}

/** `600000` → `600_000`, as a person would write it in JS. */
function jsNumber(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, "_");
}

/** The starter config; the defaults it shows come from the same constants the relay uses. */
export function starterConfig(presets: readonly PresetName[] = []): string {
  const t = DEFAULT_TIMEOUTS;
  const routed = presets.find((name) => name !== "anthropic" && name !== "openai");
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
  //   preset   a built-in vendor entry that fills the fields below (\`llm-relay providers\` lists them)
  //   kind     anthropic | openai | gemini | generic (the API the provider speaks)
  //   apiKey   { env: "NAME" }: the relay injects this key and drops the client's credentials.
  //            Name an environment variable; do not write keys into this file.
  //   auth     where the key goes: "x-api-key" | "bearer" | "x-goog-api-key"
  //   oauth    "forward" | "strip": whether a Claude subscription token may go to this provider
  //            (default: forward to https://api.anthropic.com only)
  // This file is code, so start and exec run it only once approved: init approved it as written;
  // after each edit, approve it again with \`llm-relay trust\`.
  providers: {
${presets.length > 0 ? `${presetEntries(presets)}\n` : ""}${presets.includes("openrouter") ? "" : `    // openrouter: {
    //   kind: "anthropic",
    //   baseUrl: "https://openrouter.ai/api",
    //   auth: "bearer",
    //   apiKey: { env: "OPENROUTER_API_KEY" },
    // },
`}${presets.includes("ollama") ? "" : `    // ollama: { kind: "openai", baseUrl: "http://127.0.0.1:11434" },
`}  },

  // Routes, tried in order; the first match wins. Before them, a path starting with a provider's
  // name (/openrouter/v1/messages) picks that provider; after them, Anthropic API paths go to
  // anthropic and OpenAI API paths to openai.
  routes: [
${routed ? `    // { model: "claude-*haiku*", provider: "${routed}" },              // Claude Code's small model to ${routed}\n` : ""}    // { model: "claude-3-5-haiku*", provider: "openrouter" },          // glob on the body's "model"
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
  const presets = flags.with === undefined ? [] : parsePresetList(flags.with);
  try {
    // "wx" fails if the file exists, so two racing inits cannot both write.
    await writeFile(file, starterConfig(presets), { flag: flags.force ? "w" : "wx" });
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
