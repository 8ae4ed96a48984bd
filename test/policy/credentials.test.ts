/**
 * `classifyCredential` (DESIGN §4): every kind, the case rules (scheme case-insensitive, token
 * prefix case-sensitive) and the whitespace rules, as one table.
 */
import { describe, expect, it } from "vitest";
import { classifyCredential, tokenEquals, type CredentialKind } from "../../src/policy/credentials.js";
import {
  ANTHROPIC_API_KEY,
  GATEWAY_TOKEN,
  GOOGLE_API_KEY,
  GOOGLE_OAUTH,
  OAUTH_TOKEN,
  OPENAI_KEY,
  OPENROUTER_KEY,
  RELAY_TOKEN,
} from "../fixtures/tokens.js";

type Row = [label: string, value: string | undefined, kind: CredentialKind, token: string, bearer: boolean];

const rows: Row[] = [
  // anthropic-oauth: raw and after the Bearer scheme in any case (RFC 9110 §11.1: scheme is case-insensitive)
  ["oat01 raw", "sk-ant-oat01-abc", "anthropic-oauth", "sk-ant-oat01-abc", false],
  ["oat02 raw", "sk-ant-oat02-xyz", "anthropic-oauth", "sk-ant-oat02-xyz", false],
  ["oat01 after Bearer", "Bearer sk-ant-oat01-abc", "anthropic-oauth", "sk-ant-oat01-abc", true],
  ["oat02 after Bearer", "Bearer sk-ant-oat02-xyz", "anthropic-oauth", "sk-ant-oat02-xyz", true],
  ["after bearer (lower)", "bearer sk-ant-oat01-abc", "anthropic-oauth", "sk-ant-oat01-abc", true],
  ["after BEARER (upper)", "BEARER sk-ant-oat02-xyz", "anthropic-oauth", "sk-ant-oat02-xyz", true],
  ["after bEaReR (mixed)", "bEaReR sk-ant-oat01-abc", "anthropic-oauth", "sk-ant-oat01-abc", true],
  ["sk-ant-oat alone", "sk-ant-oat", "anthropic-oauth", "sk-ant-oat", false],
  ["Bearer sk-ant-oat alone", "Bearer sk-ant-oat", "anthropic-oauth", "sk-ant-oat", true],
  ["realistic-length token", `Bearer ${OAUTH_TOKEN}`, "anthropic-oauth", OAUTH_TOKEN, true],
  // the token prefix is case-sensitive: these are not OAuth tokens
  ["sk-ant-OAT01 (upper OAT)", "sk-ant-OAT01-abc", "anthropic-api-key", "sk-ant-OAT01-abc", false],
  ["SK-ANT-OAT01 (all upper)", "SK-ANT-OAT01-abc", "unknown", "SK-ANT-OAT01-abc", false],
  ["Bearer SK-ANT-OAT01", "Bearer SK-ANT-OAT01-abc", "unknown", "SK-ANT-OAT01-abc", true],
  // whitespace, decided: surrounding whitespace is not part of a field value (RFC 9110 §5.5),
  // and 1*SP separates scheme and token (§11.4); we also accept HTAB there, because failing to
  // recognise an OAuth token would send it on as "unknown" to any provider.
  ["leading space", " sk-ant-oat01-abc", "anthropic-oauth", "sk-ant-oat01-abc", false],
  ["leading space before Bearer", " Bearer sk-ant-oat01-abc", "anthropic-oauth", "sk-ant-oat01-abc", true],
  ["trailing space", "Bearer sk-ant-oat01-abc ", "anthropic-oauth", "sk-ant-oat01-abc", true],
  ["double space after Bearer", "Bearer  sk-ant-oat01-abc", "anthropic-oauth", "sk-ant-oat01-abc", true],
  ["tab after Bearer", "Bearer\tsk-ant-oat01-abc", "anthropic-oauth", "sk-ant-oat01-abc", true],
  ["no space after Bearer", "Bearersk-ant-oat01-abc", "unknown", "Bearersk-ant-oat01-abc", false],
  // nothing to classify
  ["Bearer with nothing after", "Bearer ", "none", "", true],
  ["Bearer alone", "Bearer", "none", "", true],
  ["empty string", "", "none", "", false],
  ["only spaces", "   ", "none", "", false],
  ["missing (undefined)", undefined, "none", "", false],
  // every other kind of §4
  ["anthropic api key", "sk-ant-api03-abc", "anthropic-api-key", "sk-ant-api03-abc", false],
  ["anthropic api key after Bearer", `Bearer ${ANTHROPIC_API_KEY}`, "anthropic-api-key", ANTHROPIC_API_KEY, true],
  ["anthropic admin key", "sk-ant-admin01-abc", "anthropic-api-key", "sk-ant-admin01-abc", false],
  ["openai project key", OPENAI_KEY, "openai-key", OPENAI_KEY, false],
  ["openai service account key", "sk-svcacct-abc", "openai-key", "sk-svcacct-abc", false],
  ["openai admin key", "Bearer sk-admin-abc", "openai-key", "sk-admin-abc", true],
  ["openai legacy sk- key", "sk-abc123", "openai-key", "sk-abc123", false],
  ["openrouter key", `Bearer ${OPENROUTER_KEY}`, "openrouter-key", OPENROUTER_KEY, true],
  ["google oauth", `Bearer ${GOOGLE_OAUTH}`, "google-oauth", GOOGLE_OAUTH, true],
  ["google api key", GOOGLE_API_KEY, "google-api-key", GOOGLE_API_KEY, false],
  ["google prefix is case-sensitive", "aiza-abc", "unknown", "aiza-abc", false],
  ["unknown gateway token", `Bearer ${GATEWAY_TOKEN}`, "unknown", GATEWAY_TOKEN, true],
  ["unknown raw", "hello", "unknown", "hello", false],
  ["other auth scheme stays whole", "Basic dXNlcjpwYXNz", "unknown", "Basic dXNlcjpwYXNz", false],
  // decided: a known vendor token under another scheme is still that vendor's secret, so the
  // policy keeps it from other providers instead of relaying it as "unknown"
  ["OAuth token under another scheme", "Token sk-ant-oat01-abc", "anthropic-oauth", "sk-ant-oat01-abc", false],
  ["API key under another scheme", `Key ${OPENAI_KEY}`, "openai-key", OPENAI_KEY, false],
];

describe("classifyCredential", () => {
  it.each(rows)("%s", (_label, value, kind, token, bearer) => {
    expect(classifyCredential(value)).toEqual({ kind, token, bearer });
  });

  it.each([
    ["raw", RELAY_TOKEN, true],
    ["after Bearer", `Bearer ${RELAY_TOKEN}`, true],
    ["one character short", RELAY_TOKEN.slice(0, -1), false],
    ["one character different", `${RELAY_TOKEN.slice(0, -1)}!`, false],
    ["longer", `${RELAY_TOKEN}x`, false],
  ])("relay token %s → relay-token only on an exact match", (_label, value, isRelay) => {
    const kind = classifyCredential(value, RELAY_TOKEN).kind;
    expect(kind === "relay-token").toBe(isRelay);
  });

  it("the relay token check wins over a vendor prefix (a relay token may look like any key)", () => {
    expect(classifyCredential(`Bearer ${OPENAI_KEY}`, OPENAI_KEY).kind).toBe("relay-token");
  });
});

describe("tokenEquals (constant-time compare)", () => {
  it.each([
    ["equal", "abcdef0123456789", "abcdef0123456789", true],
    ["different last byte", "abcdef0123456788", "abcdef0123456789", false],
    ["shorter", "abc", "abcdef0123456789", false],
    ["longer", "abcdef0123456789!", "abcdef0123456789", false],
    ["empty", "", "abcdef0123456789", false],
    ["non-ASCII same length in UTF-16, different in bytes", "é", "e", false],
  ])("%s", (_label, a, b, equal) => {
    expect(tokenEquals(a, b)).toBe(equal);
  });
});
