/**
 * `llm-relay doctor` (DESIGN §9): checks the environment and setup, each check `ok`, `warn` or
 * `fail` with a fix; exit 1 if any check fails. It never prints a secret: environment values are
 * shown redacted, and the network checks send no request and no credential (a DNS lookup, then a
 * TCP connect and TLS handshake, each bounded by a short timeout).
 *
 * The environment checks are pure (`checkEnvironment`, `noProxyCovers`); the config, port and
 * reach checks are the thin I/O shell around them.
 */
import { lookup } from "node:dns/promises";
import net from "node:net";
import tls from "node:tls";
import type { ChalkInstance } from "chalk";
import { loadConfigFile } from "../config/load.js";
import { DEFAULT_HOST, DEFAULT_PORT } from "../config/defaults.js";
import { resolveConfig, type ResolvedConfig } from "../config/resolve.js";
import {
  exposedHost,
  fileIsTrusted,
  fileMode,
  isExecutableConfig,
  literalSecretPaths,
  needsApproval,
  readableByOthers,
  untrustedOrigins,
} from "../config/trust.js";
import { chalkFor } from "../log/color.js";
import { knownSecrets as compileSecrets, redact, redactToken } from "../policy/redact.js";
import { isLoopbackHost } from "../net/loopback.js";
import { probeRelay } from "../relay/health-probe.js";
import { describeSource } from "./banner.js";
import { knownSecrets } from "./errors.js";
import { portFromEnv } from "./settings.js";

export type CheckStatus = "ok" | "warn" | "fail";

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  /** What to do about a warn or fail. */
  fix?: string;
}

/** Each network step (lookup, connect + handshake) gives up after this long: unreachable is a warning, never a hang. */
export const REACH_TIMEOUT_MS = 3000;

// --- environment (pure) ------------------------------------------------------------------------

/**
 * Variables with which Claude Code uses a credential of its own instead of the subscription
 * login (`claude /login`). Per Claude Code's settings docs: ANTHROPIC_API_KEY is sent as
 * `x-api-key` (once approved), ANTHROPIC_AUTH_TOKEN as `Authorization: Bearer`, and
 * CLAUDE_CODE_OAUTH_TOKEN replaces the stored login token.
 */
const CREDENTIAL_VARS: ReadonlyArray<{ name: string; effect: string; fix: string }> = [
  {
    name: "ANTHROPIC_API_KEY",
    effect: "Claude Code sends this key (x-api-key) instead of your subscription login once you approve it, and API usage is billed",
    fix: "unset ANTHROPIC_API_KEY (and remove it from your shell profile) unless you mean to use an API key",
  },
  {
    name: "ANTHROPIC_AUTH_TOKEN",
    effect: "Claude Code sends it as Authorization: Bearer on every request, instead of your subscription login",
    fix: "unset ANTHROPIC_AUTH_TOKEN unless a gateway needs it (llm-relay never needs it; exec never sets it)",
  },
  {
    name: "CLAUDE_CODE_OAUTH_TOKEN",
    effect: "Claude Code uses this token instead of the login from `claude /login`; once it expires or is revoked, every request gets a 401",
    fix: "unset CLAUDE_CODE_OAUTH_TOKEN unless you made it for this machine with `claude setup-token` and it is current",
  },
];

const PROXY_VARS = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] as const;

/**
 * Whether a NO_PROXY list exempts `http://127.0.0.1:<port>` (the URL clients get for the relay).
 * `"cidr"`: only a CIDR block covers it, which curl honours but Node's undici and others ignore.
 * A bare `localhost` does not cover it: clients match the URL's host text, not its address.
 */
export function noProxyCovers(noProxy: string, port: number): boolean | "cidr" {
  let cidr = false;
  for (const raw of noProxy.split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === "") continue;
    if (entry === "*") return true;
    if (entry === "127.0.0.1" || entry === `127.0.0.1:${port}`) return true;
    const block = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}\/(\d{1,2})$/.exec(entry);
    if (block && (Number(block[1]) <= 8 || entry.startsWith("127.0.0.1/"))) cidr = true;
  }
  return cidr ? "cidr" : false;
}

function present(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

function baseUrlCheck(env: NodeJS.ProcessEnv, name: string, relayPort: number): Check {
  const value = present(env, name);
  if (value === undefined) return { name, status: "ok", detail: "not set" };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { name, status: "warn", detail: `is set but is not a URL (value not shown)`, fix: `unset ${name}, or set it to a URL` };
  }
  const shown = redact(value, compileSecrets(knownSecrets));
  const bareHost = url.hostname.replace(/^\[|\]$/g, "");
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  if (isLoopbackHost(bareHost) && port === relayPort) {
    return { name, status: "ok", detail: `points at the relay's address (${shown})` };
  }
  return {
    name,
    status: "warn",
    detail: `already points at ${shown}: clients send their requests there, not to this relay`,
    fix: `unset ${name} in your shell profile, or use \`llm-relay exec -- <command>\`, which sets it for that command only`,
  };
}

/** The environment checks: credential variables, base URLs, proxies. `relayPort` is where `start` would listen. */
export function checkEnvironment(env: NodeJS.ProcessEnv, relayPort: number): Check[] {
  const checks: Check[] = [];
  const setCredentials = CREDENTIAL_VARS.filter((v) => present(env, v.name) !== undefined);
  for (const v of setCredentials) {
    checks.push({ name: v.name, status: "warn", detail: `is set (${redactToken(present(env, v.name)!)}): ${v.effect}`, fix: v.fix });
  }
  if (setCredentials.length === 0) {
    checks.push({ name: "credentials", status: "ok", detail: `none of ${CREDENTIAL_VARS.map((v) => v.name).join(", ")} is set` });
  }

  checks.push(baseUrlCheck(env, "ANTHROPIC_BASE_URL", relayPort));
  checks.push(baseUrlCheck(env, "OPENAI_BASE_URL", relayPort));

  const proxies = PROXY_VARS.filter((name) => present(env, name) !== undefined);
  if (proxies.length === 0) {
    checks.push({ name: "proxy", status: "ok", detail: "no HTTP(S)_PROXY / ALL_PROXY set" });
    return checks;
  }
  const named = proxies.map((name) => `${name}=${redact(present(env, name)!, compileSecrets(knownSecrets))}`).join(", ");
  const noProxy = [present(env, "NO_PROXY"), present(env, "no_proxy")].filter((v) => v !== undefined).join(",");
  const covered = noProxyCovers(noProxy, relayPort);
  const entries = new Set(["127.0.0.1", "localhost", ...noProxy.split(/[,\s]+/).filter(Boolean)]);
  const fix = `add loopback to NO_PROXY: export NO_PROXY=${[...entries].join(",")} (llm-relay exec does this for its command)`;
  if (covered === true) {
    checks.push({ name: "proxy", status: "ok", detail: `${named}; NO_PROXY exempts 127.0.0.1, and the relay reaches providers through the proxy` });
  } else if (covered === "cidr") {
    checks.push({
      name: "proxy",
      status: "warn",
      detail: `${named}; NO_PROXY covers 127.0.0.1 only by a CIDR block, which Node's HTTP clients ignore: their requests to the relay go to the proxy`,
      fix,
    });
  } else {
    // A fail, not a warning: the clients the relay serves (Claude Code, the SDKs) honour these
    // variables, so every request meant for http://127.0.0.1 would go to the proxy, which cannot reach it.
    checks.push({
      name: "proxy",
      status: "fail",
      detail: `${named}, and NO_PROXY does not list 127.0.0.1: clients would send their requests for the relay to the proxy`,
      fix,
    });
  }
  return checks;
}

// --- config, port, reach (I/O) -----------------------------------------------------------------

/** What to do about a config that cannot be loaded: approve it, or fix it. Pure. */
export function loadFailureFix(error: Error): string {
  const approve = /^ {4}llm-relay trust (.+)$/m.exec(error.message);
  if (error.name === "TrustError" && approve) return `read it, then approve it: llm-relay trust ${approve[1]}`;
  if (error.name === "TrustError") return "name the file with --config or LLM_RELAY_CONFIG, or put the settings in it instead of $import";
  return "fix or remove the file (or LLM_RELAY_CONFIG)";
}

/** What to do about a config that does not validate: export a variable it names, or fix the keys. Pure. */
export function invalidConfigFix(message: string): string {
  const unset = [...message.matchAll(/environment variable (\w+) is not set/g)].map((m) => m[1]!);
  if (unset.length > 0) {
    return `export ${unset.map((name) => `${name}=…`).join(" ")} in the shell that runs llm-relay (the config reads it from the environment)`;
  }
  return "correct the keys named above; `llm-relay config` shows the result";
}

async function checkConfig(env: NodeJS.ProcessEnv, configFile: string | undefined): Promise<{ checks: Check[]; config?: ResolvedConfig }> {
  let loaded;
  try {
    loaded = await loadConfigFile(configFile === undefined ? { env } : { env, configFile });
  } catch (error) {
    return {
      checks: [{ name: "config", status: "fail", detail: (error as Error).message, fix: loadFailureFix(error as Error) }],
    };
  }
  const checks: Check[] = [];
  const where = describeSource(loaded.source);
  checks.push({
    name: "config",
    status: "ok",
    detail: loaded.source.via === "default" ? `no config file; ${where.replace(/ \(.*\)$/, "")} serves (anthropic, openai)` : `found: ${where}`,
  });

  let config: ResolvedConfig;
  try {
    config = resolveConfig(loaded.raw, { source: loaded.source, env });
  } catch (error) {
    checks.push({ name: "config valid", status: "fail", detail: (error as Error).message, fix: invalidConfigFix((error as Error).message) });
    return { checks };
  }
  for (const p of config.providers.values()) if (p.apiKey) knownSecrets.add(p.apiKey.reveal());
  if (config.token) knownSecrets.add(config.token.reveal());
  checks.push({
    name: "config valid",
    status: "ok",
    detail: `${config.providers.size} provider(s), ${config.routes.length} route(s)${config.defaultProvider ? `, default ${config.defaultProvider}` : ""}`,
  });
  // §3: an unset key variable takes one provider out of service, not the config.
  for (const p of config.providers.values()) {
    if (p.unavailable === undefined) continue;
    checks.push({
      name: `provider ${p.name}`,
      status: "warn",
      detail: `unavailable: ${p.unavailable.env} is not set, so requests routed to ${p.name} get a 503; the other providers work`,
      fix: invalidConfigFix(`environment variable ${p.unavailable.env} is not set`),
    });
  }

  const file = config.source.file;
  if (file !== undefined && needsApproval(config)) {
    const targets = [...untrustedOrigins(config).map((o) => o.origin), ...(exposedHost(config) ? [`listening on ${config.host}`] : [])];
    checks.push(
      (await fileIsTrusted(file, env))
        ? { name: "config trust", status: "ok", detail: `approved for this exact content (sends credentials to ${targets.join(", ")}); an edit needs llm-relay trust again` }
        : {
            name: "config trust",
            status: "fail",
            detail: `not approved: it would send credentials to ${targets.join(", ")}, so start and exec refuse it`,
            fix: `read it, then: llm-relay trust ${file}`,
          },
    );
  } else if (file !== undefined && config.source.via === "search" && isExecutableConfig(file)) {
    // Loaded at all only because it is approved (a project config that is code runs only then, §8).
    checks.push({ name: "config trust", status: "ok", detail: "approved for this exact content (it is code); an edit needs llm-relay trust again" });
  } else {
    const why =
      file === undefined ? "no file" : config.source.via === "search" ? "credentials go to official and loopback origins only" : "a file you named or your user config";
    checks.push({ name: "config trust", status: "ok", detail: `not needed (${why})` });
  }

  const literals = literalSecretPaths(config);
  const mode = file === undefined ? undefined : await fileMode(file);
  if (literals.length > 0 && mode !== undefined && readableByOthers(mode)) {
    checks.push({
      name: "config secrets",
      status: "warn",
      detail: `${literals.join(", ")} written literally in a file other users can read (mode ${(mode & 0o777).toString(8)})`,
      fix: `chmod 600 ${file}, or better, use { env: "NAME" }`,
    });
  }
  return { checks, config };
}

function probeListen(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

async function checkPort(env: NodeJS.ProcessEnv, config: ResolvedConfig | undefined): Promise<Check> {
  let envPort: number | undefined;
  try {
    envPort = portFromEnv(env);
  } catch (error) {
    return { name: "port", status: "fail", detail: (error as Error).message, fix: "unset LLM_RELAY_PORT or set it to a port number" };
  }
  const host = config?.host ?? DEFAULT_HOST;
  const port = envPort ?? config?.port ?? DEFAULT_PORT;
  const from = envPort !== undefined ? " (LLM_RELAY_PORT)" : "";
  if (port === 0) return { name: "port", status: "ok", detail: `0${from}: start picks a free port` };
  const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const error = await probeListen(host, port);
  if (error === undefined) return { name: "port", status: "ok", detail: `${address}${from} is free` };
  if (error.code === "EADDRINUSE") {
    const other = await probeRelay(host, port);
    if (other !== undefined) {
      return { name: "port", status: "warn", detail: `${address}${from}: another llm-relay (version ${other.version}) is already listening there`, fix: "use it, stop it, or start another on a different port: llm-relay start -p <port>" };
    }
    return { name: "port", status: "fail", detail: `${address}${from} is in use by another program`, fix: "stop that program, or pick another port: llm-relay start -p <port> (or LLM_RELAY_PORT)" };
  }
  if (error.code === "EACCES") return { name: "port", status: "fail", detail: `cannot listen on ${address}${from}: permission denied`, fix: "ports below 1024 need privileges; use a higher port" };
  return { name: "port", status: "fail", detail: `cannot listen on ${address}${from}: ${error.code ?? error.message}`, fix: "check the host and port in your config" };
}

/** Lookups that outlived their timeout: getaddrinfo cannot be cancelled and keeps the process alive. */
let lookupsPending = 0;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`${what} timed out after ${ms / 1000} s`), { code: "TIMEOUT" })), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function resolveHost(hostname: string): Promise<string> {
  if (net.isIP(hostname)) return hostname;
  lookupsPending++;
  const pending = lookup(hostname).finally(() => lookupsPending--);
  pending.catch(() => {});
  return (await withTimeout(pending, REACH_TIMEOUT_MS, "DNS lookup")).address;
}

/** TCP connect, then for https a TLS handshake with the origin's name (certificate checked); no byte of HTTP. */
function connect(url: URL, address: string): Promise<string> {
  const port = url.port === "" ? (url.protocol === "https:" ? 443 : 80) : Number(url.port);
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket =
      url.protocol === "https:"
        ? tls.connect({ host: address, port, servername: net.isIP(hostname) ? undefined : hostname, ALPNProtocols: ["http/1.1"] })
        : net.connect({ host: address, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(Object.assign(new Error(`no ${url.protocol === "https:" ? "TLS handshake" : "connection"} within ${REACH_TIMEOUT_MS / 1000} s`), { code: "TIMEOUT" }));
    }, REACH_TIMEOUT_MS);
    socket.once(url.protocol === "https:" ? "secureConnect" : "connect", () => {
      clearTimeout(timer);
      const ms = Math.round(performance.now() - started);
      const protocol = socket instanceof tls.TLSSocket ? ` ${socket.getProtocol() ?? "TLS"}` : "";
      socket.destroy();
      resolve(`${protocol.trim() || "TCP"} ok in ${ms} ms`);
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(error);
    });
  });
}

async function checkReach(origin: string, providers: string[], env: NodeJS.ProcessEnv): Promise<Check> {
  const name = `reach ${providers.join(", ")}`;
  const url = new URL(origin);
  const hostname = url.hostname.replace(/^\[|\]$/g, "");
  const proxied = url.protocol === "https:" ? present(env, "HTTPS_PROXY") ?? present(env, "https_proxy") : present(env, "HTTP_PROXY") ?? present(env, "http_proxy");
  const proxyNote = proxied !== undefined && !isLoopbackHost(hostname) ? " (tested directly; the relay itself connects through your proxy)" : "";
  let address: string;
  try {
    address = await resolveHost(hostname);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    return { name, status: "warn", detail: `${origin}: cannot resolve ${hostname} (${code})${proxyNote}`, fix: "check your network and DNS; requests to it will fail with 502 until it resolves" };
  }
  try {
    return { name, status: "ok", detail: `${origin}: ${address}, ${await connect(url, address)}${proxyNote}` };
  } catch (error) {
    const err = error as NodeJS.ErrnoException;
    return { name, status: "warn", detail: `${origin}: ${address}, ${err.code === "TIMEOUT" ? err.message : err.code === "ECONNREFUSED" ? "connection refused (nothing listening?)" : `failed (${err.code ?? err.message})`}${proxyNote}`, fix: "check your network, firewall or the provider's baseUrl; requests to it will fail with 502/504" };
  }
}

// --- output ------------------------------------------------------------------------------------

function statusColor(chalk: ChalkInstance, status: CheckStatus): (text: string) => string {
  return status === "ok" ? chalk.green : status === "warn" ? chalk.yellow : chalk.red;
}

/** `ok    name          detail` with the fix on the next line; multi-line details stay indented. */
export function formatChecks(checks: readonly Check[], chalk: ChalkInstance): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  const indent = " ".repeat(6 + width + 2);
  const lines = checks.map((c) => {
    const detail = c.detail.split("\n").map((l, i) => (i === 0 ? l : `${indent}${l.trimStart()}`)).join("\n");
    const head = `${statusColor(chalk, c.status)(c.status.padEnd(4))}  ${c.name.padEnd(width)}  ${detail}`;
    return c.fix && c.status !== "ok" ? `${head}\n${indent}${chalk.dim(`fix: ${c.fix}`)}` : head;
  });
  const count = (s: CheckStatus) => checks.filter((c) => c.status === s).length;
  const fails = count("fail");
  const warns = count("warn");
  lines.push("", `${fails} failed, ${warns} warning${warns === 1 ? "" : "s"}, ${count("ok")} ok`);
  return lines.join("\n");
}

export interface DoctorFlags {
  config?: string;
}

export async function runDoctor(flags: DoctorFlags = {}): Promise<number> {
  const env = process.env;
  for (const v of [...CREDENTIAL_VARS.map((c) => c.name), "LLM_RELAY_TOKEN"]) {
    const value = present(env, v);
    if (value !== undefined) knownSecrets.add(value);
  }
  const { checks: configChecks, config } = await checkConfig(env, flags.config);
  let relayPort: number;
  try {
    relayPort = portFromEnv(env) ?? config?.port ?? DEFAULT_PORT;
  } catch {
    relayPort = config?.port ?? DEFAULT_PORT;
  }

  const byOrigin = new Map<string, string[]>();
  for (const p of config?.providers.values() ?? []) byOrigin.set(p.origin, [...(byOrigin.get(p.origin) ?? []), p.name]);
  const [portCheck, ...reachChecks] = await Promise.all([
    checkPort(env, config),
    ...[...byOrigin].map(([origin, names]) => checkReach(origin, names, env)),
  ]);
  const checks = [...configChecks, portCheck!, ...checkEnvironment(env, relayPort), ...reachChecks];

  const code = checks.some((c) => c.status === "fail") ? 1 : 0;
  const output = `${formatChecks(checks, chalkFor(process.stdout))}\n`;
  if (lookupsPending === 0) {
    process.stdout.write(output);
    return code;
  }
  // A DNS lookup that timed out may take the resolver's full retry time to return, keeping the
  // process alive for no reason: everything is printed, so exit once the output is flushed.
  return new Promise<number>(() => process.stdout.write(output, () => process.exit(code)));
}
