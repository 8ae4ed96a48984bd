/**
 * Finding and reading the config file (DESIGN §3): `--config`, then `LLM_RELAY_CONFIG`, then a
 * cosmiconfig search from the working folder upward and finally the user config folder; the
 * embedded default when nothing is found. This is the I/O half; `resolve.ts` is the pure half.
 */
import { homedir } from "node:os";
import path from "node:path";
import { ConfigError, resolveConfig, type ConfigSource, type ResolvedConfig } from "./resolve.js";

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

function describeLoadError(file: string, error: unknown): ConfigError {
  const err = error as NodeJS.ErrnoException;
  if (err?.code === "ENOENT") return new ConfigError(`config file not found: ${file}`);
  if (err?.code === "EISDIR") return new ConfigError(`config path is a folder, not a file: ${file}`);
  const message = err instanceof Error ? err.message : String(err);
  if (/\.[cm]?ts$/.test(file) && /Cannot find (module|package) 'typescript'/.test(message)) {
    return new ConfigError(
      `cannot load ${file}: TypeScript config files need the "typescript" package.\n` +
        `  Install it next to the config (npm install --save-dev typescript) or rename the file to .mjs.`,
    );
  }
  // First line only: loaders' later lines can quote the file's source, which may hold a key.
  return new ConfigError(`cannot load config ${file}: ${message.split("\n")[0]}`);
}

/** Find and read the config file; `undefined` raw means the embedded default. Throws ConfigError. */
export async function loadConfigFile(options: LoadOptions = {}): Promise<LoadedConfigFile> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const { cosmiconfig } = await import("cosmiconfig");
  const explorer = cosmiconfig(MODULE_NAME, { searchStrategy: "global", cache: false });

  const explicit = options.configFile ?? env.LLM_RELAY_CONFIG;
  if (explicit) {
    const file = path.resolve(cwd, explicit);
    const via = options.configFile ? "flag" : "env";
    let result;
    try {
      result = await explorer.load(file);
    } catch (error) {
      throw describeLoadError(file, error);
    }
    if (!result || result.isEmpty) return { raw: {}, source: { file, via } };
    return { raw: result.config, source: { file, via } };
  }

  let result;
  try {
    result = await explorer.search(cwd);
  } catch (error) {
    const file = (error as { filepath?: string }).filepath ?? "a config file";
    throw describeLoadError(file, error);
  }
  if (!result) return { raw: undefined, source: { via: "default" } };
  const file = result.filepath;
  const inUserDir = path.dirname(file) === userConfigDir(env);
  return { raw: result.isEmpty ? {} : result.config, source: { file, via: inUserDir ? "user" : "search" } };
}

/** Find, read, validate and resolve the config. Throws ConfigError. */
export async function loadConfig(options: LoadOptions = {}): Promise<ResolvedConfig> {
  const env = options.env ?? process.env;
  const { raw, source } = await loadConfigFile(options);
  return resolveConfig(raw, { source, env });
}
