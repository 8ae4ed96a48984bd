/**
 * What `start` and `exec` share: flags and environment resolved against the config (flags win,
 * then LLM_RELAY_* variables, then the config file), and the reporters they log through.
 */
import type { ResolvedConfig } from "../config/resolve.js";
import { loadConfig } from "../config/load.js";
import { chalkFor } from "../log/color.js";
import { createReporter, type LineSink, type Reporter } from "../log/reporter.js";
import { CliError, knownSecrets } from "./errors.js";

export interface RelayFlags {
  port?: number;
  host?: string;
  token?: string;
  config?: string;
  verbose?: boolean;
  json?: boolean;
  logFile?: string;
}

export interface RelaySettings {
  config: ResolvedConfig;
  host: string;
  port: number;
  token?: string | undefined;
  /** Where the token came from, to print a paste-able URL without printing the token. */
  tokenSource?: "flag" | "env" | "config" | undefined;
}

export function portFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.LLM_RELAY_PORT;
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) {
    throw new CliError(`LLM_RELAY_PORT must be a port number from 0 to 65535`);
  }
  return Number(raw);
}

export async function resolveSettings(flags: RelayFlags, defaults: { port?: number } = {}): Promise<RelaySettings> {
  const env = process.env;
  const config = await loadConfig(flags.config === undefined ? { env } : { configFile: flags.config, env });
  for (const provider of config.providers.values()) if (provider.apiKey) knownSecrets.add(provider.apiKey.reveal());
  if (config.token) knownSecrets.add(config.token.reveal());

  let token: string | undefined;
  let tokenSource: RelaySettings["tokenSource"];
  if (flags.token !== undefined) [token, tokenSource] = [flags.token, "flag"];
  else if (env.LLM_RELAY_TOKEN) [token, tokenSource] = [env.LLM_RELAY_TOKEN, "env"];
  else if (config.token) [token, tokenSource] = [config.token.reveal(), "config"];
  if (token !== undefined) {
    if (token.length < 16) throw new CliError("the relay token must be at least 16 characters");
    knownSecrets.add(token);
  }

  return {
    config,
    host: flags.host ?? config.host,
    port: flags.port ?? defaults.port ?? portFromEnv(env) ?? config.port,
    token,
    tokenSource,
  };
}

export function terminalReporter(flags: RelayFlags, stream: NodeJS.WriteStream & LineSink): Reporter {
  return createReporter({ sink: stream, json: flags.json === true, verbose: flags.verbose === true, chalk: chalkFor(stream) });
}
