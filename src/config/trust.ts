/**
 * Project config trust (DESIGN §8), like `direnv allow` / `mise trust`: a config file found by
 * searching the project tree may have come with a cloned repository, so before it may send
 * credentials anywhere but the official provider origins or loopback, the user approves that
 * exact file. Approval pins the file's real path and SHA-256: any edit, or the same bytes at another
 * path, needs approval again.
 *
 * The decisions (`untrustedOrigins`, `needsApproval`, `isTrusted`, `literalSecretPaths`) are pure;
 * the store and file reads at the bottom are the thin I/O shell.
 */
import { createHash } from "node:crypto";
import { chmod, mkdir, readFile, realpath, rename, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { isLoopbackHost, isLoopbackUrl } from "../net/loopback.js";
import { OFFICIAL_ANTHROPIC_ORIGIN, OFFICIAL_ORIGINS, VENDOR_ORIGINS } from "./defaults.js";
import type { ResolvedConfig, ResolvedProvider } from "./resolve.js";

/** A project config refused until the user approves it; the message says how. */
export class TrustError extends Error {
  readonly code = "LLM_RELAY_UNTRUSTED_CONFIG";
  constructor(message: string) {
    super(message);
    this.name = "TrustError";
  }
}

/** An origin that would receive credentials only the user may allow, and what would reach it. */
export interface UntrustedOrigin {
  origin: string;
  /** Providers with this origin. */
  providers: string[];
  /** What would reach it: `apiKey`, `unrecognised client tokens`, `your vendor API keys via clientKeys: "forward"`, … (one per rule that applies). */
  carries: string[];
  /** Why those need approval, for the refusal message (rules that need saying). */
  why: string[];
}

/**
 * What an approval lets through, named for the person approving it: the credential, and the
 * setting that sends it when there is one. Each rule names its own, so a provider that needs
 * two approvals (its origin, and `clientKeys: "forward"`) says what each one lets out.
 */
const APPROVED = {
  apiKey: "apiKey",
  /** §5: with no apiKey, a token the policy does not recognise goes to the routed provider. */
  clientTokens: "unrecognised client tokens",
  oauth: 'your Claude OAuth token via oauth: "forward"',
  clientKeys: 'your vendor API keys via clientKeys: "forward"',
} as const;

interface ApprovalRule {
  /** Whether this provider, as resolved, needs the user's approval under this rule. */
  applies: (provider: ResolvedProvider) => boolean;
  /** What it would carry to its origin. */
  carries: (provider: ResolvedProvider) => string;
  why?: string;
}

/**
 * §8, one rule per line. Off the official origins and loopback, whatever credential a provider
 * receives (its `apiKey`, or the client's own: §5 forwards unrecognised tokens, and every provider
 * is reachable through its `/<name>/…` prefix) goes somewhere the user has not vouched for.
 * `oauth: "forward"` hands the subscription token to any origin but Anthropic's own, loopback and
 * other vendors' official origins included.
 */
const APPROVAL_RULES: readonly ApprovalRule[] = [
  { applies: (p) => !OFFICIAL_ORIGINS.has(p.origin) && !isLoopbackUrl(p.origin), carries: (p) => (p.apiKey ? APPROVED.apiKey : APPROVED.clientTokens) },
  {
    applies: (p) => p.oauth === "forward" && p.origin !== OFFICIAL_ANTHROPIC_ORIGIN,
    carries: () => APPROVED.oauth,
    why: `oauth: "forward" sends your Claude subscription (OAuth) token there; without approval only ${OFFICIAL_ANTHROPIC_ORIGIN} receives it.`,
  },
  {
    applies: (p) => p.clientKeys === "forward" && !VENDOR_ORIGINS.has(p.origin),
    carries: () => APPROVED.clientKeys,
    why: 'clientKeys: "forward" sends your vendor API keys there; without approval each key reaches only its own vendor\'s official origin.',
  },
];

/** Origins whose providers need approval under any rule of §8, with what each would receive. Pure. */
export function untrustedOrigins(config: Pick<ResolvedConfig, "providers">): UntrustedOrigin[] {
  const byOrigin = new Map<string, UntrustedOrigin>();
  for (const provider of config.providers.values()) {
    const rules = APPROVAL_RULES.filter((rule) => rule.applies(provider));
    if (rules.length === 0) continue;
    const entry = byOrigin.get(provider.origin) ?? { origin: provider.origin, providers: [], carries: [], why: [] };
    entry.providers.push(provider.name);
    for (const rule of rules) {
      const carries = rule.carries(provider);
      if (!entry.carries.includes(carries)) entry.carries.push(carries);
      if (rule.why !== undefined && !entry.why.includes(rule.why)) entry.why.push(rule.why);
    }
    byOrigin.set(provider.origin, entry);
  }
  return [...byOrigin.values()];
}

/** A listen address beyond loopback set by the config itself (it would expose the relay). */
export function exposedHost(config: Pick<ResolvedConfig, "host">): string | undefined {
  return isLoopbackHost(config.host) ? undefined : config.host;
}

/** Only configs found by searching the project tree need approval; the user chose the others. */
export function needsApproval(config: Pick<ResolvedConfig, "source" | "providers" | "host">): boolean {
  if (config.source.via !== "search" || config.source.file === undefined) return false;
  return untrustedOrigins(config).length > 0 || exposedHost(config) !== undefined;
}

/** One approval: a file's real path (symlinks resolved) and the SHA-256 of its bytes then. */
export interface TrustEntry {
  path: string;
  sha256: string;
  approvedAt: string;
}

/**
 * What `trusted.json` holds (version 2): approvals bound to path **and** content, so the same
 * bytes in another folder (a second clone, a copied repository) are not approved. `stale` keeps
 * version-1 entries, which were honoured by hash alone: they approve nothing, `--list` shows them
 * and `--revoke` drops them.
 */
export interface TrustStore {
  version: 2;
  files: TrustEntry[];
  stale: TrustEntry[];
}

export const EMPTY_STORE: TrustStore = { version: 2, files: [], stale: [] };

/** Approved only when this exact path was approved with these exact bytes. `realPath` must be resolved (fs.realpath). */
export function isTrusted(realPath: string, sha256: string, store: TrustStore): boolean {
  return store.files.some((entry) => entry.path === realPath && entry.sha256 === sha256);
}

/** The store with `realPath` approved at `sha256`, replacing any older approval (or stale entry) of that path. */
export function withApproval(store: TrustStore, realPath: string, sha256: string, now: Date): TrustStore {
  return {
    version: 2,
    files: [...store.files.filter((e) => e.path !== realPath), { path: realPath, sha256, approvedAt: now.toISOString() }],
    stale: store.stale.filter((e) => e.path !== realPath),
  };
}

/** The store without any approval of these paths (a path may be given as typed and as resolved); undefined when none matched. */
export function withoutApproval(store: TrustStore, paths: readonly string[]): TrustStore | undefined {
  const keep = (e: TrustEntry) => !paths.includes(e.path);
  const next: TrustStore = { version: 2, files: store.files.filter(keep), stale: store.stale.filter(keep) };
  return next.files.length + next.stale.length === store.files.length + store.stale.length ? undefined : next;
}

/** How an approval compares with the file on disk now, for `trust --list`. */
export type ApprovalState = "ok" | "changed" | "missing" | "stale-v1-entry";

export function approvalState(entry: TrustEntry, stale: boolean, currentSha256: string | undefined): ApprovalState {
  if (stale) return "stale-v1-entry";
  if (currentSha256 === undefined) return "missing";
  return currentSha256 === entry.sha256 ? "ok" : "changed";
}

/** Parse `trusted.json`; anything unrecognised approves nothing (fail closed). Version-1 maps become stale entries. */
export function parseTrustStore(text: string): TrustStore {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return EMPTY_STORE;
  }
  const entry = (value: unknown, pathFallback?: string): TrustEntry | undefined => {
    const e = value as Partial<TrustEntry> | null;
    const p = typeof e?.path === "string" ? e.path : pathFallback;
    if (typeof e?.sha256 !== "string" || p === undefined) return undefined;
    return { path: p, sha256: e.sha256, approvedAt: String(e.approvedAt ?? "") };
  };
  const store = parsed as { version?: unknown; files?: unknown; stale?: unknown } | null;
  if (store === null || typeof store !== "object") return EMPTY_STORE;
  const list = (value: unknown) => (Array.isArray(value) ? value.map((v) => entry(v)).filter((e): e is TrustEntry => e !== undefined) : []);
  if (store.version === 2) return { version: 2, files: list(store.files), stale: list(store.stale) };
  // Version 1: `{ files: { [path]: { sha256, approvedAt } } }`, honoured by hash alone. Never again.
  if (store.files !== null && typeof store.files === "object" && !Array.isArray(store.files)) {
    const stale = Object.entries(store.files).map(([p, v]) => entry(v, p)).filter((e): e is TrustEntry => e !== undefined);
    return { version: 2, files: [], stale };
  }
  return EMPTY_STORE;
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
    for (const why of new Set(origins.flatMap((o) => o.why))) lines.push(`  ${why}`);
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
  try {
    return parseTrustStore(await readFile(trustStorePath(env), "utf8"));
  } catch {
    return EMPTY_STORE;
  }
}

/** Written atomically, mode 0600, in a 0700 folder. */
async function writeTrustStore(store: TrustStore, env: NodeJS.ProcessEnv): Promise<void> {
  const storeFile = trustStorePath(env);
  await mkdir(path.dirname(storeFile), { recursive: true, mode: 0o700 });
  const temp = `${storeFile}.${process.pid}.tmp`;
  const { version, files, stale } = store;
  await writeFile(temp, `${JSON.stringify(stale.length > 0 ? { version, files, stale } : { version, files }, null, 2)}\n`, { mode: 0o600 });
  await chmod(temp, 0o600);
  await rename(temp, storeFile);
}

/** Record approval of `file` (by its real path) as it is now; returns the real path and hash. */
export async function approveFile(
  file: string,
  env: NodeJS.ProcessEnv = process.env,
  now = new Date(),
): Promise<{ path: string; sha256: string }> {
  const real = await realpath(file);
  const sha256 = await hashFile(real);
  await writeTrustStore(withApproval(await readTrustStore(env), real, sha256, now), env);
  return { path: real, sha256 };
}

/** Drop the approval of `file` (as typed, or resolved like approval); undefined when it had none. */
export async function revokeFile(file: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const absolute = path.resolve(file);
  const real = await realpath(absolute).catch(() => absolute);
  const next = withoutApproval(await readTrustStore(env), [real, absolute]);
  if (next === undefined) return undefined;
  await writeTrustStore(next, env);
  return real;
}

/** Every approval with how the file compares now, for `trust --list`. */
export async function listApprovals(env: NodeJS.ProcessEnv = process.env): Promise<Array<TrustEntry & { state: ApprovalState }>> {
  const store = await readTrustStore(env);
  const current = async (file: string) => hashFile(file).catch(() => undefined);
  return Promise.all([
    ...store.files.map(async (e) => ({ ...e, state: approvalState(e, false, await current(e.path)) })),
    ...store.stale.map(async (e) => ({ ...e, state: approvalState(e, true, undefined) })),
  ]);
}

/** Whether the file, at its real path and as it is now, has been approved. */
export async function fileIsTrusted(file: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  let real: string;
  try {
    real = await realpath(file);
  } catch {
    return false;
  }
  return isTrusted(real, await hashFile(real), await readTrustStore(env));
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
