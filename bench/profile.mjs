/**
 * Reads a V8 `.cpuprofile` (from `node --cpu-prof`) and sums self time per function: each sample
 * is charged to the node it hit, for the time until the next sample (`timeDeltas`). Also groups
 * self time by where the code lives (node internals, undici, llm-relay's dist/, GC, idle).
 *
 * Run alone: `node bench/profile.mjs <file.cpuprofile> [top]`.
 */
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

/** Where a function lives, for the grouped view. */
export function categoryOf(url, functionName) {
  if (functionName === "(garbage collector)") return "gc";
  if (functionName === "(idle)") return "idle";
  if (functionName === "(program)" || functionName === "(root)") return "program/native";
  if (url.startsWith("node:")) return "node internals";
  if (url.includes("/node_modules/undici/")) return "undici";
  if (url.includes("/node_modules/")) return "other deps";
  if (url.includes("/dist/")) return "llm-relay (dist)";
  if (url === "") return "native/builtins";
  return "other";
}

function shortUrl(url) {
  const dist = url.indexOf("/dist/");
  if (dist !== -1) return url.slice(dist + 1);
  const modules = url.lastIndexOf("/node_modules/");
  if (modules !== -1) return url.slice(modules + "/node_modules/".length);
  return url;
}

/**
 * `{ totalMs, functions: [{ name, where, selfMs, share }], categories: [{ category, selfMs, share }],
 * distFiles: [{ file, selfMs, share }], distInclusive: [{ name, totalMs, share }] }`, each sorted by
 * time, `functions` and `distInclusive` cut to `top`.
 */
export function summariseProfile(profile, top = 25) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const selfUs = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  // timeDeltas[i] is the time between sample i − 1 and sample i; a sample is charged the time
  // until the next one, the last one the time until the profile's end (as DevTools does).
  let at = profile.startTime ?? 0;
  for (let i = 0; i < samples.length; i++) {
    at += timeDeltas[i] ?? 0;
    const next = i + 1 < samples.length ? at + (timeDeltas[i + 1] ?? 0) : (profile.endTime ?? at);
    selfUs.set(samples[i], (selfUs.get(samples[i]) ?? 0) + Math.max(0, next - at));
  }
  const perFunction = new Map();
  const perCategory = new Map();
  const perDistFile = new Map();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const { callFrame } = nodes.get(id);
    const name = callFrame.functionName || "(anonymous)";
    const where = callFrame.url ? `${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}` : "";
    const key = `${name}\u0000${where}`;
    perFunction.set(key, { name, where, us: (perFunction.get(key)?.us ?? 0) + us });
    const category = categoryOf(callFrame.url, callFrame.functionName);
    perCategory.set(category, (perCategory.get(category) ?? 0) + us);
    if (category === "llm-relay (dist)") {
      const file = shortUrl(callFrame.url);
      perDistFile.set(file, (perDistFile.get(file) ?? 0) + us);
    }
    totalUs += us;
  }
  // Inclusive time of llm-relay's functions: a sample counts once for every distinct dist/
  // function on its stack, so `decideHeaders` includes the redaction and regexes it calls.
  const inclusive = new Map();
  for (const [id, us] of selfUs) {
    const seen = new Set();
    for (let at = id; at !== undefined; at = parentOf.get(at)) {
      const { callFrame } = nodes.get(at);
      if (categoryOf(callFrame.url, callFrame.functionName) !== "llm-relay (dist)") continue;
      const key = `${callFrame.functionName || "(anonymous)"}  ${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}`;
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const share = (us) => (totalUs === 0 ? 0 : us / totalUs);
  return {
    totalMs: totalUs / 1000,
    functions: [...perFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map(({ name, where, us }) => ({ name, where, selfMs: us / 1000, share: share(us) })),
    categories: [...perCategory.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([category, us]) => ({ category, selfMs: us / 1000, share: share(us) })),
    distInclusive: [...inclusive.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, totalMs: us / 1000, share: share(us) })),
    distFiles: [...perDistFile.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([file, us]) => ({ file, selfMs: us / 1000, share: share(us) })),
  };
}

/** Plain-text table of a summary. */
export function formatProfile(summary) {
  const pct = (x) => `${(x * 100).toFixed(1).padStart(5)}%`;
  const lines = [`total sampled: ${summary.totalMs.toFixed(0)} ms`, "", "by area:"];
  for (const c of summary.categories) lines.push(`  ${pct(c.share)}  ${c.selfMs.toFixed(0).padStart(7)} ms  ${c.category}`);
  if (summary.distFiles.length > 0) {
    lines.push("", "llm-relay self time by file:");
    for (const f of summary.distFiles) lines.push(`  ${pct(f.share)}  ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.file}`);
  }
  if (summary.distInclusive.length > 0) {
    lines.push("", "llm-relay functions, inclusive (self + callees):");
    for (const f of summary.distInclusive) lines.push(`  ${pct(f.share)}  ${f.totalMs.toFixed(0).padStart(7)} ms  ${f.name}`);
  }
  lines.push("", "top self time:");
  for (const f of summary.functions) lines.push(`  ${pct(f.share)}  ${f.selfMs.toFixed(0).padStart(7)} ms  ${f.name}  ${f.where}`);
  return lines.join("\n");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error("usage: node bench/profile.mjs <file.cpuprofile> [top]");
    process.exit(1);
  }
  console.log(formatProfile(summariseProfile(JSON.parse(readFileSync(file, "utf8")), Number(top ?? 25))));
}
