/**
 * The baseline arm: the least a Node relay can do — node:http in, undici `dispatch` out over a
 * keep-alive Agent, bodies streamed both ways with backpressure, no policy, no logging. Only the
 * hop-by-hop headers go (RFC 9110 §7.6.1; undici refuses some of them anyway). What llm-relay
 * costs beyond this is the price of its policy and bookkeeping.
 *
 * Run as `node bench/baseline-relay.mjs <upstream origin>`; prints `{"port":N}` on stdout.
 */
import http from "node:http";
import { Agent } from "undici";

const origin = process.argv[2];
const agent = new Agent({ keepAliveTimeout: 60_000 });
const HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host", "expect"]);
const withoutHop = (headers) => {
  const out = {};
  for (const name in headers) if (!HOP.has(name) && headers[name] !== undefined) out[name] = headers[name];
  return out;
};

const server = http.createServer({ noDelay: true }, (req, res) => {
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
    onResponseEnd: () => res.end(),
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
