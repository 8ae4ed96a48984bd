/**
 * `llm-relay start`: run the relay in the foreground, one line per request, a summary on exit.
 */
import { constants, networkInterfaces } from "node:os";
import { chalkFor } from "../log/color.js";
import { openLogFile, type LogFile } from "../log/log-file.js";
import type { RequestRecord } from "../log/record.js";
import { oauthWithheldHint } from "../log/format.js";
import { batchedSink } from "../log/reporter.js";
import { wantsStatusLine } from "../log/status-line.js";
import { knownSecrets as compileSecrets } from "../policy/redact.js";
import { Summary } from "../log/summary.js";
import { RequestPricer } from "../pricing/request-cost.js";
import { createInspector, inspectorToken, type Inspector } from "../inspect/index.js";
import { isWildcardHost } from "../relay/guards.js";
import { startRelay } from "../relay/server.js";
import { knownSecrets } from "./errors.js";
import { clientUrls, formatBanner } from "./banner.js";
import { explainListenError, resolveSettings, terminalReporter, type RelayFlags } from "./settings.js";

/**
 * What SIGHUP means to `start`. On a terminal (stdin or stderr is a TTY) it is the terminal going
 * away: stop as on SIGTERM, or the relay is orphaned. Without one (nohup, a service manager,
 * output sent to a file) it is logrotate's "reopen the log" (nginx, syslog), when there is a log
 * file; with none, there is nothing to reopen, and SIGHUP stops as it classically does. Pure.
 */
export function sighupMeaning({ terminal, logFile }: { terminal: boolean; logFile: boolean }): "stop" | "reopen" {
  return !terminal && logFile ? "reopen" : "stop";
}

/** This machine's addresses other machines may reach it at (IPv4 first; no link-local IPv6). */
function externalAddresses(): string[] {
  const all = Object.values(networkInterfaces()).flatMap((entries) => entries ?? []);
  const usable = all.filter((e) => !e.internal && !e.address.includes("%") && !e.address.toLowerCase().startsWith("fe80:"));
  return [...usable.filter((e) => e.family === "IPv4"), ...usable.filter((e) => e.family !== "IPv4")].map((e) => e.address);
}

export async function runStart(flags: RelayFlags): Promise<number> {
  const settings = await resolveSettings(flags);
  // The terminal or the pipe we print to may go away (closed terminal: EIO; `| head`: EPIPE).
  // That is a reason to stop cleanly, not to crash, and nothing more is printed there.
  let outputGone = false;
  // The inspector's secret (§11): printed once, in the banner's page URL, and nowhere else.
  let inspector: Inspector | undefined;
  let pageToken: string | undefined;
  let relayUrl = "";
  if (settings.config.inspect.enabled) {
    pageToken = inspectorToken();
    knownSecrets.add(pageToken);
    inspector = createInspector({ config: settings.config, relayToken: settings.token, inspectorToken: pageToken, relayUrl: () => relayUrl });
  }
  // On a terminal, a status line below the request lines shows what is in flight (§9); request
  // lines and notes are written above it. Never with --json or output that is not a terminal.
  const statusLine = wantsStatusLine({ json: flags.json === true, stdoutTTY: process.stdout.isTTY === true, stderrTTY: process.stderr.isTTY === true, term: process.env.TERM })
    ? (await import("../log/live-status.js")).createStatusLine(process.stdout, chalkFor(process.stdout), compileSecrets(knownSecrets))
    : undefined;
  const stdout = batchedSink(statusLine ? statusLine.above(process.stdout) : process.stdout);
  const stderr = statusLine ? statusLine.above(process.stderr) : process.stderr;
  const say = (text: string) => {
    if (!outputGone) stderr.write(text);
  };
  const toTerminal = terminalReporter(flags, process.stdout, stdout);
  let logFile: LogFile | undefined;
  const summary = new Summary();
  const pricer = new RequestPricer((name) => settings.config.providers.get(name));
  // The first request whose OAuth token was withheld says once which setting would allow it.
  let oauthHinted = false;
  const errChalk = chalkFor(process.stderr);
  const onRecord = (record: RequestRecord) => {
    statusLine?.end(record);
    summary.add(record);
    pricer.price(record, (cost) => summary.addCost(record.provider, cost));
    toTerminal(record);
    logFile?.write(record);
    if (!oauthHinted) {
      const hint = oauthWithheldHint(record, errChalk);
      if (hint !== undefined) {
        oauthHinted = true;
        // After the request line it explains (that line is batched to the end of this turn).
        setImmediate(() => say(`${hint}\n`));
      }
    }
  };

  const relay = await startRelay({
    config: settings.config,
    host: settings.host,
    port: settings.port,
    token: settings.token,
    onRecord,
    onRequestStart: statusLine?.start,
    observer: inspector?.observer,
    reservedPaths: inspector?.reservedPaths,
    secrets: pageToken === undefined ? [] : [pageToken],
  }).catch((error: unknown) => explainListenError(error, settings.host, settings.port));
  relayUrl = relay.url;
  // After listening: a taken port must not leave an empty log file behind.
  if (flags.logFile !== undefined) {
    try {
      logFile = await openLogFile(flags.logFile, { verbose: flags.verbose === true });
    } catch (error) {
      await relay.close({ graceMs: 0 });
      throw error;
    }
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const onOutputError = () => {
      outputGone = true;
      if (!stopping) stop("SIGHUP");
    };
    process.stdout.on("error", onOutputError);
    process.stderr.on("error", onOutputError);
    const stop = (signal: NodeJS.Signals) => {
      statusLine?.stop();
      if (stopping) {
        say(`llm-relay: ${signal} again, exiting now\n`);
        if (!outputGone) stdout.flush();
        process.exit(128 + (constants.signals[signal] ?? 15));
      }
      stopping = true;
      const waiting = relay.inFlight;
      say(
        `\nllm-relay: ${signal}: stopping` +
          (waiting > 0 ? `, waiting up to ${settings.config.timeouts.shutdownMs} ms for ${waiting} request(s); ${signal} again to exit now` : "") +
          "\n",
      );
      inspector?.close();
      void relay.close().then(async () => {
        if (!outputGone) stdout.flush();
        await logFile?.close();
        await pricer.settled();
        say(`llm-relay: stopped; requests this session:\n${summary.table()}\n`);
        resolve(0);
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
    const openLog = logFile;
    const terminal = process.stdin.isTTY === true || process.stderr.isTTY === true;
    if (openLog && sighupMeaning({ terminal, logFile: true }) === "reopen") process.on("SIGHUP", () => openLog.reopen());
    else process.on("SIGHUP", stop);
    // Only now: a supervisor that sees the banner may signal at once, and must get a clean stop.
    const err = chalkFor(process.stderr);
    const inspectUrl = pageToken === undefined ? undefined : `${clientUrls(relay.url).local}/_relay/?token=${pageToken}`;
    const machineAddresses = isWildcardHost(relay.host) ? externalAddresses() : [];
    say(`${formatBanner({ config: settings.config, url: relay.url, tokenSource: settings.tokenSource, inspectUrl, machineAddresses, chalk: err })}\n`);
  });
}
