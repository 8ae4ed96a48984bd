/**
 * From a run's figures to verdicts and a table. Pure: the targets (issue 7) as data,
 * each evaluated on ratios and differences taken within the same run.
 */

const MiB = 1024 * 1024;

/** Format helpers, tolerant of missing figures (a phase that was skipped or failed). */
const num = (x, digits = 2) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(digits) : "–");
const ms = (x, digits = 3) => (typeof x === "number" && Number.isFinite(x) ? `${x.toFixed(digits)} ms` : "–");
const mib = (bytes) => (typeof bytes === "number" && Number.isFinite(bytes) ? `${(bytes / MiB).toFixed(1)} MiB` : "–");

/**
 * The targets of issue 7. `value` and `limit` are what is compared (`value <= limit`, or `>=` for
 * throughput); a target whose figures are missing is reported as "n/a", never as a pass.
 */
export function evaluateTargets(r) {
  const targets = [];
  const add = (name, value, limit, compare, show) => {
    const measurable = typeof value === "number" && Number.isFinite(value) && typeof limit === "number" && Number.isFinite(limit);
    const pass = measurable ? (compare === ">=" ? value >= limit : value <= limit) : undefined;
    targets.push({ name, value, limit, compare, pass, text: measurable ? show(value, limit) : "not measured" });
  };
  const tp = r.throughput?.arms;
  add("throughput c=32: llm-relay ≥ 0.90 × baseline", tp && tp.llmRelay.rps / tp.baseline.rps, 0.9, ">=", (v) => `${num(v, 3)} × baseline`);
  const lat = r.latency?.added;
  add("added latency c=1 p50 ≤ baseline + 0.1 ms", lat?.llmRelay.p50Ms, lat && lat.baseline.p50Ms + 0.1, "<=", (v, l) => `${ms(v)} (limit ${ms(l)})`);
  add("added latency c=1 p99 ≤ baseline + 0.5 ms", lat?.llmRelay.p99Ms, lat && lat.baseline.p99Ms + 0.5, "<=", (v, l) => `${ms(v)} (limit ${ms(l)})`);
  add("inspector on: throughput ≥ 0.95 × --no-inspect", tp?.noInspect && tp.llmRelay.rps / tp.noInspect.rps, 0.95, ">=", (v) => `${num(v, 3)} × --no-inspect`);
  add("inspector on: added latency p50 ≤ --no-inspect + 0.05 ms", lat?.noInspect && lat.llmRelay.p50Ms - lat.noInspect.p50Ms, 0.05, "<=", (v) => ms(v));
  // Issue 13: plain pass-through no more than 3 % worse than 2026-11-27's 0.639 × baseline.
  add("--no-inspect: throughput ≥ 0.62 × baseline (issue 13)", tp?.noInspect && tp.noInspect.rps / tp.baseline.rps, 0.62, ">=", (v) => `${num(v, 3)} × baseline`);
  add("SSE per-event added delay p99 ≤ 1 ms", r.sse?.added?.llmRelay.perEventP99Ms, 1, "<=", (v) => ms(v));
  const stall = r.stall?.llmRelay;
  add("stall: first event arrives while upstream holds the rest", stall && (stall.delivered === stall.trials ? 1 : 0), 1, ">=", () =>
    `${stall.delivered}/${stall.trials} trials, first event in ${ms(stall.firstEventMsMedian, 1)}`);
  const streams = r.streams?.llmRelay;
  add(`${r.streams?.count ?? 1000} open SSE streams: RSS increase ≤ 60 MiB`, streams?.increase, 60 * MiB, "<=", (v) => mib(v));
  const up = r.upload?.arms;
  add("20 MiB body: peak RSS increase ≤ baseline + 4 MiB", up?.llmRelay.peakIncrease, up && up.baseline.peakIncrease + 4 * MiB, "<=", (v, l) =>
    `${mib(v)} (limit ${mib(l)})`);
  add("20 MiB body: wall ≤ 1.2 × baseline", up && up.llmRelay.wallMs / up.baseline.wallMs, 1.2, "<=", (v) => `${num(v, 3)} × baseline`);
  add("llm-relay --version ≤ 150 ms", r.coldStart?.versionMs, 150, "<=", (v) => ms(v, 1));
  add("start → listening ≤ 300 ms", r.coldStart?.startToHealthMs, 300, "<=", (v) => ms(v, 1));
  add("decideHeaders: a few µs per call (≤ 5 µs)", r.micro?.decideHeaders.medianUs, 5, "<=", (v) => `${num(v)} µs`);
  return targets;
}

function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => String(row[i]).length)));
  return rows.map((row) => row.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]) : String(cell).padStart(widths[i]))).join("  ")).join("\n");
}

/** The run as text: figures per arm, then the targets with PASS/FAIL. */
export function formatReport(r, targets) {
  const out = [];
  const m = r.machine;
  out.push(`llm-relay bench · ${r.date} · ${r.git.sha}${r.git.dirty ? " (dirty)" : ""}`);
  out.push(`${m.cpu} · ${m.cores} cores · node ${m.node} · ${m.platform} · load ${m.loadavg.map((x) => x.toFixed(2)).join(" ")}`);
  if (m.loadavg[0] > m.cores * 0.5) {
    out.push(`warning: load average ${m.loadavg[0].toFixed(1)} on ${m.cores} cores when the run began: other processes compete, figures are noisy`);
  }
  if (r.log) out.push(`llm-relay printed ${r.log.lines} log lines for ${r.log.requests} requests (logging on, --verbose off)`);
  out.push("");
  const rows = [["figure", "direct", "baseline", "llm-relay", "llm-relay − baseline"]];
  const lat = r.latency;
  if (lat) {
    const a = lat.arms;
    rows.push([`latency c=1 p50 (n=${lat.countPerArm})`, ms(a.direct.p50Ms), ms(a.baseline.p50Ms), ms(a.llmRelay.p50Ms), ms(a.llmRelay.p50Ms - a.baseline.p50Ms)]);
    rows.push(["latency c=1 p99", ms(a.direct.p99Ms), ms(a.baseline.p99Ms), ms(a.llmRelay.p99Ms), ms(a.llmRelay.p99Ms - a.baseline.p99Ms)]);
    rows.push(["  added vs direct p50", "", ms(lat.added.baseline.p50Ms), ms(lat.added.llmRelay.p50Ms), ""]);
    rows.push(["  added vs direct p99", "", ms(lat.added.baseline.p99Ms), ms(lat.added.llmRelay.p99Ms), ""]);
    if (a.noInspect) {
      rows.push(["  llm-relay --no-inspect p50 / p99", "", "", `${ms(a.noInspect.p50Ms)} / ${ms(a.noInspect.p99Ms)}`, ""]);
      rows.push(["  inspector's own cost p50 / p99", "", "", `${ms(a.llmRelay.p50Ms - a.noInspect.p50Ms)} / ${ms(a.llmRelay.p99Ms - a.noInspect.p99Ms)}`, ""]);
    }
    if (a.baselineLog) {
      rows.push(["  baseline + log line p50 / p99", "", `${ms(a.baselineLog.p50Ms)} / ${ms(a.baselineLog.p99Ms)}`, "", `${ms(a.baselineLog.p50Ms - a.baseline.p50Ms)} (log's p50)`]);
    }
  }
  const tp = r.throughput;
  if (tp) {
    const a = tp.arms;
    rows.push([`throughput c=${tp.connections} req/s`, num(a.direct.rps, 0), num(a.baseline.rps, 0), num(a.llmRelay.rps, 0), `${num(a.llmRelay.rps / a.baseline.rps, 3)} ×`]);
    const us = (x) => (typeof x === "number" && Number.isFinite(x) ? `${x.toFixed(1)} µs` : "–");
    rows.push(["  relay CPU per request (c=32)", "", us(a.baseline.cpuUsPerRequest), us(a.llmRelay.cpuUsPerRequest), `${num(a.llmRelay.cpuUsPerRequest / a.baseline.cpuUsPerRequest, 2)} ×`]);
    if (a.noInspect) {
      rows.push(["  llm-relay --no-inspect req/s, CPU", "", "", `${num(a.noInspect.rps, 0)}, ${us(a.noInspect.cpuUsPerRequest)}`, ""]);
      rows.push(["  inspector on ÷ off (req/s)", "", "", `${num(a.llmRelay.rps / a.noInspect.rps, 3)} ×`, ""]);
      rows.push(["  --no-inspect ÷ baseline (req/s)", "", "", `${num(a.noInspect.rps / a.baseline.rps, 3)} ×`, ""]);
    }
    if (a.baselineLog) {
      // The baseline that also prints one colored line per request: logging's share of the gap.
      rows.push(["  baseline + log line req/s, CPU", "", `${num(a.baselineLog.rps, 0)}, ${us(a.baselineLog.cpuUsPerRequest)}`, "", `${num(a.baselineLog.rps / a.baseline.rps, 3)} × baseline`]);
    }
  }
  const bodies = r.bodies;
  if (bodies) {
    const a = bodies.arms;
    const us = (x) => (typeof x === "number" && Number.isFinite(x) ? `${x.toFixed(1)} µs` : "–");
    for (const [arm, label] of [["llmRelay", "pass-through"], ["llmRelayRewrite", "model rewrite"], ["llmRelayWhen", "when route"]]) {
      rows.push([`  body ${label} req/s (CPU/req)`, "", "", `${num(a[arm]?.rps, 0)} (${us(a[arm]?.cpuUsPerRequest)})`, `${num(a[arm]?.rps / a.llmRelay?.rps, 3)} × pass-through`]);
    }
  }
  const sse = r.sse;
  if (sse) {
    const a = sse.arms;
    rows.push([`SSE first event p50 (${sse.streamsPerArm}×${sse.events} ev)`, ms(a.direct.ttfeP50Ms), ms(a.baseline.ttfeP50Ms), ms(a.llmRelay.ttfeP50Ms), ms(a.llmRelay.ttfeP50Ms - a.baseline.ttfeP50Ms)]);
    rows.push(["SSE first event p99", ms(a.direct.ttfeP99Ms), ms(a.baseline.ttfeP99Ms), ms(a.llmRelay.ttfeP99Ms), ms(a.llmRelay.ttfeP99Ms - a.baseline.ttfeP99Ms)]);
    rows.push(["SSE per-event delay p50", ms(a.direct.perEventP50Ms), ms(a.baseline.perEventP50Ms), ms(a.llmRelay.perEventP50Ms), ms(a.llmRelay.perEventP50Ms - a.baseline.perEventP50Ms)]);
    rows.push(["SSE per-event delay p99", ms(a.direct.perEventP99Ms), ms(a.baseline.perEventP99Ms), ms(a.llmRelay.perEventP99Ms), ms(a.llmRelay.perEventP99Ms - a.baseline.perEventP99Ms)]);
    rows.push(["  per-event added p50 / p99", "", `${ms(sse.added.baseline.perEventP50Ms)} / ${ms(sse.added.baseline.perEventP99Ms)}`, `${ms(sse.added.llmRelay.perEventP50Ms)} / ${ms(sse.added.llmRelay.perEventP99Ms)}`, ""]);
  }
  const stall = r.stall;
  if (stall) {
    const cell = (s) => (s ? `${s.delivered}/${s.trials} ${ms(s.firstEventMsMedian, 1)}` : "–");
    rows.push(["stall: first event delivered", cell(stall.direct), cell(stall.baseline), cell(stall.llmRelay), ""]);
  }
  const streams = r.streams;
  if (streams) {
    rows.push([`${streams.count} open streams: RSS increase`, "", mib(streams.baseline?.increase), mib(streams.llmRelay?.increase), mib(streams.llmRelay?.increase - streams.baseline?.increase)]);
  }
  const up = r.upload;
  if (up) {
    const a = up.arms;
    rows.push([`${num(up.bytes / MiB, 0)} MiB body: wall (median of ${up.reps})`, ms(a.direct.wallMs, 1), ms(a.baseline.wallMs, 1), ms(a.llmRelay.wallMs, 1), `${num(a.llmRelay.wallMs / a.baseline.wallMs, 3)} ×`]);
    rows.push([`${num(up.bytes / MiB, 0)} MiB body: peak RSS increase`, "", mib(a.baseline.peakIncrease), mib(a.llmRelay.peakIncrease), mib(a.llmRelay.peakIncrease - a.baseline.peakIncrease)]);
  }
  const cold = r.coldStart;
  if (cold) {
    rows.push([`cold start: node -e 0 (median of ${cold.runs})`, ms(cold.nodeFloorMs, 1), "", "", ""]);
    rows.push(["cold start: llm-relay --version", "", "", ms(cold.versionMs, 1), ""]);
    rows.push([`cold start: start → health (median of ${cold.startRuns})`, "", "", ms(cold.startToHealthMs, 1), ""]);
  }
  if (r.micro) {
    rows.push([`decideHeaders (${r.micro.headerCount} headers) per call`, "", "", `${num(r.micro.decideHeaders.medianUs)} µs`, ""]);
    rows.push(["planRequest (route + headers) per call", "", "", `${num(r.micro.planRequest.medianUs)} µs`, ""]);
    if (r.micro.capture) {
      const { empty, full } = r.micro.capture;
      rows.push(["inspector capture per request, CPU (GC)", "", "", `${num(empty.us)} µs (${num(empty.gcUs)})`, ""]);
      rows.push(["  …with the capture full (10,000 kept)", "", "", `${num(full.us)} µs (${num(full.gcUs)})`, ""]);
    }
  }
  out.push(table(rows));
  out.push("");
  out.push("targets (issue 7):");
  for (const t of targets) {
    const verdict = t.pass === undefined ? " n/a" : t.pass ? "PASS" : "FAIL";
    out.push(`  ${verdict}  ${t.name}: ${t.text}`);
  }
  if (r.errors?.length) {
    out.push("", "errors:");
    for (const e of r.errors) out.push(`  ${e.phase}: ${e.message}`);
  }
  return out.join("\n");
}
