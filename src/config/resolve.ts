/**
 * From a loaded config object to the resolved config the relay runs on: validated, merged with
 * the built-in providers, defaults filled in, `{ env }` secrets read. Pure: the environment is
 * passed in.
 */
import type { z } from "zod";
import {
  BUILTIN_PROVIDERS,
  DEFAULT_HOST,
  DEFAULT_INSPECT,
  DEFAULT_LIMITS,
  DEFAULT_PORT,
  DEFAULT_TIMEOUTS,
  OFFICIAL_ANTHROPIC_ORIGIN,
  VENDOR_ORIGINS,
} from "./defaults.js";
import {
  configSchema,
  type AuthPlacement,
  type ProviderConfig,
  type ProviderKind,
  type RelayConfig,
  type SecretRef,
} from "./schema.js";
import { knownSecrets, type KnownSecrets } from "../policy/redact.js";
import { Secret } from "./secret.js";
import { knownKeysAt, unknownKeyMessage } from "./suggest.js";
import { presetFor } from "../providers/presets.js";

/** A config problem the user must fix; the message names the file and key, never a secret. */
export class ConfigError extends Error {
  readonly code = "LLM_RELAY_CONFIG";
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

export interface ResolvedProvider {
  name: string;
  kind: ProviderKind;
  /** `https://host[:port]`, no path. */
  origin: string;
  /** `host[:port]` as the upstream's Host header carries it. */
  host: string;
  /** The baseUrl's path without a trailing slash ("" or e.g. "/api"). */
  pathPrefix: string;
  baseUrl: string;
  apiKey?: Secret;
  auth: AuthPlacement;
  oauth: "forward" | "strip";
  /** Whether the client's vendor API keys (§4) may reach this provider (§5). */
  clientKeys: "forward" | "strip";
  headersSet: ReadonlyArray<readonly [name: string, value: string]>;
  headersRemove: ReadonlySet<string>;
  betasRemove: ReadonlySet<string>;
  /** `betas.allow`: only these `anthropic-beta` values pass; undefined lets every value pass. */
  betasAllow: ReadonlySet<string> | undefined;
  /** `query.remove`: query parameters dropped before forwarding (Claude Code sends `?beta=true`). */
  queryRemove: ReadonlySet<string>;
  /** `models`, in key order: the first rule whose glob matches the request's model names it upstream. */
  models: readonly ModelRule[];
  /** False: `POST …/messages/count_tokens` is answered by the relay (404), never forwarded. */
  countTokens: boolean;
  /** The preset it starts from, if any. */
  preset?: string;
  /**
   * Set when the provider's `apiKey: { env }` names an unset variable (§3): requests routed here
   * get a relay-made 503 naming the variable; every other provider keeps working.
   */
  unavailable?: { env: string };
  /** True for the providers of the embedded default that the config did not redefine. */
  builtin: boolean;
}

/** One `models` entry: `"claude-*haiku*": "qwen3-coder:30b"`. */
export interface ModelRule {
  glob: string;
  pattern: RegExp;
  upstream: string;
}

export interface ResolvedRoute {
  provider: string;
  model?: string;
  modelPattern?: RegExp;
  path?: string;
  header?: ReadonlyArray<readonly [name: string, value: string]>;
  /** Conditions on the JSON body; a route with them makes the relay read the whole body. */
  when?: ResolvedWhen;
}

/** A route's `when` (DESIGN §10): every given key must hold; read by routing/request-features.ts. */
export interface ResolvedWhen {
  thinking?: boolean;
  /** Glob on some tool's `name` or `type`. */
  tools?: string;
  toolsPattern?: RegExp;
  image?: boolean;
  minInputTokens?: number;
  stream?: boolean;
}

export interface ConfigSource {
  /** The config file, or undefined for the embedded default / an inline config. */
  file?: string;
  /** How it was found: searched in the project tree, given by flag/env, the user folder, … */
  via: "search" | "flag" | "env" | "user" | "default" | "inline";
}

export interface ResolvedConfig {
  source: ConfigSource;
  port: number;
  host: string;
  token?: Secret;
  providers: ReadonlyMap<string, ResolvedProvider>;
  routes: readonly ResolvedRoute[];
  defaultProvider?: string;
  timeouts: { [K in keyof typeof DEFAULT_TIMEOUTS]: number };
  limits: { maxBodyBytes: number };
  /** The inspector (§11): on unless `inspect: false`; `--no-inspect` turns it off too. */
  inspect: { enabled: boolean; maxBytes: number; maxBodyBytes: number };
}

const secretsByConfig = new WeakMap<ResolvedConfig, Map<string, KnownSecrets>>();

/**
 * Every secret this config knows by value — each provider's `apiKey`, the config `token` — plus
 * `extra` (the relay's session token), compiled for `redact`. Cached per config and extras.
 */
export function configSecrets(config: ResolvedConfig, ...extra: Array<string | undefined>): KnownSecrets {
  let byExtra = secretsByConfig.get(config);
  if (byExtra === undefined) secretsByConfig.set(config, (byExtra = new Map()));
  const key = extra.join("\0");
  let known = byExtra.get(key);
  if (known === undefined) {
    const values = [...config.providers.values()].map((p) => p.apiKey?.reveal());
    known = knownSecrets([...values, config.token?.reveal(), ...extra]);
    if (byExtra.size >= 16) byExtra.clear();
    byExtra.set(key, known);
  }
  return known;
}

/** Typed identity for config files: `export default defineConfig({ … })`. */
export function defineConfig(config: RelayConfig): RelayConfig {
  return config;
}

function formatIssues(error: z.ZodError, where: string): string {
  const lines = error.issues.flatMap((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join(".") : "(top level)";
    // One line per unknown key, each with the key it most likely meant.
    if (issue.code === "unrecognized_keys") {
      const known = knownKeysAt(configSchema, issue.path);
      return issue.keys.map((key) => `  ${path}: ${unknownKeyMessage(key, known)}`);
    }
    // A bad record key (a provider name) carries the key schema's own message one level down.
    const message = issue.code === "invalid_key" ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    return [`  ${path}: ${message}`];
  });
  return `invalid config in ${where}:\n${lines.join("\n")}`;
}

/** Validate a loaded config object; throws ConfigError naming the file and each bad key path. */
export function validateConfig(raw: unknown, where: string): RelayConfig {
  const parsed = configSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error, where));
  return parsed.data;
}

function invalidValue(where: string, keyPath: string, message: string): ConfigError {
  return new ConfigError(`invalid config in ${where}:\n  ${keyPath}: ${message}`);
}

/** A secret's value, or undefined when its `{ env }` variable is unset or empty. */
function lookupSecret(ref: SecretRef, keyPath: string, where: string, env: NodeJS.ProcessEnv): Secret | undefined {
  if (typeof ref === "string") return new Secret(ref, `literal at ${keyPath}`);
  const value = env[ref.env];
  if (value === undefined || value === "") return undefined;
  if (/[\r\n\0]/.test(value)) {
    throw invalidValue(where, keyPath, `environment variable ${ref.env} contains CR, LF or NUL (value not shown)`);
  }
  return new Secret(value, `env ${ref.env}`);
}

function resolveSecret(ref: SecretRef, keyPath: string, where: string, env: NodeJS.ProcessEnv): Secret {
  const secret = lookupSecret(ref, keyPath, where, env);
  if (secret === undefined) throw invalidValue(where, keyPath, `environment variable ${(ref as { env: string }).env} is not set`);
  return secret;
}

export const DEFAULT_AUTH: Record<ProviderKind, AuthPlacement> = {
  anthropic: "x-api-key",
  openai: "bearer",
  generic: "bearer",
  gemini: "x-goog-api-key",
};

/** A provider's config with its preset's fields under it: every field written in the config wins. */
interface MergedProvider extends ProviderConfig {
  kind: ProviderKind;
  baseUrl: string;
  /** The key comes from a local preset's optional variable: unset leaves the provider keyless. */
  keyOptional: boolean;
}

function mergePreset(config: ProviderConfig): MergedProvider {
  const preset = config.preset === undefined ? undefined : presetFor(config.preset);
  // The schema guarantees kind and baseUrl when there is no preset.
  if (preset === undefined) return { ...config, kind: config.kind!, baseUrl: config.baseUrl!, keyOptional: false };
  const merged: MergedProvider = {
    ...config,
    kind: config.kind ?? preset.kind,
    baseUrl: config.baseUrl ?? preset.baseUrl,
    keyOptional: config.apiKey === undefined && preset.keyOptional === true,
  };
  const auth = config.auth ?? preset.auth;
  if (auth !== undefined) merged.auth = auth;
  const oauth = config.oauth ?? preset.oauth;
  if (oauth !== undefined) merged.oauth = oauth;
  const apiKey = config.apiKey ?? (preset.keyEnv === undefined ? undefined : { env: preset.keyEnv });
  if (apiKey !== undefined) merged.apiKey = apiKey;
  // One level deeper for the objects: `betas: { remove }` next to a preset keeps its `allow`.
  const allow = config.betas?.allow ?? preset.betas?.allow;
  const remove = config.betas?.remove ?? preset.betas?.remove;
  if (allow !== undefined || remove !== undefined) {
    merged.betas = { ...(allow ? { allow: [...allow] } : {}), ...(remove ? { remove: [...remove] } : {}) };
  }
  const queryRemove = config.query?.remove ?? preset.query?.remove;
  if (queryRemove !== undefined) merged.query = { remove: [...queryRemove] };
  // A `models` map replaces the preset's whole: merging two glob lists would hide which one wins.
  const models = config.models ?? preset.models;
  if (models !== undefined) merged.models = { ...models };
  merged.countTokens = config.countTokens ?? preset.countTokens;
  return merged;
}

function resolveProvider(
  name: string,
  written: ProviderConfig,
  builtin: boolean,
  where: string,
  env: NodeJS.ProcessEnv,
): ResolvedProvider {
  const config = mergePreset(written);
  const url = new URL(config.baseUrl);
  const pathPrefix = url.pathname.replace(/\/+$/, "");
  // §5: only the official origin is trusted with a subscription token unless the user says so.
  const oauth = config.oauth ?? (url.origin === OFFICIAL_ANTHROPIC_ORIGIN ? "forward" : "strip");
  const provider: ResolvedProvider = {
    name,
    kind: config.kind,
    origin: url.origin,
    host: url.host,
    pathPrefix,
    baseUrl: `${url.origin}${pathPrefix}`,
    auth: config.auth ?? DEFAULT_AUTH[config.kind],
    oauth,
    // §5: a client's vendor key reaches its vendor's own origin, or a provider trusted like it.
    clientKeys: config.clientKeys ?? (VENDOR_ORIGINS.has(url.origin) || oauth === "forward" ? "forward" : "strip"),
    headersSet: Object.entries(config.headers?.set ?? {}).map(([k, v]) => [k.toLowerCase(), v] as const),
    headersRemove: new Set((config.headers?.remove ?? []).map((h) => h.toLowerCase())),
    betasRemove: new Set(config.betas?.remove ?? []),
    betasAllow: config.betas?.allow === undefined ? undefined : new Set(config.betas.allow),
    queryRemove: new Set(config.query?.remove ?? []),
    models: Object.entries(config.models ?? {}).map(([glob, upstream]) => ({ glob, pattern: globToRegExp(glob), upstream })),
    countTokens: config.countTokens ?? true,
    builtin,
  };
  if (written.preset !== undefined) provider.preset = written.preset;
  if (config.apiKey !== undefined) {
    const secret = lookupSecret(config.apiKey, `providers.${name}.apiKey`, where, env);
    if (secret !== undefined) provider.apiKey = secret;
    else if (!config.keyOptional) provider.unavailable = { env: (config.apiKey as { env: string }).env };
  }
  return provider;
}

/**
 * One warning per unavailable provider (§3), for `start`, `exec` and `config` to print.
 *
 * @example
 * unavailableWarnings(config) // → ['provider deepseek is unavailable: set DEEPSEEK_API_KEY (…)']
 */
export function unavailableWarnings(config: Pick<ResolvedConfig, "providers">): string[] {
  const warnings: string[] = [];
  for (const p of config.providers.values()) {
    if (p.unavailable === undefined) continue;
    warnings.push(
      `provider ${p.name} is unavailable: set ${p.unavailable.env} (its apiKey names that environment variable, which is not set); ` +
        `requests routed to ${p.name} get a 503, every other provider works`,
    );
  }
  return warnings;
}

/** `*` any run of characters, `?` one character; everything else literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\/-]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`);
}

export interface ResolveOptions {
  source: ConfigSource;
  env: NodeJS.ProcessEnv;
}

/** Validate, merge with the embedded default and fill in defaults. Throws ConfigError. */
export function resolveConfig(raw: unknown, { source, env }: ResolveOptions): ResolvedConfig {
  const where = source.file ?? (source.via === "default" ? "the embedded default" : "the inline config");
  const config = validateConfig(raw, where);

  const providers = new Map<string, ResolvedProvider>();
  for (const [name, p] of Object.entries(BUILTIN_PROVIDERS)) {
    providers.set(name, resolveProvider(name, p, true, where, env));
  }
  for (const [name, p] of Object.entries(config.providers ?? {})) {
    providers.set(name, resolveProvider(name, p, false, where, env));
  }

  const unknownProvider = (keyPath: string, name: string) =>
    new ConfigError(
      `invalid config in ${where}:\n  ${keyPath}: unknown provider "${name}" (known: ${[...providers.keys()].join(", ")})`,
    );

  const routes = (config.routes ?? []).map((route, i): ResolvedRoute => {
    if (!providers.has(route.provider)) throw unknownProvider(`routes.${i}.provider`, route.provider);
    const resolved: ResolvedRoute = { provider: route.provider };
    if (route.model !== undefined) {
      resolved.model = route.model;
      resolved.modelPattern = globToRegExp(route.model);
    }
    if (route.path !== undefined) resolved.path = route.path;
    if (route.header !== undefined) {
      resolved.header = Object.entries(route.header).map(([k, v]) => [k.toLowerCase(), v] as const);
    }
    if (route.when !== undefined) {
      const { tools, ...rest } = route.when;
      resolved.when = tools === undefined ? rest : { ...rest, tools, toolsPattern: globToRegExp(tools) };
    }
    return resolved;
  });

  const defaultProvider = config.defaultProvider;
  if (defaultProvider !== undefined && !providers.has(defaultProvider)) {
    throw unknownProvider("defaultProvider", defaultProvider);
  }

  const resolved: ResolvedConfig = {
    source,
    port: config.port ?? DEFAULT_PORT,
    host: config.host ?? DEFAULT_HOST,
    providers,
    routes,
    timeouts: { ...DEFAULT_TIMEOUTS, ...config.timeouts },
    limits: { ...DEFAULT_LIMITS, ...config.limits },
    inspect: config.inspect === false ? { ...DEFAULT_INSPECT, enabled: false } : { ...DEFAULT_INSPECT, ...config.inspect, enabled: true },
  };
  if (defaultProvider !== undefined) resolved.defaultProvider = defaultProvider;
  if (config.token !== undefined) resolved.token = resolveSecret(config.token, "token", where, env);
  return resolved;
}
