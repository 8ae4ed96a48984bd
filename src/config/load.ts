/**
 * Finding and reading the config file (DESIGN §3): `--config`, then `LLM_RELAY_CONFIG`, then a
 * cosmiconfig search from the working folder upward and finally the user config folder; the
 * embedded default when nothing is found. This is the I/O half; `resolve.ts` is the pure half.
 */
import { homedir } from "node:os";
import path from "node:path";
import { ConfigError, resolveConfig, type ConfigSource, type ResolvedConfig } from "./resolve.js";
import type { Loader } from "cosmiconfig";
import { redact } from "../policy/redact.js";
import { createExplorer } from "./explorer.js";
import { CODE_EXTENSIONS, ConfigFileError, PACKAGE_NAME } from "./loaders.js";
import { fileIsTrusted, isExecutableConfig, TrustError, untrustedCodeMessage } from "./trust.js";

export const MODULE_NAME = "llm-relay";

export interface LoadOptions {
  cwd?: string;
  /** `--config FILE`. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
}

export interface LoadedConfigFile {
  raw: unknown;
  source: ConfigSource;
}

/** The user config folder cosmiconfig searches last (`$XDG_CONFIG_HOME/llm-relay` or `~/.config/llm-relay`). */
export function userConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || homedir(), ".config");
  return path.join(base, MODULE_NAME);
}

/** Loader messages start with a header naming the file, which our own message already does. */
const LOADER_HEADER = /^(?:JSON|YAML) Error in /;
const ANSI_SGR = /\u001b\[[0-9;]*m/g;
/** Code-frame lines (`> 1 | {"apiKey": …`, `    |   ^`, `-----^`): they quote the file, which may hold a key. */
const CODE_FRAME = /^(?:>?\s*\d*\s*\||-+\^)/;

/**
 * The one line of a loader's error worth showing: no header, no code frame, and no quoted source
 * (parse-json appends `while parsing '{"apiKey": "sk-…'`), so a literal key in a broken file is
 * never printed.
 */
export function loaderErrorLine(message: string): string {
  const lines = message
    // Loaders color their code frames when they think the terminal can (CI=true is enough):
    // strip SGR codes first, or a colored frame line, quoting the file, would slip through.
    .replace(ANSI_SGR, "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !LOADER_HEADER.test(line) && !CODE_FRAME.test(line));
  const line = lines[0] ?? "unreadable file";
  // Whatever a loader still quotes, a vendor-prefixed key in it is shown redacted.
  const shown = line
    .replace(/ while parsing .*$/, "")
    .replace(/ near '.*$/, "");
  return redact(shown);
}

/** Map what cosmiconfig and its loaders throw to a ConfigError a user can act on. */
export function describeLoadError(file: string, error: unknown): ConfigError {
  const err = error as NodeJS.ErrnoException;
  if (err?.code === "ENOENT") return new ConfigError(`config file not found: ${file}`);
  if (err?.code === "EISDIR") return new ConfigError(`config path is a folder, not a file: ${file}`);
  if (err instanceof ConfigFileError) return new ConfigError(`cannot load config ${file}: ${err.message}`);
  const message = err instanceof Error ? err.message : String(err);
  // The npm name `llm-relay` is another project's: point at ours instead of "not found".
  if (/Cannot find (?:package|module) 'llm-relay'/.test(message)) {
    return new ConfigError(
      `cannot load config ${file}: it imports "llm-relay", which is not this relay's package; import from "${PACKAGE_NAME}" instead`,
    );
  }
  // jiti (TypeScript) reports a syntax error with its place: `ParseError: Unexpected token\n FILE:3:12`
  // (a zero-based column).
  const place = /^ParseError: ([^\n]*?)\s*\n\s*\S*:(\d+):(\d+)\s*$/.exec(message.replace(ANSI_SGR, ""));
  if (place) {
    const what = redact(place[1]!);
    return new ConfigError(`cannot load config ${file}: syntax error at line ${place[2]}, column ${Number(place[3]) + 1}: ${what}`);
  }
  // A syntax error in a JS config: Node's message names no place (its stack quotes the line).
  if (err instanceof SyntaxError || err?.code === "ERR_INTERNAL_ASSERTION" || /^Cannot require\(\) ES Module/.test(message)) {
    const check = /\.[cm]?ts$/.test(file) ? `npx tsc --noEmit ${file}` : `node --check ${file}`;
    return new ConfigError(`cannot load config ${file}: it has a syntax error (run \`${check}\` to see where)`);
  }
  return new ConfigError(`cannot load config ${file}: ${loaderErrorLine(message)}`);
}

/**
 * cosmiconfig's `$import` makes a config load other files, code included, which no check or
 * approval of the one file covers (§8: refused everywhere alike, whoever chose the file).
 */
export class ImportRefusedError extends ConfigError {
  constructor(file: string) {
    super(
      `refusing to load ${file}: it uses $import, which would load other files (code included) that llm-relay cannot check or approve.\n` +
        "  $import is not supported in llm-relay configs: put the settings in the file itself.",
    );
  }
}

/**
 * A loader that refuses a config holding `$import`, found in what the loader parsed: cosmiconfig
 * follows imports only after its loader returns, so the imported file is never read, let alone run.
 */
function refusingImports(loader: Loader): Loader {
  return async (file, content) => {
    const loaded = (await loader(file, content)) as Record<string, unknown> | null | undefined;
    // package.json (and package.yaml) hold ours under the module name, where cosmiconfig looks for `$import`.
    const own = path.basename(file, path.extname(file)) === "package" ? loaded?.[MODULE_NAME] : loaded;
    if (own !== null && typeof own === "object" && Object.hasOwn(own, "$import")) throw new ImportRefusedError(file);
    return loaded;
  };
}

/** Loaders that run nothing: searching must not execute a config that is code before it is approved. */
const NOT_RUN = () => ({ "llm-relay: not run": true });
const CODE_LOADERS_NOT_RUN = Object.fromEntries(CODE_EXTENSIONS.map((ext) => [ext, NOT_RUN]));

function emptyFileError(file: string): ConfigError {
  return new ConfigError(
    `config file ${file} is empty: write the settings in it (\`llm-relay init\` writes a starter) or remove it`,
  );
}

/**
 * Which config file would be used, found without running any code: `--config`, then
 * `LLM_RELAY_CONFIG`, then cosmiconfig's search (project tree upward, then the user folder).
 * `{ via: "default" }` when there is none. Throws ConfigError for a broken JSON/YAML file.
 */
export async function findConfigFile(options: LoadOptions = {}): Promise<ConfigSource> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const explicit = options.configFile ?? env.LLM_RELAY_CONFIG;
  if (explicit) return { file: path.resolve(cwd, explicit), via: options.configFile ? "flag" : "env" };
  let found;
  try {
    found = await createExplorer(MODULE_NAME, CODE_LOADERS_NOT_RUN, refusingImports).search(cwd);
  } catch (error) {
    if (error instanceof ImportRefusedError) throw error;
    throw describeLoadError((error as { filepath?: string }).filepath ?? "a config file", error);
  }
  if (!found) return { via: "default" };
  if (found.isEmpty) throw emptyFileError(found.filepath);
  const file = found.filepath;
  return { file, via: path.dirname(file) === userConfigDir(env) ? "user" : "search" };
}

/**
 * Find and read the config file; `undefined` raw means the embedded default. A config that is
 * code and was found in the project tree is only loaded once approved (§8): loading runs it.
 * Throws ConfigError or TrustError.
 */
export async function loadConfigFile(options: LoadOptions = {}): Promise<LoadedConfigFile> {
  const env = options.env ?? process.env;
  const source = await findConfigFile(options);
  const file = source.file;
  if (file === undefined) return { raw: undefined, source };
  if (source.via === "search" && isExecutableConfig(file) && !(await fileIsTrusted(file, env))) {
    throw new TrustError(untrustedCodeMessage(file));
  }
  let result;
  try {
    // A code config is checked once it ran (approved, or chosen by the user), still before its imports.
    result = await createExplorer(MODULE_NAME, {}, refusingImports).load(file);
  } catch (error) {
    if (error instanceof ImportRefusedError) throw error;
    throw describeLoadError(file, error);
  }
  if (!result || result.isEmpty) throw emptyFileError(file);
  return { raw: result.config, source };
}

/** Find, read, validate and resolve the config. Throws ConfigError. */
export async function loadConfig(options: LoadOptions = {}): Promise<ResolvedConfig> {
  const env = options.env ?? process.env;
  const { raw, source } = await loadConfigFile(options);
  return resolveConfig(raw, { source, env });
}
