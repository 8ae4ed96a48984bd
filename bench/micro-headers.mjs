/**
 * Micro-benchmark of the per-request pure core on the Claude Code fixture: `decideHeaders`
 * (DESIGN §5) and `planRequest` (route + headers), from the build in dist/. Reports µs per call
 * as the median of several timed batches after a warm-up, so the JIT has settled.
 *
 * Run alone: `node bench/micro-headers.mjs` (after `npm run build`).
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { CLAUDE_CODE_BODY, claudeCodeHeaders } from "./lib/clients.mjs";
import { ROOT } from "./lib/processes.mjs";

const dist = (file) => import(pathToFileURL(path.join(ROOT, "dist", file)).href);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** µs per call of `fn`: median over `batches` batches of `perBatch` calls, after `warmup` calls. */
export function timePerCall(fn, { warmup = 20_000, batches = 7, perBatch = 20_000 } = {}) {
  let sink = 0;
  for (let i = 0; i < warmup; i++) sink += fn() ? 1 : 0;
  const perCall = [];
  for (let b = 0; b < batches; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) sink += fn() ? 1 : 0;
    perCall.push(Number(process.hrtime.bigint() - start) / 1000 / perBatch);
  }
  if (sink < 0) console.log(sink); // keeps the calls observable
  return { medianUs: median(perCall), minUs: Math.min(...perCall), maxUs: Math.max(...perCall) };
}

export async function runMicro(options) {
  const { decideHeaders } = await dist("policy/headers.js");
  const { resolveConfig } = await dist("config/resolve.js");
  const { planRequest } = await dist("relay/plan.js");
  const config = resolveConfig(
    { providers: { anthropic: { kind: "anthropic", baseUrl: "http://127.0.0.1:9", oauth: "forward" } } },
    { source: { via: "inline" }, env: {} },
  );
  const provider = config.providers.get("anthropic");
  const headers = {
    ...claudeCodeHeaders(),
    host: "127.0.0.1:8742",
    "content-length": String(Buffer.byteLength(CLAUDE_CODE_BODY)),
  };
  const via = "1.1 llm-relay-bench0001";
  const check = decideHeaders({ headers, provider, via });
  if (!check.oauthForwarded) throw new Error("micro-benchmark: the fixture's OAuth token was not forwarded; the fixture or the policy changed");
  return {
    headerCount: Object.keys(headers).length,
    decideHeaders: timePerCall(() => decideHeaders({ headers, provider, via }), options),
    planRequest: timePerCall(
      () => planRequest({ path: "/v1/messages", query: "?beta=true", headers, model: "claude-sonnet-4-5-20250929", config, via }),
      options,
    ),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const result = await runMicro();
  console.log(
    `${result.headerCount} headers: decideHeaders ${result.decideHeaders.medianUs.toFixed(2)} µs/call, ` +
      `planRequest ${result.planRequest.medianUs.toFixed(2)} µs/call`,
  );
}
