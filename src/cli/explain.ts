/**
 * `llm-relay explain`: a dry run of routing (§3), the header policy (§4, §5) and the body
 * decisions (§10) for one request, through the same `planRequest` the relay calls. No network.
 * `--body FILE` reads a real request body: its model (and where it sits), the `when` features,
 * the token estimate, and the model rewrite the chosen provider would make.
 */
import { readFile } from "node:fs/promises";
import type { HeaderMap } from "../policy/hop-by-hop.js";
import { chalkFor } from "../log/color.js";
import { formatDecisionLines, safe } from "../log/format.js";
import { redact } from "../policy/redact.js";
import { describeModelRewrite } from "../routing/model-rewrite.js";
import { ModelSniffer } from "../routing/model-sniffer.js";
import { parseJsonBody, requestFeatures, type RequestFeatures } from "../routing/request-features.js";
import { BODY_MODEL, isRefusal, planRequest, planSecrets } from "../relay/plan.js";
import { describeSource } from "./banner.js";
import { CliError } from "./errors.js";
import { resolveSettings } from "./settings.js";

export interface ExplainFlags {
  config?: string;
  path: string;
  method: string;
  model?: string;
  /** A request body file. */
  body?: string;
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
  const body = flags.body === undefined ? undefined : await readBody(flags.body);
  // A client sends its body's length; the dry run shows that decision (and its rewrite) too.
  const headers = {
    host: `${listenHost}:${settings.port}`,
    ...(body ? { "content-length": String(body.bytes.length) } : {}),
    ...parseHeaderFlags(flags.header),
  };
  if (!flags.path.startsWith("/")) throw new CliError(`--path must start with "/"`);
  const queryAt = flags.path.indexOf("?");
  const rawPath = queryAt === -1 ? flags.path : flags.path.slice(0, queryAt);
  const query = queryAt === -1 ? "" : flags.path.slice(queryAt);
  // --model names the model when there is no body, or overrides the body's (no span then).
  const model = flags.model ?? body?.model;
  const plan = planRequest({
    path: rawPath,
    query,
    method: flags.method,
    headers,
    model,
    modelSpan: flags.model === undefined ? body?.span : undefined,
    json: body?.json,
    config: settings.config,
    relayToken: settings.token,
    via: EXPLAIN_VIA,
  });

  const features = body ? requestFeatures(body.json, true) : undefined;
  if (flags.json) {
    const bodyJson = body ? { bytes: body.bytes.length, model: body.model ?? null, json: body.json !== undefined, features } : undefined;
    const out = isRefusal(plan)
      ? { provider: null, status: plan.refused.status, reason: plan.refused.message }
      : plan
      ? {
          provider: plan.route.provider.name,
          route: plan.route.matchedBy,
          rule: plan.route.rule,
          oauth: plan.route.provider.oauth,
          clientKeys: plan.route.provider.clientKeys,
          ...(plan.upstreamModel !== undefined ? { model, upstreamModel: plan.upstreamModel } : {}),
          ...(plan.modelRewrite
            ? { modelRewrite: { from: plan.modelRewrite.from, to: plan.modelRewrite.to, glob: plan.modelRewrite.glob, provider: plan.modelRewrite.provider, description: describeModelRewrite(plan.modelRewrite) } }
            : {}),
          ...(bodyJson ? { body: bodyJson } : {}),
          upstream: plan.upstreamDisplay,
          target: plan.targetDecisions,
          decisions: plan.decisions.filter((d) => !plan.targetDecisions.includes(d)),
          ...(plan.query.length > 0 ? { query: plan.query } : {}),
          ...(plan.relayAnswer ? { relayAnswer: plan.relayAnswer } : {}),
        }
      : { provider: null, status: 404, reason: "no route", ...(bodyJson ? { body: bodyJson } : {}) };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return 0;
  }

  const chalk = chalkFor(process.stdout);
  const lines = [`config    ${describeSource(settings.config.source)}`, `request   ${flags.method.toUpperCase()} ${redact(flags.path, planSecrets(settings.config, settings.token))}${model ? `  model ${safe(model)}` : ""}`];
  if (body && features) lines.push(...bodyLines(flags.body!, body, features));
  if (isRefusal(plan)) {
    lines.push(`refused   ${chalk.red(String(plan.refused.status))}: ${plan.refused.message}`);
  } else if (!plan) {
    lines.push(`provider  ${chalk.yellow("none")}: the relay answers 404 (add a route or a defaultProvider)`);
  } else {
    const p = plan.route.provider;
    const trust = [...(p.kind === "anthropic" ? [`oauth ${p.oauth}`] : []), `clientKeys ${p.clientKeys}`].join(", ");
    lines.push(`provider  ${chalk.cyan(p.name)} (${p.kind}) via ${safe(plan.route.matchedBy)}`);
    lines.push(`trust     ${trust}`);
    if (plan.relayAnswer) {
      lines.push(`answer    ${chalk.yellow(String(plan.relayAnswer.status))} from the relay, not forwarded: ${plan.relayAnswer.message}`);
    } else {
      if (plan.modelRewrite) lines.push(`model     ${safe(describeModelRewrite(plan.modelRewrite))}`);
      lines.push(`upstream  ${plan.upstreamDisplay}`);
    }
    if (plan.targetDecisions.length > 0) {
      lines.push("target");
      lines.push(...formatDecisionLines(plan.targetDecisions, chalk, "  "));
    }
    lines.push("headers");
    lines.push(...formatDecisionLines(plan.headers.decisions, chalk, "  "));
    if (plan.query.length > 0) lines.push("query", ...formatDecisionLines(plan.query, chalk, "  "));
    const bodyDecisions = plan.decisions.filter((d) => d.header === BODY_MODEL);
    if (bodyDecisions.length > 0) lines.push("body", ...formatDecisionLines(bodyDecisions, chalk, "  "));
  }
  process.stdout.write(`${lines.join("\n")}\n`);
  return 0;
}

interface BodyFile {
  bytes: Buffer;
  model?: string | undefined;
  span?: { start: number; end: number } | undefined;
  json: unknown;
}

/** The body as the relay would see it: the sniffer's model and span, and a parsed copy for `when`. */
async function readBody(file: string): Promise<BodyFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new CliError(`--body: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  const sniffer = new ModelSniffer();
  sniffer.push(bytes);
  sniffer.end();
  return { bytes, model: sniffer.model, span: sniffer.span, json: parseJsonBody(bytes) };
}

function bodyLines(file: string, body: BodyFile, features: RequestFeatures): string[] {
  const yesNo = (value: boolean) => (value ? "yes" : "no");
  const json = body.json as { thinking?: { type?: unknown } } | undefined;
  const thinkingType = typeof json?.thinking?.type === "string" ? ` (${json.thinking.type})` : "";
  const tools = features.tools.length === 0 ? "none" : `${features.tools.slice(0, 8).join(", ")}${features.tools.length > 8 ? `, … (${features.tools.length})` : ""}`;
  const lines = [`body      ${file} (${body.bytes.length} bytes${body.json === undefined ? ", not JSON: no when route can match" : ""})`];
  lines.push(`  model     ${body.model === undefined ? "none (no top-level string)" : safe(body.model)}`);
  if (body.json !== undefined) {
    lines.push(`  thinking  ${yesNo(features.thinking)}${safe(thinkingType)}`);
    lines.push(`  tools     ${safe(tools)}`);
    lines.push(`  image     ${yesNo(features.image)}`);
    lines.push(`  stream    ${yesNo(features.stream)}`);
    lines.push(`  input     ~${features.inputTokens} tokens (local estimate, for minInputTokens)`);
  }
  return lines;
}
