/**
 * An upstream's error answer as the request record keeps it (issue 11 item 15): the error fields
 * of each vendor's body shape, read from the bounded usage tap only for 4xx/5xx answers, and the
 * message shortened and redacted so that a secret the upstream echoes never prints.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { knownSecrets } from "../../src/policy/redact.js";
import { MAX_ERROR_MESSAGE_CHARS, readUpstreamError, safeErrorText, upstreamErrorRecord } from "../../src/relay/upstream-error.js";
import { createUsageTap } from "../../src/relay/usage-tap.js";
import { ALL_TEST_SECRETS, ANTHROPIC_API_KEY, GATEWAY_TOKEN, leakForms, OAUTH_TOKEN, OPENAI_KEY, RELAY_TOKEN } from "../fixtures/tokens.js";

const none = knownSecrets([]);

describe("readUpstreamError", () => {
  it.each([
    ["Anthropic", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }, { type: "overloaded_error", message: "Overloaded" }],
    ["OpenAI", { error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded", param: null } }, { type: "requests", code: "rate_limit_exceeded", message: "Rate limit reached" }],
    ["OpenAI with code equal to type", { error: { message: "m", type: "insufficient_quota", code: "insufficient_quota" } }, { type: "insufficient_quota", message: "m" }],
    ["a numeric code", { error: { code: 429, message: "slow down" } }, { code: "429", message: "slow down" }],
    ["a gateway's string error", { error: "upstream connect error" }, { message: "upstream connect error" }],
    ["a bare message", { message: "Forbidden" }, { message: "Forbidden" }],
    ["no error fields", { detail: "x" }, undefined],
    ["an empty error", { error: {} }, undefined],
    ["not an object", ["error"], undefined],
    ["null", null, undefined],
  ])("%s", (_label, body, expected) => {
    expect(readUpstreamError(body)).toEqual(expected);
  });
});

describe("the usage tap reads error bodies only when asked (a 4xx/5xx answer)", () => {
  const body = JSON.stringify({ type: "error", error: { type: "rate_limit_error", message: "slow down" } });
  it.each([
    ["application/json", true, { type: "rate_limit_error", message: "slow down" }],
    ["application/problem+json", true, { type: "rate_limit_error", message: "slow down" }],
    ["application/json", false, undefined],
  ])("%s, errors %s", (type, errors, expected) => {
    const tap = createUsageTap(type, undefined, { errors })!;
    const bytes = Buffer.from(body);
    tap.push(bytes.subarray(0, 20));
    tap.push(bytes.subarray(20));
    expect(tap.end()).toBeUndefined();
    expect(tap.error()).toEqual(expected);
  });

  it("an error answer streamed as SSE or compressed has no tap that reads it", () => {
    expect(createUsageTap("text/event-stream", undefined, { errors: true })?.error()).toBeUndefined();
    expect(createUsageTap("application/json", "gzip", { errors: true })).toBeUndefined();
  });
});

describe("safeErrorText", () => {
  it("shortens to one line of about 120 characters", () => {
    const text = safeErrorText(`first line\nsecond ${"word ".repeat(100)}`, none);
    expect(text.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS);
    expect(text).toMatch(/^first line second word .*…$/);
  });

  it.each(ALL_TEST_SECRETS.map((s) => [s.slice(0, 14), s]))("redacts %s… wherever it sits, before shortening", (_label, secret) => {
    // The relay knows its own token and the configured keys by value; vendor keys are found by shape.
    const known = knownSecrets([GATEWAY_TOKEN, RELAY_TOKEN]);
    for (const message of [`bad key ${secret}`, `${"x ".repeat(45)}${secret} end`, `${"y ".repeat(1000)}${secret}`, `key=${secret}`]) {
      const text = safeErrorText(message, known);
      for (const form of leakForms(secret)) expect(text).not.toContain(form);
    }
  });

  it("property: no secret placed anywhere in any message prints, raw or encoded", () => {
    const known = knownSecrets([GATEWAY_TOKEN]);
    fc.assert(
      fc.property(fc.string({ maxLength: 3000 }), fc.nat(3000), fc.constantFrom(OAUTH_TOKEN, ANTHROPIC_API_KEY, OPENAI_KEY, GATEWAY_TOKEN), (text, at, secret) => {
        const cut = Math.min(at, text.length);
        const message = `${text.slice(0, cut)} ${secret} ${text.slice(cut)}`;
        const shown = safeErrorText(message, known);
        expect(shown.length).toBeLessThanOrEqual(MAX_ERROR_MESSAGE_CHARS);
        for (const form of leakForms(secret)) expect(shown).not.toContain(form);
      }),
      { numRuns: 500 },
    );
  });
});

describe("upstreamErrorRecord", () => {
  it("keeps the body's fields and the ids from the headers; nothing at all is no record", () => {
    expect(upstreamErrorRecord({ type: "api_error", message: "boom" }, { requestId: "req_1", retryAfter: "30" }, none)).toEqual({
      type: "api_error",
      message: "boom",
      requestId: "req_1",
      retryAfter: "30",
    });
    expect(upstreamErrorRecord(undefined, { requestId: "req_2", retryAfter: undefined }, none)).toEqual({ requestId: "req_2" });
    expect(upstreamErrorRecord(undefined, { requestId: undefined, retryAfter: undefined }, none)).toBeUndefined();
  });
});
