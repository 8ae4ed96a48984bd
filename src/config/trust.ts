/**
 * Project config trust (DESIGN §8), like `direnv allow` / `mise trust`: a config file found by
 * searching the project tree may have come with a cloned repository, so before it may send
 * credentials anywhere but the official provider origins or loopback, the user approves that
 * exact file. Approval pins the file's SHA-256; any edit needs approval again.
 *
 * The decisions (`untrustedOrigins`, `needsApproval`, `isTrusted`, `literalSecretPaths`) are pure;
 * the store and file reads at the bottom are the thin I/O shell.
 */
import { createHash } from "node:crypto";
import { chmod, mkdir, readFile, rename, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { isLoopbackHost } from "../relay/guards.js";
import { OFFICIAL_ORIGINS } from "./defaults.js";
import type { ResolvedConfig } from "./resolve.js";

/** A project config refused until the user approves it; the message says how. */
export class TrustError extends Error {
  readonly code = "LLM_RELAY_UNTRUSTED_CONFIG";
  constructor(message: string) {
    super(message);
    this.name = "TrustError";
  }
}

/** An origin outside the official ones and loopback, and what would reach it. */
export interface UntrustedOrigin {
  origin: string;
  /** Providers with this origin. */
  providers: string[];
  /** `apiKey` when a configured key is injected; `client credentials` when client tokens may pass. */
  carries: Array<"apiKey" | "client credentials">;
}

function isLoopbackOrigin(origin: string): boolean {
  return isLoopbackHost(new URL(origin).hostname);
}

/**
 * Origins that would receive credentials without being official or loopback. A provider with an
 * `apiKey` receives that key; one without receives the client's own credentials (§5 forwards
 * unrecognised tokens to the routed provider), and every provider is reachable through its
 * `/<name>/…` path prefix, so every provider counts, whether or not a route names it.
 */
export function untrustedOrigins(config: Pick<ResolvedConfig, "providers">): UntrustedOrigin[] {
  const byOrigin = new Map<string, UntrustedOrigin>();
  for (const provider of config.providers.values()) {
    if (OFFICIAL_ORIGINS.has(provider.origin) || isLoopbackOrigin(provider.origin)) continue;
    const entry = byOrigin.get(provider.origin) ?? { origin: provider.origin, providers: [], carries: [] };
    entry.providers.push(provider.name);
    const carries = provider.apiKey ? "apiKey" : "client credentials";
    if (!entry.carries.includes(carries)) entry.carries.push(carries);
    byOrigin.set(provider.origin, entry);
  }
  return [...byOrigin.values()];
}

/** A listen address beyond loopback set by the config itself (it would expose the relay). */
export function exposedHost(config: Pick<ResolvedConfig, "host">): string | undefined {
  return isLoopbackHost(config.host.replace(/^\[|\]$/g, "")) ? undefined : config.host;
}

/** Only configs found by searching the project tree need approval; the user chose the others. */
export function needsApproval(config: Pick<ResolvedConfig, "source" | "providers" | "host">): boolean {
  if (config.source.via !== "search" || config.source.file === undefined) return false;
  return untrustedOrigins(config).length > 0 || exposedHost(config) !== undefined;
}

/** What `trusted.json` holds: approved files by absolute path, each pinned to a SHA-256. */
export interface TrustStore {
  version: 1;
  files: Record<string, { sha256: string; approvedAt: string }>;
}

export const EMPTY_STORE: TrustStore = { version: 1, files: {} };

/** Approval is for exact content: any hash recorded for any path (a moved file stays approved). */
export function isTrusted(sha256: string, store: TrustStore): boolean {
  return Object.values(store.files).some((entry) => entry.sha256 === sha256);
}

/** The store with `file` approved at `sha256` (replacing an older approval of that path). */
export function withApproval(store: TrustStore, file: string, sha256: string, now: Date): TrustStore {
  return { version: 1, files: { ...store.files, [file]: { sha256, approvedAt: now.toISOString() } } };
}

/** Key paths of secrets written literally in the config (not `{ env }`), e.g. `providers.x.apiKey`. */
export function literalSecretPaths(config: Pick<ResolvedConfig, "providers" | "token">): string[] {
  const paths: string[] = [];
  for (const provider of config.providers.values()) {
    if (provider.apiKey?.origin.startsWith("literal")) paths.push(`providers.${provider.name}.apiKey`);
  }
  if (config.token?.origin.startsWith("literal")) paths.push("token");
  return paths;
}

/** POSIX mode bits: readable by the file's group or by everyone. */
export function readableByOthers(mode: number): boolean {
  return (mode & 0o044) !== 0;
}

/** The message `start`/`exec` fail with; names what would leak where, and the way out. */
export function untrustedMessage(file: string, origins: UntrustedOrigin[], host: string | undefined): string {
  const lines = [`refusing to use ${file}: this config was found in the project tree and is not trusted.`];
  if (origins.length > 0) {
    lines.push("  It would send credentials to:");
    for (const o of origins) lines.push(`    ${o.origin}  (${o.carries.join(", ")}; provider ${o.providers.join(", ")})`);
  }
  if (host !== undefined) lines.push(`  It would listen on ${host}, reachable from other machines.`);
  lines.push(
    "  If you wrote it or have read it, approve this exact file (any later edit needs approval again):",
    `    llm-relay trust ${quoteArg(file)}`,
  );
  return lines.join("\n");
}

/** Config files cosmiconfig loads by running them (import or the TypeScript loader). */
export function isExecutableConfig(file: string): boolean {
  return /\.(?:[cm]?js|[cm]?ts)$/.test(file);
}

/** For a project config that is code: it would run before any check, so approval comes first. */
export function untrustedCodeMessage(file: string): string {
  return [
    `refusing to load ${file}: this config was found in the project tree and is code (${path.extname(file)}),`,
    "  which runs as soon as it is loaded, so it must be approved first. Read it, then approve this exact file",
    "  (any later edit needs approval again; files it imports are not covered):",
    `    llm-relay trust ${quoteArg(file)}`,
  ].join("\n");
}

function quoteArg(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

// --- I/O shell ---------------------------------------------------------------------------------

/** `$XDG_STATE_HOME/llm-relay/trusted.json`, else `~/.local/state/llm-relay/trusted.json`. */
export function trustStorePath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME || path.join(env.HOME || homedir(), ".local", "state");
  return path.join(base, "llm-relay", "trusted.json");
}

export async function hashFile(file: string): Promise<string> {
  return createHash("sha256").update(await readFile(file)).digest("hex");
}

/** A missing or unreadable store approves nothing (fail closed). */
export async function readTrustStore(env: NodeJS.ProcessEnv = process.env): Promise<TrustStore> {
  let text: string;
  try {
    text = await readFile(trustStorePath(env), "utf8");
  } catch {
    return EMPTY_STORE;
  }
  try {
    const parsed = JSON.parse(text) as Partial<TrustStore>;
    if (parsed && typeof parsed.files === "object" && parsed.files !== null) {
      const files: TrustStore["files"] = {};
      for (const [file, entry] of Object.entries(parsed.files)) {
        if (typeof entry?.sha256 === "string") files[file] = { sha256: entry.sha256, approvedAt: String(entry.approvedAt ?? "") };
      }
      return { version: 1, files };
    }
  } catch {
    // fall through: a corrupt store approves nothing; `trust` rewrites it.
  }
  return EMPTY_STORE;
}

/** Record approval of `file` as it is now; returns its hash. Written atomically, mode 0600. */
export async function approveFile(file: string, env: NodeJS.ProcessEnv = process.env, now = new Date()): Promise<string> {
  const sha256 = await hashFile(file);
  const storeFile = trustStorePath(env);
  const next = withApproval(await readTrustStore(env), file, sha256, now);
  await mkdir(path.dirname(storeFile), { recursive: true, mode: 0o700 });
  const temp = `${storeFile}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, storeFile);
  return sha256;
}

/** Whether the file, as it is now, has been approved. */
export async function fileIsTrusted(file: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return isTrusted(await hashFile(file), await readTrustStore(env));
}

/** The file's mode bits, or undefined when it cannot be stat'ed (e.g. package.json gone). */
export async function fileMode(file: string): Promise<number | undefined> {
  try {
    return (await stat(file)).mode;
  } catch {
    return undefined;
  }
}

/**
 * §8: a project config that would send credentials off the official origins (or listen beyond
 * loopback) is refused until `llm-relay trust` approves that exact file. Throws TrustError.
 */
export async function assertConfigTrusted(
  config: Pick<ResolvedConfig, "source" | "providers" | "host">,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const file = config.source.file;
  if (file === undefined || !needsApproval(config) || (await fileIsTrusted(file, env))) return;
  throw new TrustError(untrustedMessage(file, untrustedOrigins(config), exposedHost(config)));
}
