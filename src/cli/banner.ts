/**
 * What `start` prints before the first request (DESIGN §2): where the config came from, the
 * listen URL, providers and routes, and the lines to paste. Pure; never prints a secret.
 */
import type { ChalkInstance } from "chalk";
import { configSecrets, type ConfigSource, type ResolvedConfig } from "../config/resolve.js";
import { routeConditionTexts } from "../routing/route.js";
import { isWildcardHost } from "../relay/guards.js";
import { VERSION } from "../version.js";

export function describeSource(source: ConfigSource): string {
  switch (source.via) {
    case "default":
      return "embedded default (no config file found)";
    case "flag":
      return `${source.file} (--config)`;
    case "env":
      return `${source.file} (LLM_RELAY_CONFIG)`;
    case "user":
      return `${source.file} (user config folder)`;
    case "search":
      return `${source.file} (found in the project tree)`;
    case "inline":
      return "inline config";
  }
}

export function describeProviders(config: ResolvedConfig): string[] {
  const rows = [...config.providers.values()].map((p) => {
    const notes: string[] = [p.kind];
    if (p.kind === "anthropic") notes.push(`oauth ${p.oauth}`);
    notes.push(`clientKeys ${p.clientKeys}`);
    if (p.apiKey) notes.push(`apiKey ${p.apiKey.redacted} → ${p.auth}`);
    if (p.unavailable) notes.push(`unavailable: set ${p.unavailable.env}`);
    return [p.name, p.baseUrl, notes.join(", ")] as const;
  });
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows.map(([name, url, notes]) => `${name.padEnd(w0)}  ${url.padEnd(w1)}  ${notes}`);
}

export function describeRoutes(config: ResolvedConfig): string[] {
  const lines = config.routes.map((r, i) => `${i + 1}. ${routeConditionTexts(r, configSecrets(config)).join(" and ")} → ${r.provider}`);
  lines.unshift("/<provider>/… path prefix → that provider");
  lines.push("built-in: anthropic-version header or Anthropic API path → anthropic; OpenAI API path → openai");
  lines.push(config.defaultProvider ? `otherwise → ${config.defaultProvider}` : "otherwise → 404 (no defaultProvider)");
  return lines;
}

export interface BannerInput {
  config: ResolvedConfig;
  url: string;
  tokenSource?: "flag" | "env" | "config" | undefined;
  /** The inspector page with its token (§11): the one place that secret is printed. */
  inspectUrl?: string | undefined;
  /** This machine's non-loopback addresses, for a relay listening on all interfaces. */
  machineAddresses?: readonly string[];
  chalk: ChalkInstance;
}

/**
 * Where clients should point: a wildcard listener (`0.0.0.0`, `::`) is no address a client can
 * use, and the Host guard answers 403 to it. Local clients use 127.0.0.1; other machines one of
 * this machine's addresses. Any other listen address is used as is. Pure.
 */
export function clientUrls(url: string, machineAddresses: readonly string[] = []): { local: string; others: string[] } {
  const parsed = new URL(url);
  if (!isWildcardHost(parsed.hostname)) return { local: url, others: [] };
  const at = (host: string) => `http://${host.includes(":") ? `[${host}]` : host}:${parsed.port}`;
  return { local: at("127.0.0.1"), others: machineAddresses.map(at) };
}

export function formatBanner({ config, url, tokenSource, inspectUrl, machineAddresses, chalk }: BannerInput): string {
  const label = (text: string) => chalk.dim(text.padEnd(10));
  const indent = " ".repeat(12);
  const block = (name: string, lines: string[]) =>
    lines.map((line, i) => (i === 0 ? `  ${label(name)}${line}` : `${indent}${line}`)).join("\n");
  // Never print the token itself: point at where the user already has it.
  const tokenPath =
    tokenSource === undefined ? "" : tokenSource === "env" ? "/_t/$LLM_RELAY_TOKEN" : "/_t/<your token>";
  const { local, others } = clientUrls(url, machineAddresses);
  const base = `${local}${tokenPath}`;
  const listening = local === url ? [chalk.green(url)] : [`${chalk.green(url)} (all interfaces)`];
  const remote =
    others.length === 0
      ? []
      : ["  From other machines, use this machine's address instead of 127.0.0.1:", ...others.map((o) => `    ${o}${tokenPath}`)];
  return [
    `${chalk.bold("llm-relay")} ${VERSION}`,
    block("config", [describeSource(config.source)]),
    block("listening", listening),
    ...(inspectUrl === undefined ? [] : [block("inspector", [chalk.cyan(inspectUrl)])]),
    block("providers", describeProviders(config)),
    block("routes", describeRoutes(config)),
    "",
    "  Point Claude Code or the Anthropic SDK at the relay:",
    `    ${chalk.cyan(`export ANTHROPIC_BASE_URL=${base}`)}`,
    "  and the OpenAI SDK:",
    `    ${chalk.cyan(`export OPENAI_BASE_URL=${base}/v1`)}`,
    ...remote,
    "",
  ].join("\n");
}
