/**
 * `llm-relay start`: run the relay in the foreground, one line per request, a summary on exit.
 */
import { constants } from "node:os";
import { chalkFor } from "../log/color.js";
import { openLogFile, type LogFile } from "../log/log-file.js";
import type { RequestRecord } from "../log/record.js";
import { batchedSink } from "../log/reporter.js";
import { Summary } from "../log/summary.js";
import { RequestPricer } from "../pricing/request-cost.js";
import { createInspector, inspectorToken, type Inspector } from "../inspect/index.js";
import { startRelay } from "../relay/server.js";
import { knownSecrets } from "./errors.js";
import { formatBanner } from "./banner.js";
import { resolveSettings, terminalReporter, type RelayFlags } from "./settings.js";

export async function runStart(flags: RelayFlags): Promise<number> {
  const settings = await resolveSettings(flags);
  const stdout = batchedSink(process.stdout);
  const toTerminal = terminalReporter(flags, process.stdout, stdout);
  let logFile: LogFile | undefined;
  const summary = new Summary();
  const pricer = new RequestPricer((name) => settings.config.providers.get(name));
  const onRecord = (record: RequestRecord) => {
    summary.add(record);
    pricer.price(record, (cost) => summary.addCost(record.provider, cost));
    toTerminal(record);
    logFile?.write(record);
  };

  // The inspector's secret (§11): printed once, in the banner's page URL, and nowhere else.
  let inspector: Inspector | undefined;
  let pageToken: string | undefined;
  let relayUrl = "";
  if (settings.config.inspect.enabled) {
    pageToken = inspectorToken();
    knownSecrets.add(pageToken);
    inspector = createInspector({ config: settings.config, relayToken: settings.token, inspectorToken: pageToken, relayUrl: () => relayUrl });
  }
  const relay = await startRelay({
    config: settings.config,
    host: settings.host,
    port: settings.port,
    token: settings.token,
    onRecord,
    observer: inspector?.observer,
    reservedPaths: inspector?.reservedPaths,
    secrets: pageToken === undefined ? [] : [pageToken],
  });
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
    // The terminal or the pipe we print to may go away (closed terminal: EIO; `| head`: EPIPE).
    // That is a reason to stop cleanly, not to crash, and nothing more is printed there.
    let outputGone = false;
    const say = (text: string) => {
      if (!outputGone) process.stderr.write(text);
    };
    const onOutputError = () => {
      outputGone = true;
      if (!stopping) stop("SIGHUP");
    };
    process.stdout.on("error", onOutputError);
    process.stderr.on("error", onOutputError);
    const stop = (signal: NodeJS.Signals) => {
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
    // SIGHUP means "reopen the log" to a relay writing a log file under logrotate (nginx, syslog);
    // to one in a terminal it means the terminal closed, and a relay left running would be orphaned.
    const openLog = logFile;
    if (openLog) process.on("SIGHUP", () => openLog.reopen());
    else process.on("SIGHUP", stop);
    // Only now: a supervisor that sees the banner may signal at once, and must get a clean stop.
    const err = chalkFor(process.stderr);
    const inspectUrl = pageToken === undefined ? undefined : `${relay.url}/_relay/?token=${pageToken}`;
    say(`${formatBanner({ config: settings.config, url: relay.url, tokenSource: settings.tokenSource, inspectUrl, chalk: err })}\n`);
  });
}
