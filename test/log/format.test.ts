/**
 * What `start` prints per request (DESIGN §9): the request line, the `--verbose` decision lines
 * (plain at chalk level 0, colored by action above it), the `--json` NDJSON records, and the
 * NO_COLOR / FORCE_COLOR / TTY rules that pick the color level.
 */
import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import { chalkFor, colorLevel } from "../../src/log/color.js";
import { formatDecisionLines, formatRequestLine } from "../../src/log/format.js";
import type { RequestRecord } from "../../src/log/record.js";
import { createReporter } from "../../src/log/reporter.js";
import type { Decision, DecisionAction } from "../../src/policy/headers.js";

const plain = new Chalk({ level: 0 });
const colored = new Chalk({ level: 1 });

const decisions: Decision[] = [
  { header: "authorization", action: "forward", value: "Bearer sk-ant-oat01-…[len=108 #3fa91c]", reason: "Anthropic OAuth token to its trusted origin" },
  { header: "x-api-key", action: "strip", value: "sk-ant-api03-…[len=108 #0a1b2c]", reason: "an OAuth token is forwarded" },
  { header: "anthropic-beta", action: "rewrite", value: "a,oauth-2025-04-20", reason: "added oauth-2025-04-20" },
  { header: "host", action: "set", value: "api.anthropic.com", reason: "upstream origin" },
  { header: "x-goog-api-key", action: "withhold", value: "AIza…[len=39 #abcdef]", reason: "only to gemini" },
];

const record: RequestRecord = {
  type: "request",
  time: "2025-10-01T12:04:05.123Z",
  id: 7,
  method: "POST",
  path: "/v1/messages?beta=true",
  model: "claude-sonnet-4-5",
  provider: "anthropic",
  route: "built-in",
  status: 200,
  stream: true,
  durationMs: 1234.4,
  ttfbMs: 310.2,
  usage: { inputTokens: 1200, outputTokens: 45, cacheReadTokens: 1000 },
  decisions,
};

describe("formatRequestLine", () => {
  it.each([
    ["a streamed success with usage", record, "12:04:05 POST /v1/messages?beta=true claude-sonnet-4-5 → anthropic 200 stream 1.23s ttfb 310ms in 1200 out 45 cache-read 1000"],
    ["a relay error without provider or model", { ...record, model: undefined, provider: undefined, status: 404, stream: false, durationMs: 3, ttfbMs: undefined, usage: undefined, error: "no route" },
      "12:04:05 POST /v1/messages?beta=true - → none 404 json 3ms no route"],
    ["a model the provider's models renamed", { ...record, model: "claude-haiku-4-5", upstreamModel: "qwen3-coder:30b", provider: "local", usage: undefined, ttfbMs: undefined },
      "12:04:05 POST /v1/messages?beta=true claude-haiku-4-5 → local (as qwen3-coder:30b) 200 stream 1.23s"],
    ["an upstream model equal to the client's is not repeated", { ...record, upstreamModel: "claude-sonnet-4-5", usage: undefined, ttfbMs: undefined },
      "12:04:05 POST /v1/messages?beta=true claude-sonnet-4-5 → anthropic 200 stream 1.23s"],
    ["control characters from the client are escaped", { ...record, model: "x\u001b[2Jy", usage: undefined, ttfbMs: undefined },
      "12:04:05 POST /v1/messages?beta=true x\\u001b[2Jy → anthropic 200 stream 1.23s"],
  ] as Array<[string, RequestRecord, string]>)("%s", (_label, rec, line) => {
    expect(formatRequestLine(rec, plain)).toBe(line);
  });

  it("colors the status by class", () => {
    expect(formatRequestLine({ ...record, status: 200 }, colored)).toContain("\u001b[32m200\u001b[39m");
    expect(formatRequestLine({ ...record, status: 429 }, colored)).toContain("\u001b[33m429\u001b[39m");
    expect(formatRequestLine({ ...record, status: 502 }, colored)).toContain("\u001b[31m502\u001b[39m");
  });
});

describe("formatDecisionLines", () => {
  it("plain: one aligned line per decision with header, action, redacted value and reason", () => {
    expect(formatDecisionLines(decisions, plain)).toEqual([
      "    authorization   forward   Bearer sk-ant-oat01-…[len=108 #3fa91c]  (Anthropic OAuth token to its trusted origin)",
      "    x-api-key       strip     sk-ant-api03-…[len=108 #0a1b2c]  (an OAuth token is forwarded)",
      "    anthropic-beta  rewrite   a,oauth-2025-04-20  (added oauth-2025-04-20)",
      "    host            set       api.anthropic.com  (upstream origin)",
      "    x-goog-api-key  withhold  AIza…[len=39 #abcdef]  (only to gemini)",
    ]);
  });

  // ANSI SGR foreground codes (ECMA-48): 32 green, 34 blue, 33 yellow, 90 bright black, 31 red.
  it.each([
    ["forward", 32],
    ["set", 34],
    ["rewrite", 33],
    ["strip", 90],
    ["withhold", 31],
  ] as Array<[DecisionAction, number]>)("colored: %s in SGR %i", (action, code) => {
    const [line] = formatDecisionLines([{ header: "h", action, value: "v", reason: "r" }], colored, "");
    expect(line).toBe(`h  \u001b[${code}m${action.padEnd(8)}\u001b[39m  v  \u001b[2m(r)\u001b[22m`);
  });

  it("long values are cut, control characters escaped", () => {
    const [line] = formatDecisionLines([{ header: "x-long", action: "forward", value: `${"a".repeat(200)}`, reason: "r" }], plain, "");
    expect(line).toBe(`x-long  forward   ${"a".repeat(117)}...  (r)`);
    const [ctl] = formatDecisionLines([{ header: "x", action: "forward", value: "a\u001bb", reason: "r" }], plain, "");
    expect(ctl).toBe("x  forward   a\\u001bb  (r)");
  });
});

describe("reporters", () => {
  function capture(json: boolean, verbose: boolean, level: 0 | 1 = 0): string {
    let out = "";
    createReporter({ sink: { write: (t: string) => (out += t) }, json, verbose, chalk: new Chalk({ level }) })(record);
    return out;
  }

  it("default: the request line only", () => {
    expect(capture(false, false)).toBe(`${formatRequestLine(record, plain)}\n`);
  });

  it("--verbose: the request line, the rule that routed it, then one line per decision", () => {
    const lines = capture(false, true).split("\n");
    expect(lines).toHaveLength(decisions.length + 3);
    expect(lines[0]).toMatch(/^12:04:05 POST \/v1\/messages/);
    expect(lines[1]).toBe("    route  built-in");
    expect(lines.slice(2, -1).map((l) => l.trim().split(/\s+/).slice(0, 2))).toEqual(decisions.map((d) => [d.header, d.action]));
    expect(lines.at(-1)).toBe("");
  });

  it("--verbose with colors: escape codes present; without: none", () => {
    expect(capture(false, true, 1)).toContain("\u001b[");
    expect(capture(false, true, 0)).not.toContain("\u001b[");
  });

  it("--json: one NDJSON record per request, decisions only with --verbose", () => {
    const withDecisions = capture(true, true);
    expect(withDecisions.endsWith("\n")).toBe(true);
    expect(withDecisions.trimEnd().split("\n")).toHaveLength(1);
    expect(JSON.parse(withDecisions)).toEqual(record);
    const without = JSON.parse(capture(true, false)) as Record<string, unknown>;
    expect(without.decisions).toBeUndefined();
    expect(without).toMatchObject({ type: "request", id: 7, status: 200, provider: "anthropic" });
    expect(capture(true, true, 1)).not.toContain("\u001b[");
  });
});

describe("color level (NO_COLOR, FORCE_COLOR, TTY)", () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };
  it.each([
    ["pipe, no env", pipe, {}, 0],
    ["TTY, no env", tty, {}, "tty"],
    ["NO_COLOR=1 on a TTY", tty, { NO_COLOR: "1" }, 0],
    ["NO_COLOR empty is ignored (no-color.org)", tty, { NO_COLOR: "" }, "tty"],
    ["FORCE_COLOR=1 on a pipe", pipe, { FORCE_COLOR: "1" }, 1],
    ["FORCE_COLOR=3 on a pipe", pipe, { FORCE_COLOR: "3" }, 3],
    ["FORCE_COLOR=9 capped", pipe, { FORCE_COLOR: "9" }, 3],
    ["FORCE_COLOR empty means on", pipe, { FORCE_COLOR: "" }, 1],
    ["FORCE_COLOR=true", pipe, { FORCE_COLOR: "true" }, 1],
    ["FORCE_COLOR=0 on a TTY", tty, { FORCE_COLOR: "0" }, 0],
    ["FORCE_COLOR=false on a TTY", tty, { FORCE_COLOR: "false" }, 0],
    ["NO_COLOR wins over FORCE_COLOR", pipe, { NO_COLOR: "1", FORCE_COLOR: "3" }, 0],
    ["no stream", undefined, {}, 0],
  ] as Array<[string, { isTTY?: boolean } | undefined, NodeJS.ProcessEnv, number | "tty"]>)("%s", (_label, stream, env, level) => {
    const got = colorLevel(stream, env);
    if (level === "tty") expect(got).toBeGreaterThanOrEqual(1);
    else expect(got).toBe(level);
  });

  it("chalkFor gives plain text when colors are off and escapes when forced", () => {
    expect(chalkFor({ isTTY: true }, { NO_COLOR: "1" }).red("x")).toBe("x");
    expect(chalkFor({ isTTY: false }, { FORCE_COLOR: "1" }).red("x")).toBe("\u001b[31mx\u001b[39m");
  });
});
