/**
 * `llm-relay trust [FILE] | --list | --revoke FILE` (DESIGN §2, §8): approve a project config that
 * sends credentials beyond the official origins, bound to the file's real path and current SHA-256
 * (like `direnv allow`); list approvals with how each file compares now; drop one. Without FILE,
 * the config `start` would find from the current folder is approved.
 */
import { access } from "node:fs/promises";
import path from "node:path";
import { findConfigFile, loadConfigFile } from "../config/load.js";
import { ConfigError, resolveConfig } from "../config/resolve.js";
import {
  approveFile,
  exposedHost,
  isExecutableConfig,
  listApprovals,
  revokeFile,
  trustStorePath,
  untrustedOrigins,
} from "../config/trust.js";
import { CliError } from "./errors.js";

async function projectConfigFile(cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  // Search as `start` would, but ignore LLM_RELAY_CONFIG: a config named there is trusted already.
  const { LLM_RELAY_CONFIG: _ignored, ...searchEnv } = env;
  // Found without running it: approving a config that is code must not execute it first.
  const source = await findConfigFile({ cwd, env: searchEnv });
  if (source.via === "search" && source.file) return source.file;
  if (source.via === "user") throw new CliError(`the config found is in your user config folder (${source.file}), which is trusted already`);
  throw new CliError(`no project config found in ${cwd} or its parents; name the file: llm-relay trust FILE`);
}

/** What the approved file would do, for the confirmation; nothing for code (it is not run here). */
async function describeConfig(file: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  if (isExecutableConfig(file)) return [];
  const { raw } = await loadConfigFile({ configFile: file, env });
  try {
    const config = resolveConfig(raw, { source: { file, via: "search" }, env });
    const lines = untrustedOrigins(config).map((o) => `  credentials may go to ${o.origin} (${o.carries.join(", ")})`);
    const host = exposedHost(config);
    if (host !== undefined) lines.push(`  listens on ${host}`);
    return lines;
  } catch (error) {
    // A `{ env }` secret unset here is no reason to refuse approval; other problems are.
    if (error instanceof ConfigError && /environment variable .* is not set/.test(error.message)) return [];
    throw error;
  }
}

export interface TrustFlags {
  list?: boolean;
  revoke?: string;
}

export async function runTrust(file: string | undefined, flags: TrustFlags = {}): Promise<number> {
  const chosen = [file !== undefined, flags.list === true, flags.revoke !== undefined].filter(Boolean).length;
  if (chosen > 1) throw new CliError("choose one: llm-relay trust [FILE], llm-relay trust --list, or llm-relay trust --revoke FILE");
  if (flags.list) return listTrust();
  if (flags.revoke !== undefined) return revokeTrust(flags.revoke);
  return approve(file);
}

const STATE_NOTE = {
  ok: "",
  changed: "  (edited since: not approved until trusted again)",
  missing: "  (file gone)",
  "stale-v1-entry": "  (approved by hash alone by an older llm-relay: not honoured; trust it again)",
} as const;

async function listTrust(): Promise<number> {
  const env = process.env;
  const approvals = await listApprovals(env);
  if (approvals.length === 0) {
    process.stdout.write(`llm-relay: no approved configs (${trustStorePath(env)})\n`);
    return 0;
  }
  const width = Math.max(...approvals.map((a) => a.state.length));
  const lines = approvals.map(
    (a) => `  ${a.state.padEnd(width)}  ${a.sha256.slice(0, 12)}  ${a.approvedAt.slice(0, 19).replace("T", " ") || "?"}  ${a.path}${STATE_NOTE[a.state]}`,
  );
  process.stdout.write([`llm-relay: approved configs (${trustStorePath(env)})`, ...lines].join("\n") + "\n");
  return 0;
}

async function revokeTrust(file: string): Promise<number> {
  const env = process.env;
  const revoked = await revokeFile(path.resolve(process.cwd(), file), env);
  if (revoked === undefined) {
    throw new CliError(`${path.resolve(process.cwd(), file)} is not approved, so there is nothing to revoke (llm-relay trust --list shows approvals)`);
  }
  process.stdout.write(`llm-relay: revoked approval of ${revoked}\n`);
  return 0;
}

async function approve(file: string | undefined): Promise<number> {
  const env = process.env;
  const cwd = process.cwd();
  const target = file === undefined ? await projectConfigFile(cwd, env) : path.resolve(cwd, file);
  try {
    await access(target);
  } catch {
    throw new CliError(`config file not found: ${target}`);
  }
  // Validate before approving (JSON/YAML only): approving a file that cannot load helps no one.
  const described = await describeConfig(target, env);
  const { path: real, sha256 } = await approveFile(target, env);
  process.stdout.write(
    [
      `llm-relay: trusted ${real}`,
      `  sha256 ${sha256} (approved at this path only; any edit needs approval again)`,
      ...described,
      `  recorded in ${trustStorePath(env)}`,
    ].join("\n") + "\n",
  );
  return 0;
}
