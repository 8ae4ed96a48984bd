/**
 * The public API: `defineConfig` for typed config files, and `startRelay` to embed the relay
 * (tests, scripts). Everything else is internal and may change.
 *
 * @example
 * import { startRelay } from "llm-relay-cli";
 * const relay = await startRelay({ port: 0 });
 * console.log(relay.url); // http://127.0.0.1:54321
 * await relay.close();
 */
import { loadConfig } from "./config/load.js";
import { assertConfigTrusted } from "./config/trust.js";
import { resolveConfig, type ResolvedConfig } from "./config/resolve.js";
import type { RelayConfig } from "./config/schema.js";
import type { RequestRecord } from "./log/record.js";
import { startRelay as startRelayServer, type RelayHandle } from "./relay/server.js";

export { defineConfig, ConfigError } from "./config/resolve.js";
export type { RelayConfig, ProviderConfig, RouteConfig } from "./config/schema.js";
export type { RelayHandle } from "./relay/server.js";
export { RelayStartError } from "./relay/server.js";
export { TrustError } from "./config/trust.js";
export type { RequestRecord } from "./log/record.js";
export type { Decision, DecisionAction } from "./policy/headers.js";
export type { Usage } from "./relay/usage-tap.js";

export interface StartRelayOptions {
  /** A config object (as in a config file). Without it, the config is searched for like the CLI does. */
  config?: RelayConfig;
  /** A config file to load instead of searching. */
  configFile?: string;
  /** Listen address; default the config's, else 127.0.0.1. */
  host?: string;
  /** Port; 0 picks a free one. Default the config's, else 8742. */
  port?: number;
  /** Require this token from clients (`/_t/<token>/…` or `x-llm-relay-token`). */
  token?: string;
  /** Called once per finished request, with the redacted record. */
  onRequest?: (record: RequestRecord) => void;
  /** Environment for `{ env: "NAME" }` secrets; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Start a relay; resolves once it is listening. */
export async function startRelay(options: StartRelayOptions = {}): Promise<RelayHandle> {
  const env = options.env ?? process.env;
  let config: ResolvedConfig;
  if (options.config !== undefined) config = resolveConfig(options.config, { source: { via: "inline" }, env });
  else {
    config = await loadConfig(options.configFile === undefined ? { env } : { configFile: options.configFile, env });
    // A config found in the project tree is held to the same approval as the CLI's (§8).
    await assertConfigTrusted(config, env);
  }
  return startRelayServer({
    config,
    host: options.host,
    port: options.port,
    token: options.token,
    onRecord: options.onRequest,
  });
}
