/**
 * `llm-relay trust [FILE]` (DESIGN §8): approve a project config that sends credentials beyond
 * the official origins, pinned to the file's current SHA-256 (like `direnv allow`). Without FILE,
 * the config `start` would find from the current folder is approved.
 */
import { access } from "node:fs/promises";
import path from "node:path";
import { findConfigFile, loadConfigFile } from "../config/load.js";
import { ConfigError, resolveConfig } from "../config/resolve.js";
import { approveFile, exposedHost, isExecutableConfig, trustStorePath, untrustedOrigins } from "../config/trust.js";
import { CliError } from "./errors.js";

async function projectConfigFile(cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  // Search as `start` would, but ignore LLM_RELAY_CONFIG: a config named there is trusted already.
  const { LLM_RELAY_CONFIG: _ignored, ...searchEnv } = env;
  // Found without running it: approving a config that is code must not execute it first.
  const source = await findConfigFile({ cwd, env: searchEnv });
  if (source.via === "search" && source.file) return source.file;
  if (source.via === "user") throw new CliError(`the config found is in your user config folder (${source.file}), which is trusted already`);
  throw new CliError(`no project config found in ${cwd} or its parents; name the file: llm-relay trust FILE`);
}

/** What the approved file would do, for the confirmation; nothing for code (it is not run here). */
async function describeConfig(file: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  if (isExecutableConfig(file)) return [];
  const { raw } = await loadConfigFile({ configFile: file, env });
  try {
    const config = resolveConfig(raw, { source: { file, via: "search" }, env });
    const lines = untrustedOrigins(config).map((o) => `  credentials may go to ${o.origin} (${o.carries.join(", ")})`);
    const host = exposedHost(config);
    if (host !== undefined) lines.push(`  listens on ${host}`);
    return lines;
  } catch (error) {
    // A `{ env }` secret unset here is no reason to refuse approval; other problems are.
    if (error instanceof ConfigError && /environment variable .* is not set/.test(error.message)) return [];
    throw error;
  }
}

export async function runTrust(file: string | undefined): Promise<number> {
  const env = process.env;
  const cwd = process.cwd();
  const target = file === undefined ? await projectConfigFile(cwd, env) : path.resolve(cwd, file);
  try {
    await access(target);
  } catch {
    throw new CliError(`config file not found: ${target}`);
  }
  // Validate before approving (JSON/YAML only): approving a file that cannot load helps no one.
  const described = await describeConfig(target, env);
  const sha256 = await approveFile(target, env);
  process.stdout.write(
    [`llm-relay: trusted ${target}`, `  sha256 ${sha256} (any edit needs approval again)`, ...described, `  recorded in ${trustStorePath(env)}`].join("\n") + "\n",
  );
  return 0;
}
