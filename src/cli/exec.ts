/**
 * `llm-relay exec -- <command> [args…]` (DESIGN §7, §8): a private relay around one command.
 * The relay starts on loopback with a fresh session token, the command runs with its base URLs
 * pointed at it, and exec leaves when the command does, with the command's exit code.
 */
import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import { homedir } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { childEnvironment } from "../exec/child-env.js";
import { describeOutcome, exitCodeOf } from "../exec/exit-status.js";
import { runChild } from "../exec/run-child.js";
import { defaultLogPath, openSessionLog, sessionPath, type SessionLog } from "../exec/session-log.js";
import type { RequestRecord } from "../log/record.js";
import { Summary } from "../log/summary.js";
import { isLoopbackHost } from "../net/loopback.js";
import { redactToken } from "../policy/redact.js";
import { RequestPricer } from "../pricing/request-cost.js";
import { createInspector, type Inspector } from "../inspect/index.js";
import { startRelay, type RelayHandle } from "../relay/server.js";
import { CliError, knownSecrets } from "./errors.js";
import { explainListenError, resolveSettings, type RelayFlags } from "./settings.js";

/** 256 random bits (§8 asks for at least 128), URL-safe so it can sit in a path segment. */
function sessionToken(): string {
  return randomBytes(32).toString("base64url");
}

/**
 * The child reaches the relay by IP literal: `localhost` may resolve to ::1 while we listen on
 * 127.0.0.1 (Node ≥ 17 keeps the resolver's order), and a non-loopback address would expose a
 * relay that exists for one local command.
 */
function execHost(flagHost: string | undefined): string {
  const host = (flagHost ?? "127.0.0.1").replace(/^\[|\]$/g, "");
  if (isIP(host) === 0 || !isLoopbackHost(host)) {
    throw new CliError(`exec listens on a loopback address only (127.0.0.1 or ::1), not ${flagHost}: its relay serves one local command`);
  }
  return host;
}

/** The listener is up once `startRelay` resolves; this proves it also answers HTTP before the child relies on it. */
async function waitUntilHealthy(relay: RelayHandle, attempts = 50): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      const { statusCode, body } = await request(`${relay.url}/_relay/health`, { headersTimeout: 2000, bodyTimeout: 2000 });
      await body.dump();
      if (statusCode === 200) return;
    } catch {
      // not answering yet
    }
    if (attempt >= attempts) throw new CliError(`the relay on ${relay.url} did not answer its health check`);
    await sleep(100);
  }
}

export async function runExec(command: string, args: string[], flags: RelayFlags): Promise<number> {
  const host = execHost(flags.host);
  // Port 0 unless --port: LLM_RELAY_PORT and the config's port are for `start`, and two exec
  // sessions at once must not fight over one port.
  const settings = await resolveSettings(flags, { port: 0, command: "exec" });
  // Only an explicit --token replaces the fresh one (checked by resolveSettings); a token from
  // LLM_RELAY_TOKEN or the config belongs to the long-running `start` relay.
  const token = flags.token ?? sessionToken();
  knownSecrets.add(token);

  const summary = new Summary();
  const pricer = new RequestPricer((name) => settings.config.providers.get(name));
  let log: SessionLog | undefined;
  // The log shows the path the child asked for: its base URL's `/_t/<token>` is exec's own.
  const tokenPrefix = `/_t/${redactToken(token)}`;
  const shownPath = (path: string) => sessionPath(path, tokenPrefix);
  const onRecord = (record: RequestRecord) => {
    summary.add(record);
    pricer.price(record, (cost) => summary.addCost(record.provider, cost));
    log?.write({ ...record, path: shownPath(record.path) });
  };
  // The relay first, so a taken --port leaves no empty log file behind; requests come from the
  // child, which starts after the log is open.
  // exec's inspector is opened by its session token path, the secret it already has (§11).
  let relayUrl = "";
  const inspector: Inspector | undefined = settings.config.inspect.enabled
    ? createInspector({ config: settings.config, relayToken: token, relayUrl: () => relayUrl, showPath: shownPath })
    : undefined;
  const relay = await startRelay({
    config: settings.config,
    host,
    port: settings.port,
    token,
    onRecord,
    observer: inspector?.observer,
    reservedPaths: inspector?.reservedPaths,
  }).catch((error: unknown) => explainListenError(error, host, settings.port));
  relayUrl = relay.url;
  try {
    await waitUntilHealthy(relay);
    log = await openSessionLog(flags.logFile ?? defaultLogPath(process.env, homedir(), new Date(), process.pid), {
      json: flags.json === true,
      verbose: flags.verbose === true,
      allDecisions: flags.allDecisions === true,
    });
  } catch (error) {
    await relay.close({ graceMs: 0 });
    throw error;
  }

  const base = `${relay.url}/_t/${token}`;
  const { env, warnings } = childEnvironment(process.env, base, process.platform);
  for (const warning of warnings) process.stderr.write(`llm-relay: warning: ${warning}\n`);
  process.stderr.write(`llm-relay: relay on ${relay.url} for ${command}; log: ${log.where}\n`);
  // The URL holds the session token: shown to the person at the terminal, never to a pipe or a
  // CI log that outlives the session.
  if (inspector && process.stderr.isTTY) process.stderr.write(`llm-relay: inspector: ${base}/_relay/\n`);

  const outcome = await runChild(command, args, env);
  inspector?.close();
  await relay.close();
  await log.close();
  await pricer.settled();
  // No request, no file (it is created at the first one): nothing to point at.
  const logged = log.used || log.where === "stderr" ? `log: ${log.where}` : "no log file (no requests)";
  process.stderr.write(`llm-relay: ${describeOutcome(command, outcome)}; ${summary.line()}; ${logged}\n`);
  return exitCodeOf(outcome);
}
