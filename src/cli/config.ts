/**
 * `llm-relay config [-c FILE] [--json]` (DESIGN §2): the config `start` would run on — where it
 * came from, whether it is trusted (§8), every provider with its key redacted, the routes in the
 * order they are tried, and every default filled in. An invalid config exits 1 with the
 * validation message (thrown as ConfigError, printed by main.ts without a stack).
 *
 * `describeConfig` is pure (resolved config in, plain redacted data out); `runConfig` loads and prints.
 */
import type { ChalkInstance } from "chalk";
import { loadConfig } from "../config/load.js";
import { configSecrets, unavailableWarnings, type ResolvedConfig } from "../config/resolve.js";
import type { Secret } from "../config/secret.js";
import { fileIsTrusted, isExecutableConfig, needsApproval, untrustedOrigins } from "../config/trust.js";
import { chalkFor } from "../log/color.js";
import { printableHeaderValue } from "../policy/headers.js";
import { redactToken } from "../policy/redact.js";
import { describeRoutes, describeSource } from "./banner.js";
import { knownSecrets } from "./errors.js";
import { portFromEnv } from "./settings.js";

export interface ConfigFlags {
  config?: string;
  json?: boolean;
}

/** A secret as the dump shows it: redacted, and where it was read from (`env NAME` / `literal at …`). */
interface SecretView {
  value: string;
  from: string;
}

export type TrustStatus = "not-needed" | "trusted" | "untrusted";

export interface ConfigView {
  source: { file: string | null; via: ResolvedConfig["source"]["via"]; description: string };
  trust: { status: TrustStatus; origins: string[] };
  host: string;
  port: number;
  portFrom: "LLM_RELAY_PORT" | "config";
  token: SecretView | null;
  providers: Record<
    string,
    {
      kind: string;
      baseUrl: string;
      preset: string | null;
      builtin: boolean;
      /** The unset variable that makes it unavailable (§3), or null when it is in service. */
      unavailable: { env: string } | null;
      oauth: "forward" | "strip";
      clientKeys: "forward" | "strip";
      auth: string;
      apiKey: SecretView | null;
      headers: { set: Record<string, string>; remove: string[] };
      betas: { allow: string[] | null; remove: string[] };
      query: { remove: string[] };
      models: Record<string, string>;
      countTokens: boolean;
    }
  >;
  /** One line per unavailable provider, as start and exec print them. */
  warnings: string[];
  routes: Array<{ provider: string; model?: string; path?: string; header?: Record<string, string> }>;
  defaultProvider: string | null;
  timeouts: ResolvedConfig["timeouts"];
  limits: ResolvedConfig["limits"];
}

function secretView(secret: Secret | undefined): SecretView | null {
  return secret === undefined ? null : { value: secret.redacted, from: secret.origin };
}

export interface DescribeInput {
  config: ResolvedConfig;
  trust: TrustStatus;
  /** LLM_RELAY_PORT, when set: `start` listens there instead of the config's port. */
  envPort?: number | undefined;
  /** LLM_RELAY_TOKEN, when set: it replaces the config's token. */
  envToken?: string | undefined;
}

/** The resolved config as plain data with every secret redacted; the one source of both output forms. */
export function describeConfig({ config, trust, envPort, envToken }: DescribeInput): ConfigView {
  const secrets = configSecrets(config, envToken);
  const providers: ConfigView["providers"] = {};
  for (const p of config.providers.values()) {
    providers[p.name] = {
      kind: p.kind,
      baseUrl: p.baseUrl,
      preset: p.preset ?? null,
      builtin: p.builtin,
      unavailable: p.unavailable ?? null,
      oauth: p.oauth,
      clientKeys: p.clientKeys,
      auth: p.auth,
      apiKey: secretView(p.apiKey),
      headers: {
        set: Object.fromEntries(p.headersSet.map(([name, value]) => [name, printableHeaderValue(name, value, secrets)])),
        remove: [...p.headersRemove],
      },
      betas: { allow: p.betasAllow === undefined ? null : [...p.betasAllow], remove: [...p.betasRemove] },
      query: { remove: [...p.queryRemove] },
      models: Object.fromEntries(p.models.map((m) => [m.glob, m.upstream])),
      countTokens: p.countTokens,
    };
  }
  const token: SecretView | null =
    envToken !== undefined && envToken !== "" ? { value: redactToken(envToken), from: "env LLM_RELAY_TOKEN" } : secretView(config.token);
  return {
    source: { file: config.source.file ?? null, via: config.source.via, description: describeSource(config.source) },
    trust: { status: trust, origins: trust === "not-needed" ? [] : untrustedOrigins(config).map((o) => o.origin) },
    host: config.host,
    port: envPort ?? config.port,
    portFrom: envPort === undefined ? "config" : "LLM_RELAY_PORT",
    token,
    providers,
    warnings: unavailableWarnings(config),
    routes: config.routes.map((r) => ({
      provider: r.provider,
      ...(r.model !== undefined ? { model: r.model } : {}),
      ...(r.path !== undefined ? { path: r.path } : {}),
      ...(r.header !== undefined ? { header: Object.fromEntries(r.header.map(([name, value]) => [name, printableHeaderValue(name, value, secrets)])) } : {}),
    })),
    defaultProvider: config.defaultProvider ?? null,
    timeouts: config.timeouts,
    limits: config.limits,
  };
}

function formatBytes(n: number): string {
  if (n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

const TRUST_TEXT: Record<TrustStatus, string> = {
  "not-needed": "not needed",
  trusted: "approved (llm-relay trust) for this exact content; after any edit, start and exec refuse it until you run llm-relay trust again",
  untrusted: "NOT approved: start and exec refuse this file until you run llm-relay trust",
};

/** The pretty form: aligned `label  value` blocks, the way `start`'s banner reads. */
export function formatConfig(view: ConfigView, config: ResolvedConfig, chalk: ChalkInstance): string {
  const label = (text: string) => chalk.bold(text.padEnd(11));
  const indent = " ".repeat(11);
  const block = (name: string, lines: string[]) => lines.map((line, i) => (i === 0 ? `${label(name)}${line}` : `${indent}${line}`));

  const providerRows = Object.entries(view.providers).map(([name, p]) => {
    const notes = [p.kind];
    if (p.preset !== null) notes.push(`preset ${p.preset}`);
    if (p.kind === "anthropic") notes.push(`oauth ${p.oauth}`);
    notes.push(`clientKeys ${p.clientKeys}`);
    if (p.apiKey) notes.push(`apiKey ${p.apiKey.value} (${p.apiKey.from}) → ${p.auth}`);
    if (p.unavailable) notes.push(chalk.yellow(`unavailable: set ${p.unavailable.env}`));
    if (p.builtin) notes.push("built in");
    const extra: string[] = [];
    const set = Object.entries(p.headers.set);
    if (set.length > 0) extra.push(`headers.set ${set.map(([k, v]) => `${k}: ${v}`).join("; ")}`);
    if (p.headers.remove.length > 0) extra.push(`headers.remove ${p.headers.remove.join(", ")}`);
    if (p.betas.allow !== null) extra.push(`betas.allow ${p.betas.allow.length > 0 ? p.betas.allow.join(", ") : "none (anthropic-beta removed)"}`);
    if (p.betas.remove.length > 0) extra.push(`betas.remove ${p.betas.remove.join(", ")}`);
    if (p.query.remove.length > 0) extra.push(`query.remove ${p.query.remove.join(", ")}`);
    const models = Object.entries(p.models);
    if (models.length > 0) extra.push(`models ${models.map(([glob, upstream]) => `${glob} → ${upstream}`).join("; ")}`);
    if (!p.countTokens && p.kind === "anthropic") extra.push("countTokens false (the relay answers count_tokens with 404)");
    return { name, url: p.baseUrl, notes: notes.join(", "), extra };
  });
  const w0 = Math.max(...providerRows.map((r) => r.name.length));
  const w1 = Math.max(...providerRows.map((r) => r.url.length));
  const providerLines = providerRows.flatMap((r) => [
    `${r.name.padEnd(w0)}  ${r.url.padEnd(w1)}  ${r.notes}`,
    ...r.extra.map((e) => `${" ".repeat(w0 + 2)}${e}`),
  ]);

  const trust = view.trust.status === "untrusted" ? chalk.red(TRUST_TEXT.untrusted) : TRUST_TEXT[view.trust.status];
  const trustLines = [trust, ...view.trust.origins.map((o) => `credentials may go to ${o}`)];
  return [
    ...block("config", [view.source.description]),
    ...block("trust", trustLines),
    ...block("listen", [`${view.host}:${view.port}${view.portFrom === "LLM_RELAY_PORT" ? " (LLM_RELAY_PORT)" : ""}`]),
    ...block("token", [view.token ? `${view.token.value} (${view.token.from})` : "none"]),
    ...block("providers", providerLines),
    ...block("routes", describeRoutes(config)),
    ...block("timeouts", Object.entries(view.timeouts).map(([k, v]) => `${k.padEnd(16)}${v} ms`)),
    ...block("limits", [`maxBodyBytes    ${view.limits.maxBodyBytes} (${formatBytes(view.limits.maxBodyBytes)})`]),
  ].join("\n");
}

async function trustStatus(config: ResolvedConfig, env: NodeJS.ProcessEnv): Promise<TrustStatus> {
  const file = config.source.file;
  // A project config that is code loaded at all only because it is approved (load.ts, §8).
  if (file !== undefined && config.source.via === "search" && isExecutableConfig(file)) return "trusted";
  if (!needsApproval(config) || config.source.file === undefined) return "not-needed";
  return (await fileIsTrusted(config.source.file, env)) ? "trusted" : "untrusted";
}

export async function runConfig(flags: ConfigFlags): Promise<number> {
  const env = process.env;
  const config = await loadConfig(flags.config === undefined ? { env } : { configFile: flags.config, env });
  for (const provider of config.providers.values()) if (provider.apiKey) knownSecrets.add(provider.apiKey.reveal());
  if (config.token) knownSecrets.add(config.token.reveal());
  if (env.LLM_RELAY_TOKEN) knownSecrets.add(env.LLM_RELAY_TOKEN);

  const view = describeConfig({ config, trust: await trustStatus(config, env), envPort: portFromEnv(env), envToken: env.LLM_RELAY_TOKEN });
  for (const warning of view.warnings) process.stderr.write(`llm-relay: warning: ${warning}\n`);
  process.stdout.write(flags.json ? `${JSON.stringify(view, null, 2)}\n` : `${formatConfig(view, config, chalkFor(process.stdout))}\n`);
  return 0;
}
