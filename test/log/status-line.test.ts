/**
 * The status line's text (issue 11 item 12), pure: how many requests are in flight and the one
 * running longest, fitted to the terminal width, redacted and escaped like every printed string;
 * and the rule for when a status line is drawn at all.
 */
import { Chalk } from "chalk";
import { describe, expect, it } from "vitest";
import { formatStatusLine, SHOW_AFTER_MS, wantsStatusLine } from "../../src/log/status-line.js";
import { knownSecrets } from "../../src/policy/redact.js";
import { GATEWAY_TOKEN, leakForms, OAUTH_TOKEN } from "../fixtures/tokens.js";

const plain = new Chalk({ level: 0 });
const t0 = Date.parse("2026-12-01T12:00:00.000Z");
const at = (ms: number) => new Date(t0 + ms).toISOString();
const request = (over: Partial<{ time: string; method: string; path: string; model: string; provider: string }> = {}) => ({
  time: at(0),
  method: "POST",
  path: "/v1/messages?beta=true",
  model: "claude-sonnet-4-5",
  provider: "anthropic",
  ...over,
});
const line = (inFlight: ReturnType<typeof request>[], now: number, columns = 120, secrets = knownSecrets([])) =>
  formatStatusLine(inFlight, { now: t0 + now, columns, chalk: plain, secrets });

describe("formatStatusLine", () => {
  it.each([
    ["one request", [request()], 12_400, "1 in flight: POST /v1/messages?beta=true claude-sonnet-4-5 → anthropic 12s"],
    ["a short one shows tenths", [request()], 2_340, "1 in flight: POST /v1/messages?beta=true claude-sonnet-4-5 → anthropic 2.3s"],
    ["several: the count and the one running longest", [request({ time: at(5_000), model: "claude-haiku-4-5" }), request({ time: at(1_000), path: "/openai/v1/chat/completions", model: "gpt-5", provider: "openai" })], 9_000,
      "2 in flight, longest: POST /openai/v1/chat/completions gpt-5 → openai 8.0s"],
    ["no model, no provider yet", [{ time: at(0), method: "GET", path: "/v1/models" }], 1_000, "1 in flight: GET /v1/models - → none 1.0s"],
  ])("%s", (_label, inFlight, now, expected) => {
    expect(line(inFlight as ReturnType<typeof request>[], now)).toBe(expected);
  });

  it(`draws nothing until a request has run ${SHOW_AFTER_MS} ms, nor with nothing in flight`, () => {
    expect(line([request()], SHOW_AFTER_MS - 1)).toBeUndefined();
    expect(line([request()], SHOW_AFTER_MS)).toBeDefined();
    expect(line([], 60_000)).toBeUndefined();
  });

  it.each([40, 60, 80, 200])("fits %i columns (one short, so the terminal never wraps it), shortening the path first", (columns) => {
    const long = request({ path: `/v1/messages/${"segment/".repeat(40)}` });
    const text = line([long], 3_000, columns)!;
    expect(text.length).toBeLessThanOrEqual(columns - 1);
    expect(text.startsWith("1 in flight: POST ")).toBe(true);
    // Wide enough for the rest: only the path gave way.
    if (columns >= 80) expect(text).toMatch(/^1 in flight: POST \/v1\/messages\/segment\/.*… claude-sonnet-4-5 → anthropic 3\.0s$/);
  });

  it("redacts secrets by shape and by value, and escapes control characters", () => {
    const text = line([request({ path: `/v1/messages?key=${OAUTH_TOKEN}`, model: `m-${GATEWAY_TOKEN}\u001b[2J` })], 1_000, 400, knownSecrets([GATEWAY_TOKEN]))!;
    for (const secret of [OAUTH_TOKEN, GATEWAY_TOKEN]) for (const form of leakForms(secret)) expect(text).not.toContain(form);
    expect(text).toContain("sk-ant-oat01-…[len=");
    expect(text).not.toContain("\u001b");
    expect(text).toContain("\\u001b[2J");
  });
});

describe("wantsStatusLine: only a person's terminal, never a pipe, a file or --json", () => {
  it.each([
    [{ json: false, stdoutTTY: true, stderrTTY: true, term: "xterm-256color" }, true],
    [{ json: false, stdoutTTY: true, stderrTTY: true, term: undefined }, true],
    [{ json: true, stdoutTTY: true, stderrTTY: true, term: "xterm" }, false],
    [{ json: false, stdoutTTY: false, stderrTTY: true, term: "xterm" }, false],
    [{ json: false, stdoutTTY: true, stderrTTY: false, term: "xterm" }, false],
    [{ json: false, stdoutTTY: true, stderrTTY: true, term: "dumb" }, false],
  ])("%o → %s", (input, expected) => {
    expect(wantsStatusLine(input)).toBe(expected);
  });
});
