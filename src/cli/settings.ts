/**
 * What `start` and `exec` share: flags and environment resolved against the config (flags win,
 * then LLM_RELAY_* variables, then the config file), and the reporters they log through.
 */
import { unavailableWarnings, type ResolvedConfig } from "../config/resolve.js";
import { loadConfig } from "../config/load.js";
import {
  assertConfigTrusted,
  fileMode,
  literalSecretPaths,
  readableByOthers,
} from "../config/trust.js";
import { chalkFor } from "../log/color.js";
import { createReporter, type LineSink, type Reporter } from "../log/reporter.js";
import { isLoopbackHost } from "../net/loopback.js";
import { probeRelay } from "../relay/health-probe.js";
import { RelayStartError } from "../relay/server.js";
import { CliError, knownSecrets } from "./errors.js";

export interface RelayFlags {
  port?: number;
  host?: string;
  token?: string;
  config?: string;
  verbose?: boolean;
  /** `-vv`: the decision lines also list each header passed through unchanged. */
  allDecisions?: boolean;
  json?: boolean;
  logFile?: string;
  /** False with --no-inspect. */
  inspect?: boolean;
}

export interface RelaySettings {
  config: ResolvedConfig;
  host: string;
  port: number;
  token?: string | undefined;
  /** Where the token came from, to print a paste-able URL without printing the token. */
  tokenSource?: "flag" | "env" | "config" | undefined;
  /** False when an untrusted project config was let through (only `explain` allows that). */
  trusted: boolean;
}

/** The token's minimum length: guessing 16 random characters is out of reach. */
export const MIN_TOKEN_LENGTH = 16;

/**
 * Clients send the token as the path segment `/_t/<token>/`, so it may only hold characters a
 * path segment carries unencoded and unchanged: RFC 3986 §2.3 "unreserved" (a `/` would end the
 * segment, `%` `?` `#` would be decoded or cut by clients). Pure; never quotes the token.
 */
export function tokenProblem(token: string): string | undefined {
  if (!/^[A-Za-z0-9._~-]*$/.test(token)) {
    return "may only contain letters, digits and - . _ ~ (it travels in one URL path segment, /_t/<token>/); generate one with: openssl rand -hex 32";
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    return `must be at least ${MIN_TOKEN_LENGTH} characters (it has ${token.length}); generate one with: openssl rand -hex 32`;
  }
  return undefined;
}

const TOKEN_SOURCE_NAME = { flag: "--token", env: "LLM_RELAY_TOKEN", config: "token in the config" } as const;

export function portFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.LLM_RELAY_PORT;
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) {
    throw new CliError(`LLM_RELAY_PORT must be a port number from 0 to 65535`);
  }
  return Number(raw);
}

/**
 * §8 config trust: a project config that would send credentials beyond the official origins is
 * refused until `llm-relay trust` approves that exact file; `explain` sends nothing, so it only
 * warns. A literal secret in a file others can read gets a warning (never the value).
 */
async function checkConfigFile(
  config: Pick<ResolvedConfig, "source" | "providers" | "host" | "token">,
  env: NodeJS.ProcessEnv,
  untrusted: "refuse" | "warn",
): Promise<boolean> {
  const file = config.source.file;
  if (file === undefined) return true;
  const literals = literalSecretPaths(config);
  if (literals.length > 0) {
    const mode = await fileMode(file);
    if (mode !== undefined && readableByOthers(mode)) {
      process.stderr.write(
        `llm-relay: warning: ${file} holds a literal secret (${literals.join(", ")}) and is readable by other users ` +
          `(mode ${(mode & 0o777).toString(8).padStart(3, "0")}); run chmod 600 on it, or use { env: "NAME" }\n`,
      );
    }
  }
  try {
    await assertConfigTrusted(config, env);
    return true;
  } catch (error) {
    if (untrusted === "refuse") throw error;
    process.stderr.write(`llm-relay: warning: ${(error as Error).message.replace(/^refusing to use/, "start and exec would refuse")}\n`);
    return false;
  }
}

export async function resolveSettings(
  flags: RelayFlags,
  defaults: { port?: number; untrustedConfig?: "refuse" | "warn"; command?: "start" | "exec" | "explain" } = {},
): Promise<RelaySettings> {
  const env = process.env;
  // `start` listens where config and environment say. exec listens on its own loopback port with
  // its own token, so the host and token meant for start are not its; explain listens nowhere but
  // describes start's relay, token included.
  const command = defaults.command ?? "start";
  const ownListener = command === "exec";
  const config = await loadConfig(flags.config === undefined ? { env } : { configFile: flags.config, env });
  for (const provider of config.providers.values()) if (provider.apiKey) knownSecrets.add(provider.apiKey.reveal());
  if (config.token) knownSecrets.add(config.token.reveal());
  // §3: a provider whose key variable is unset is out of service; the rest of the config runs.
  for (const warning of unavailableWarnings(config)) process.stderr.write(`llm-relay: warning: ${warning}\n`);
  const checked = ownListener ? { ...config, host: "127.0.0.1" } : config;
  const trusted = await checkConfigFile(checked, env, defaults.untrustedConfig ?? "refuse");

  let token: string | undefined;
  let tokenSource: RelaySettings["tokenSource"];
  if (flags.token !== undefined) [token, tokenSource] = [flags.token, "flag"];
  else if (!ownListener && env.LLM_RELAY_TOKEN) [token, tokenSource] = [env.LLM_RELAY_TOKEN, "env"];
  else if (!ownListener && config.token) [token, tokenSource] = [config.token.reveal(), "config"];
  if (token !== undefined) {
    knownSecrets.add(token);
    const problem = tokenProblem(token);
    if (problem) throw new CliError(`the relay token (${TOKEN_SOURCE_NAME[tokenSource!]}) ${problem}`);
  }

  const host = flags.host ?? config.host;
  // §8: beyond loopback the relay is reachable by other machines; without a token startRelay refuses.
  if (command === "start" && token !== undefined && !isLoopbackHost(host)) {
    process.stderr.write(
      `llm-relay: warning: listening on ${host}: other machines can reach the relay; every client must present the token\n`,
    );
  }

  // --no-inspect wins over the config; the config's `inspect: false` wins over the default.
  const inspectOff = flags.inspect === false;
  return {
    config: inspectOff ? { ...config, inspect: { ...config.inspect, enabled: false } } : config,
    host,
    port: flags.port ?? defaults.port ?? portFromEnv(env) ?? config.port,
    token,
    tokenSource,
    trusted,
  };
}

export function terminalReporter(flags: RelayFlags, stream: NodeJS.WriteStream & LineSink, sink: LineSink = stream): Reporter {
  return createReporter({ sink, json: flags.json === true, verbose: flags.verbose === true, allDecisions: flags.allDecisions === true, chalk: chalkFor(stream) });
}

/**
 * A taken port, said better when the one holding it is another llm-relay (it answers
 * `/_relay/health`): that relay may be exactly what the user wants. Other errors pass unchanged.
 */
export async function explainListenError(error: unknown, host: string, port: number): Promise<never> {
  if (error instanceof RelayStartError && error.code === "EADDRINUSE" && port !== 0) {
    const other = await probeRelay(host, port);
    if (other !== undefined) {
      const shownHost = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
      throw new RelayStartError(
        `port ${port} on ${host} is already in use: another llm-relay (version ${other.version}) is already listening there.\n` +
          `  Use it (export ANTHROPIC_BASE_URL=http://${shownHost}:${port}), stop it, or choose another port with --port`,
        "EADDRINUSE",
      );
    }
  }
  throw error;
}
