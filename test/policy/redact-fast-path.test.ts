/**
 * Redaction's fast path (issues 10 and 13): `mayHoldSecret` remembers the short strings it found
 * plain, per compiled set of known secrets, so a header value repeated on every request costs
 * one lookup. The memo must never change an answer: with a set that has seen thousands of
 * strings before, `redact`, `secretsIn` and `mayHoldSecret` say exactly what a freshly compiled
 * set says, for plain header values and for every §4 token and known value in every shape.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { knownSecrets, mayHoldSecret, NO_SECRETS, redact, secretsIn } from "../../src/policy/redact.js";
import { SHAPES } from "../fixtures/shapes.js";
import { ANTHROPIC_API_KEY, GOOGLE_API_KEY, GOOGLE_OAUTH, OAUTH_TOKEN, OPENAI_KEY, OPENROUTER_KEY } from "../fixtures/tokens.js";

const KNOWN = "relayTOKEN-4f9a1c77e2b0d3";
const CHARS = [..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:;,= \"'()[]<>?&%@+"];
/** Header values as clients send them, many repeated, a few carrying a secret. */
const PLAIN = ["application/json", "2023-06-01", "claude-cli/2.1.112 (external, cli)", "stainless-node", "en-US,*", "gzip, deflate", "keep-alive", "/v1/messages?beta=true", "300", "fine-grained-tool-streaming-2025-05-14,interleaved-thinking-2025-05-14"];
const secretValues = [KNOWN, OAUTH_TOKEN, ANTHROPIC_API_KEY, OPENAI_KEY, OPENROUTER_KEY, GOOGLE_API_KEY, GOOGLE_OAUTH];

const text = fc.oneof(
  fc.constantFrom(...PLAIN),
  fc.array(fc.constantFrom(...CHARS), { maxLength: 300 }).map((cs) => cs.join("")),
  fc.tuple(fc.constantFrom(...SHAPES.map(([, make]) => make)), fc.constantFrom(...secretValues), fc.constantFrom("", "x ", "Bearer ", "?a=1&q=")).map(([make, secret, before]) => `${before}${make(secret)}`),
  // A known secret's neighbour: one character changed, so the includes tests nearly match.
  fc.nat(KNOWN.length - 1).map((i) => `${KNOWN.slice(0, i)}#${KNOWN.slice(i + 1)}`),
);

describe("the remembered plain strings change no answer", () => {
  it.each([
    ["known secrets", () => knownSecrets([KNOWN]), () => knownSecrets([KNOWN])],
    // knownSecrets([]) is NO_SECRETS itself (its memo warm too): the cold one is a copy with empty memos.
    ["no known secrets", () => NO_SECRETS, () => ({ ...NO_SECRETS, clean: new Set<string>(), plain: new Set<string>() })],
  ])("with %s: redact, secretsIn and mayHoldSecret agree with a fresh set, first call and repeated", (_name, shared, fresh) => {
    const warm = shared();
    fc.assert(
      fc.property(text, (value) => {
        const cold = fresh();
        const expected = { may: mayHoldSecret(value, cold), out: redact(value, cold), found: secretsIn(value, cold) };
        for (let i = 0; i < 2; i++) {
          expect(mayHoldSecret(value, warm)).toBe(expected.may);
          expect(redact(value, warm)).toBe(expected.out);
          expect(secretsIn(value, warm)).toEqual(expected.found);
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it("a secret in a string is still found after thousands of plain strings filled the memo", () => {
    const warm = knownSecrets([KNOWN]);
    for (let i = 0; i < 5_000; i++) expect(mayHoldSecret(`x-request-${i}`, warm)).toBe(false);
    expect(redact(`id ${KNOWN}`, warm)).not.toContain(KNOWN);
    expect(redact(`Bearer ${OAUTH_TOKEN}`, warm)).not.toContain(OAUTH_TOKEN.slice(14));
  });
});
