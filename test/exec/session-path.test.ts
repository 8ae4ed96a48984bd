/**
 * exec's log shows the path the child asked for: the session's own `/_t/<token>` prefix (already
 * redacted by the relay) is taken off, and nothing else is.
 */
import { describe, expect, it } from "vitest";
import { sessionPath } from "../../src/exec/session-log.js";
import { redact, knownSecrets, redactToken } from "../../src/policy/redact.js";
import { findLeaks, RELAY_TOKEN } from "../fixtures/tokens.js";

const OURS = `/_t/${redactToken(RELAY_TOKEN)}`;
const OTHER = `/_t/${redactToken("someOtherRelayTokenXXXXXXXXXXXXXXXXXXXXXXX")}`;

describe("sessionPath", () => {
  it.each<[string, string, string]>([
    ["the session prefix", `${OURS}/v1/messages`, "/v1/messages"],
    ["with a query", `${OURS}/v1/messages?beta=true`, "/v1/messages?beta=true"],
    ["a doubled prefix", `${OURS}${OURS}/v1/messages`, "/v1/messages"],
    ["the prefix alone", OURS, "/"],
    ["the prefix and a query only", `${OURS}?x=1`, "/?x=1"],
    ["no prefix (a request without the token)", "/v1/messages", "/v1/messages"],
    ["another token's prefix stays (redacted)", `${OTHER}/v1/messages`, `${OTHER}/v1/messages`],
    ["our prefix as a longer segment's start is not ours", `${OURS}x/v1/messages`, `${OURS}x/v1/messages`],
    ["our prefix later in the path stays", `/openai${OURS}/v1`, `/openai${OURS}/v1`],
  ])("%s", (_name, shown, expected) => {
    expect(sessionPath(shown, OURS)).toBe(expected);
  });

  it("takes off exactly what the relay's redaction of the token path produces", () => {
    const shown = redact(`/_t/${RELAY_TOKEN}/v1/messages?beta=true`, knownSecrets([RELAY_TOKEN]));
    expect(findLeaks(shown, [RELAY_TOKEN])).toEqual([]);
    expect(sessionPath(shown, OURS)).toBe("/v1/messages?beta=true");
  });
});
