/**
 * `llm-relay explain`: a dry run of routing (§3) and the header policy (§4, §5) for one request,
 * through the same `planRequest` the relay calls. No network.
 */
import type { HeaderMap } from "../policy/hop-by-hop.js";
import { chalkFor } from "../log/color.js";
import { formatDecisionLines } from "../log/format.js";
import { redact } from "../policy/redact.js";
import { isRefusal, planRequest, planSecrets } from "../relay/plan.js";
import { describeSource } from "./banner.js";
import { CliError } from "./errors.js";
import { resolveSettings } from "./settings.js";

export interface ExplainFlags {
  config?: string;
  path: string;
  method: string;
  model?: string;
  header: string[];
  json?: boolean;
}

/** The `via` entry explain shows; the live relay's carries a random instance id instead. */
export const EXPLAIN_VIA = "1.1 llm-relay-explain";

/** `-H 'name: value'` flags → headers as Node would parse them (lower-case names, repeats joined). */
export function parseHeaderFlags(flags: readonly string[]): HeaderMap {
  const headers: Record<string, string> = {};
  for (const flag of flags) {
    const colon = flag.indexOf(":");
    if (colon <= 0) throw new CliError(`-H expects 'name: value', got a value without a colon`);
    const name = flag.slice(0, colon).trim().toLowerCase();
    if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name)) throw new CliError(`-H: "${name}" is not a header name`);
    const value = flag.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return headers;
}

export async function runExplain(flags: ExplainFlags): Promise<number> {
  // explain sends nothing, so an untrusted project config only gets a warning (§8).
  const settings = await resolveSettings({ ...(flags.config !== undefined ? { config: flags.config } : {}) }, { untrustedConfig: "warn", command: "explain" });
  // Every request the relay sees carries Host (RFC 9112 §3.2); default it to the listen address
  // so the dry run shows the same `host` decision a live request gets.
  const listenHost = settings.host.includes(":") && !settings.host.startsWith("[") ? `[${settings.host}]` : settings.host;
  const headers = { host: `${listenHost}:${settings.port}`, ...parseHeaderFlags(flags.header) };
  if (!flags.path.startsWith("/")) throw new CliError(`--path must start with "/"`);
  const queryAt = flags.path.indexOf("?");
  const rawPath = queryAt === -1 ? flags.path : flags.path.slice(0, queryAt);
  const query = queryAt === -1 ? "" : flags.path.slice(queryAt);
  const plan = planRequest({
    path: rawPath,
    query,
    method: flags.method,
    headers,
    model: flags.model,
    config: settings.config,
    relayToken: settings.token,
    via: EXPLAIN_VIA,
  });

  if (flags.json) {
    const out = isRefusal(plan)
      ? { provider: null, status: plan.refused.status, reason: plan.refused.message }
      : plan
      ? {
          provider: plan.route.provider.name,
          route: plan.route.matchedBy,
          oauth: plan.route.provider.oauth,
          clientKeys: plan.route.provider.clientKeys,
          upstream: plan.upstreamDisplay,
          target: plan.targetDecisions,
          decisions: plan.headers.decisions,
          ...(plan.query.length > 0 ? { query: plan.query } : {}),
          ...(plan.relayAnswer ? { relayAnswer: plan.relayAnswer } : {}),
        }
      : { provider: null, status: 404, reason: "no route" };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }

  const chalk = chalkFor(process.stdout);
  const lines = [`config    ${describeSource(settings.config.source)}`, `request   ${flags.method.toUpperCase()} ${redact(flags.path, planSecrets(settings.config, settings.token))}${flags.model ? `  model ${flags.model}` : ""}`];
  if (isRefusal(plan)) {
    lines.push(`refused   ${chalk.red(String(plan.refused.status))}: ${plan.refused.message}`);
  } else if (!plan) {
    lines.push(`provider  ${chalk.yellow("none")}: the relay answers 404 (add a route or a defaultProvider)`);
  } else {
    const p = plan.route.provider;
    const trust = [...(p.kind === "anthropic" ? [`oauth ${p.oauth}`] : []), `clientKeys ${p.clientKeys}`].join(", ");
    lines.push(`provider  ${chalk.cyan(p.name)} (${p.kind}) via ${plan.route.matchedBy}`);
    lines.push(`trust     ${trust}`);
    if (plan.relayAnswer) {
      lines.push(`answer    ${chalk.yellow(String(plan.relayAnswer.status))} from the relay, not forwarded: ${plan.relayAnswer.message}`);
    } else {
      lines.push(`upstream  ${plan.upstreamDisplay}`);
    }
    if (plan.targetDecisions.length > 0) {
      lines.push("target");
      lines.push(...formatDecisionLines(plan.targetDecisions, chalk, "  "));
    }
    lines.push("headers");
    lines.push(...formatDecisionLines(plan.headers.decisions, chalk, "  "));
    if (plan.query.length > 0) lines.push("query", ...formatDecisionLines(plan.query, chalk, "  "));
  }
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}
