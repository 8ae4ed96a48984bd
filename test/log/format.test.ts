/**
 * What `start` prints per request (DESIGN §9): the request line, the `--verbose` decision lines
 * (plain at chalk level 0, colored by action above it), the `--json` NDJSON records, and the
 * NO_COLOR / FORCE_COLOR / TTY rules that pick the color level.
 */
import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import { chalkFor, colorLevel } from "../../src/log/color.js";
import { formatDecisionLines, formatRequestLine, oauthWithheld, oauthWithheldHint } from "../../src/log/format.js";
import type { RequestRecord } from "../../src/log/record.js";
import { createReporter } from "../../src/log/reporter.js";
import type { ResolvedProvider } from "../../src/config/resolve.js";
import { withholdOAuthReason, type Decision, type DecisionAction } from "../../src/policy/headers.js";

const plain = new Chalk({ level: 0 });
/** Only the fields the OAuth reason reads. */
const gateway = { name: "gateway", kind: "anthropic", origin: "https://gw.example", oauth: "strip" } as ResolvedProvider;
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

describe("folding the headers passed through (--verbose; -vv lists them)", () => {
  const passed = (header: string): Decision => ({ header, action: "forward", value: "v", reason: "passed through" });
  const withPassThroughs: Decision[] = [
    passed("anthropic-dangerous-direct-browser-access"),
    decisions[0]!,
    passed("x-stainless-runtime-version"),
    decisions[3]!,
    passed("accept"),
  ];

  it("folds them into one line naming them; the name column fits the names shown, not the folded ones", () => {
    expect(formatDecisionLines(withPassThroughs, plain, "    ", false)).toEqual([
      "    authorization  forward   Bearer sk-ant-oat01-…[len=108 #3fa91c]  (Anthropic OAuth token to its trusted origin)",
      "    host           set       api.anthropic.com  (upstream origin)",
      "    3 headers passed through: anthropic-dangerous-direct-browser-access, x-stainless-runtime-version, accept (-vv lists them)",
    ]);
  });

  it("-vv: every header on its own line, the column as wide as the longest name", () => {
    const lines = formatDecisionLines(withPassThroughs, plain, "    ", true);
    expect(lines).toHaveLength(withPassThroughs.length);
    const width = "anthropic-dangerous-direct-browser-access".length;
    for (const [i, line] of lines.entries()) expect(line.slice(4 + width, 4 + width + 2 + withPassThroughs[i]!.action.length)).toBe(`  ${withPassThroughs[i]!.action}`);
  });

  it("a long list of names is cut with how many more", () => {
    const many = Array.from({ length: 30 }, (_, i) => passed(`x-header-number-${i}`));
    const [line] = formatDecisionLines(many, plain, "", false);
    expect(line).toMatch(/^30 headers passed through: x-header-number-0, x-header-number-1, .*, … \+\d+ more \(-vv lists them\)$/);
    expect(line!.length).toBeLessThan(160);
  });

  it("a forwarded header with another reason (the OAuth token) is never folded", () => {
    expect(formatDecisionLines([decisions[0]!], plain, "", false)).toHaveLength(1);
  });
});

describe("an upstream's error and a withheld OAuth token on the request line", () => {
  const failed: RequestRecord = { ...record, status: 429, stream: false, usage: undefined, ttfbMs: undefined, decisions: [] };

  it.each([
    ["type, message, request-id, retry-after in seconds", { type: "rate_limit_error", message: "Too many requests", requestId: "req_011C", retryAfter: "30" },
      "12:04:05 POST /v1/messages?beta=true claude-sonnet-4-5 → anthropic 429 json 1.23s rate_limit_error: Too many requests request-id req_011C retry-after 30s"],
    ["OpenAI's code after the type; an HTTP-date retry-after as sent", { type: "requests", code: "rate_limit_exceeded", message: "m", retryAfter: "Wed, 21 Oct 2026 07:28:00 GMT" },
      "12:04:05 POST /v1/messages?beta=true claude-sonnet-4-5 → anthropic 429 json 1.23s requests/rate_limit_exceeded: m retry-after Wed, 21 Oct 2026 07:28:00 GMT"],
    ["only a request-id (a body that is not JSON)", { requestId: "req_x" }, "12:04:05 POST /v1/messages?beta=true claude-sonnet-4-5 → anthropic 429 json 1.23s request-id req_x"],
    ["control characters in the message are escaped", { message: "a\u001b[2Jb" }, "12:04:05 POST /v1/messages?beta=true claude-sonnet-4-5 → anthropic 429 json 1.23s a\\u001b[2Jb"],
  ])("%s", (_label, upstreamError, line) => {
    expect(formatRequestLine({ ...failed, upstreamError }, plain)).toBe(line);
  });

  const withheld: Decision = { header: "authorization", action: "withhold", value: "Bearer sk-ant-oat01-…[len=108 #3fa91c]", reason: withholdOAuthReason(gateway)! };

  it("marks `oauth withheld` after the provider when the policy withheld the token: red on a 401/403, yellow when it answered anyway", () => {
    expect(formatRequestLine({ ...failed, provider: "gateway", status: 401, decisions: [withheld] }, plain)).toBe(
      "12:04:05 POST /v1/messages?beta=true claude-sonnet-4-5 → gateway oauth withheld 401 json 1.23s",
    );
    expect(formatRequestLine({ ...failed, provider: "gateway", status: 401, decisions: [withheld] }, colored)).toContain("\u001b[31moauth withheld\u001b[39m");
    expect(formatRequestLine({ ...failed, provider: "gateway", status: 200, decisions: [withheld] }, colored)).toContain("\u001b[33moauth withheld\u001b[39m");
  });

  it.each([
    ["forwarded", decisions[0]!],
    ["stripped for the provider's own apiKey", { ...withheld, action: "strip", reason: "provider gateway uses its configured apiKey" } as Decision],
    ["another credential withheld", decisions[4]!],
  ])("no mark and no hint when the token was %s", (_label, decision) => {
    const rec = { ...failed, decisions: [decision] };
    expect(oauthWithheld(rec)).toBe(false);
    expect(formatRequestLine(rec, plain)).not.toContain("oauth withheld");
    expect(oauthWithheldHint(rec, plain)).toBeUndefined();
  });

  it("the hint names the setting for an anthropic-kind provider, and says none exists for another kind", () => {
    expect(oauthWithheldHint({ ...failed, provider: "gateway", decisions: [withheld] }, plain)).toContain('set oauth: "forward" on providers.gateway');
    const openai = { ...withheld, reason: withholdOAuthReason({ ...gateway, name: "openai", kind: "openai" })! };
    const hint = oauthWithheldHint({ ...failed, provider: "openai", decisions: [openai] }, plain)!;
    expect(hint).toContain("No setting sends it there");
    expect(hint).not.toContain('oauth: "forward"');
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
