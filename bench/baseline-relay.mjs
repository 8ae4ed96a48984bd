/**
 * The baseline arm: the least a Node relay can do — node:http in, undici `dispatch` out over a
 * keep-alive Agent, bodies streamed both ways with backpressure, no policy, no logging. Only the
 * hop-by-hop headers go (RFC 9110 §7.6.1; undici refuses some of them anyway). What llm-relay
 * costs beyond this is the price of its policy and bookkeeping.
 *
 * Run as `node bench/baseline-relay.mjs <upstream origin> [--log FILE]`; prints `{"port":N}` on stdout.
 *
 * `--log FILE` is the **baseline + log** arm: the same relay plus only what llm-relay's terminal
 * logging costs, one colored request line per request (time, method, path, model, provider,
 * status, duration, as `src/log/format.ts` prints them, control characters escaped), gathered
 * and written once per event-loop turn to a file (as `batchedSink` does to llm-relay's stdout,
 * which the bench sends to a file). The gap between the two baseline arms is the price of
 * logging; the rest of llm-relay's gap is policy and bookkeeping.
 */
import { openSync, writeSync } from "node:fs";
import http from "node:http";
import { Agent } from "undici";

const origin = process.argv[2];
const logAt = process.argv.indexOf("--log");
const logFd = logAt === -1 ? undefined : openSync(process.argv[logAt + 1], "w");
const agent = new Agent({ keepAliveTimeout: 60_000 });
const HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host", "expect"]);
const withoutHop = (headers) => {
  const out = {};
  for (const name in headers) if (!HOP.has(name) && headers[name] !== undefined) out[name] = headers[name];
  return out;
};

// ANSI SGR colors, as chalk writes them (dim, bold, magenta, cyan, green).
const dim = (t) => `\x1b[2m${t}\x1b[22m`;
const bold = (t) => `\x1b[1m${t}\x1b[22m`;
const magenta = (t) => `\x1b[35m${t}\x1b[39m`;
const cyan = (t) => `\x1b[36m${t}\x1b[39m`;
const green = (t) => `\x1b[32m${t}\x1b[39m`;
const safe = (t) => t.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => JSON.stringify(c).slice(1, -1));
let pending = [];
const flush = () => {
  const text = pending.join("");
  pending = [];
  writeSync(logFd, text);
};
const logLine = (method, path, status, started) => {
  const ms = performance.now() - started;
  const line = [dim(new Date().toISOString().slice(11, 19)), bold(method), safe(path), magenta("claude-sonnet-4-5-20250929"), `→ ${cyan("anthropic")}`, green(String(status)), "json", `${Math.round(ms)}ms`].join(" ");
  if (pending.push(`${line}\n`) === 1) setImmediate(flush);
};

const server = http.createServer({ noDelay: true }, (req, res) => {
  const started = performance.now();
  const hasBody = req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0" || req.headers["transfer-encoding"] !== undefined;
  let controller;
  res.on("close", () => res.writableFinished || controller?.abort(new Error("client gone")));
  res.on("drain", () => controller?.resume());
  agent.dispatch({ origin, path: req.url, method: req.method, headers: withoutHop(req.headers), body: hasBody ? req : null }, {
    onRequestStart: (c) => (controller = c),
    onResponseStart(_c, status, headers) {
      res.writeHead(status, withoutHop(headers));
      if (String(headers["content-type"]).startsWith("text/event-stream")) res.flushHeaders();
    },
    onResponseData: (c, chunk) => res.write(chunk) || c.pause(),
    onResponseEnd: () => {
      res.end();
      if (logFd !== undefined) logLine(req.method, req.url, res.statusCode, started);
    },
    onResponseError(_c, error) {
      if (res.headersSent) return res.destroy();
      res.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ error: error.code ?? error.message }));
    },
  });
});

server.listen(0, "127.0.0.1", () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
process.on("SIGTERM", () => process.exit(0));
