/**
 * Secrets spelled with JSON escapes (DESIGN §8: found by shape, not by the punctuation around
 * them): what a JSON consumer decodes from `redactJson`'s output never holds a raw secret.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { knownSecrets } from "../../src/policy/redact.js";
import { redactJson } from "../../src/policy/redact-json.js";
import { ALL_TEST_SECRETS, ANTHROPIC_API_KEY, findLeaks, OAUTH_TOKEN, OPENAI_KEY, RELAY_TOKEN } from "../fixtures/tokens.js";

const uEscape = (s: string) => [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
/** Every character escaped, only the dashes, or every other one. */
const spellings: Array<[string, (s: string) => string]> = [
  ["every character \\u-escaped", uEscape],
  ["only the dashes", (s) => s.replaceAll("-", "\\u002d")],
  ["every other character", (s) => [...s].map((c, i) => (i % 2 ? uEscape(c) : c)).join("")],
  ["upper-case hex", (s) => uEscape(s).toUpperCase().replaceAll("\\U", "\\u")],
  ["escaped, after an escaped backslash and non-ASCII", (s) => `\\\\\\u00e9é${uEscape(s)}`],
  // One escape inside an otherwise plain key: redacting the raw text first replaced the prefix
  // up to it and left a tail the decoded view no longer knew by its shape.
  ["one character escaped after the prefix", (s) => `${s.slice(0, 13)}${uEscape(s[13]!)}${s.slice(14)}`],
  ["one character escaped near the end", (s) => `${s.slice(0, -2)}${uEscape(s.at(-2)!)}${s.at(-1)!}`],
  ["one character escaped, after a \\n", (s) => `\\n${s.slice(0, 20)}${uEscape(s[20]!)}${s.slice(21)}`],
];
const decode = (json: string): string => JSON.stringify(JSON.parse(json));
const known = knownSecrets([RELAY_TOKEN]);

describe("redactJson", () => {
  it.each(spellings.flatMap(([label, spell]) => [OAUTH_TOKEN, ANTHROPIC_API_KEY, OPENAI_KEY, RELAY_TOKEN].map((t) => [`${t.slice(0, 12)}, ${label}`, t, spell] as const)))(
    "%s: the decoded body holds no secret",
    (_label, token, spell) => {
      const body = `{"system":"key: ${spell(token)} end","n":1}`;
      const out = redactJson(body, known);
      expect(out).toBeDefined();
      expect(findLeaks(decode(out!))).toEqual([]);
      expect(findLeaks(out!)).toEqual([]);
      // The rest of the body is untouched and still JSON.
      expect(JSON.parse(out!)).toMatchObject({ n: 1 });
      expect((JSON.parse(out!) as { system: string }).system).toMatch(/^key: [\s\S]*…\[len=\d+ #[0-9a-f]{6}\] end$/);
    },
  );

  it("leaves text without escapes or secrets as it was", () => {
    expect(redactJson('{"a":"b\\n\\"c\\""}', known)).toBe('{"a":"b\\n\\"c\\""}');
    expect(redactJson("plain", known)).toBe("plain");
  });

  it("for every string a JSON encoder could write around a secret, decoding the output shows no secret", () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom(...ALL_TEST_SECRETS), fc.string(), fc.boolean(), (before, secret, after, asciiOnly) => {
        const json = JSON.stringify({ v: `${before}${secret}${after}` });
        const escaped = asciiOnly ? json.replace(/[-a-z]/g, (c) => uEscape(c)) : json;
        // Tokens with no vendor shape (a gateway's) are secrets when configured: all are here.
        const out = redactJson(escaped, knownSecrets(ALL_TEST_SECRETS));
        if (out === undefined) return; // withheld by the caller: nothing shown
        expect(findLeaks(decode(out))).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
