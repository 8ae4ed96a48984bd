/**
 * A body cut off inside a known secret (DESIGN §8, §11): kept only up to `maxBodyBytes`, or an
 * exchange that broke off mid-stream, it ends in the secret's first characters, which no whole-
 * secret match sees. Whatever the inspector shows of it (text, stream events, assembled text)
 * must not hold that beginning.
 */
import { describe, expect, it } from "vitest";
import { CaptureStore } from "../../src/inspect/store.js";
import { redactCutTail, knownSecrets } from "../../src/policy/redact.js";
import type { RequestRecord } from "../../src/log/record.js";
import type { PriceTable } from "../../src/pricing/cost.js";

/** A configured key with no vendor shape: only the config makes it a secret. */
const CONFIG_KEY = `cfgOpaque_${"m3Xw".repeat(8)}`;
const noPrices = async (): Promise<PriceTable> => (() => null) as unknown as PriceTable;
const record = (id: number, over: Partial<RequestRecord> = {}): RequestRecord => ({ type: "request", time: new Date().toISOString(), id, method: "POST", path: "/v1/messages", status: 200, stream: false, durationMs: 1, ...over });
const store = (maxBodyBytes = 4096) => new CaptureStore({ maxBytes: 8 * 1024 * 1024, maxBodyBytes, secrets: [CONFIG_KEY], runSession: "run-test", baseUrlOf: () => undefined, prices: noPrices });

describe("redactCutTail", () => {
  const known = knownSecrets([CONFIG_KEY]);
  it.each([
    [`{"k":"${CONFIG_KEY.slice(0, -2)}`, `{"k":"…[secret cut off: ${CONFIG_KEY.length - 2} chars]`],
    [`{"k":"${CONFIG_KEY.slice(0, 6)}`, `{"k":"…[secret cut off: 6 chars]`],
    // Fewer than 6 characters say nothing of the secret; a whole one is for redact(), not this.
    [`{"k":"${CONFIG_KEY.slice(0, 5)}`, `{"k":"${CONFIG_KEY.slice(0, 5)}`],
    [`{"k":"other"}`, `{"k":"other"}`],
  ])("%s → %s", (text, expected) => {
    expect(redactCutTail(text, known)).toBe(expected);
  });
});

describe("bodies cut inside a known secret", () => {
  it("a request body kept up to maxBodyBytes shows none of the secret's beginning", () => {
    const prefix = `{"note":"`;
    const cutAt = prefix.length + CONFIG_KEY.length - 2;
    const s = store(cutAt);
    const r = record(1);
    s.requestStart(r, { rawHeaders: ["content-type", "application/json"], oauthForwarded: false, target: "/v1/messages" });
    s.requestChunk(r, Buffer.from(`${prefix}${CONFIG_KEY}"}`));
    s.requestEnd(r);
    const body = s.detail(1)!.request.body!;
    expect(body.truncated).toBe(true);
    expect(body.text).toBe(`${prefix}…[secret cut off: ${CONFIG_KEY.length - 2} chars]`);
    expect(JSON.stringify(s.detail(1))).not.toContain(CONFIG_KEY.slice(0, 12));
  });

  it("a stream that broke off inside a secret shows none of its beginning, in the text or assembled", () => {
    const s = store();
    const r = record(2, { stream: true });
    s.requestStart(r, { rawHeaders: [], oauthForwarded: false, target: "/v1/messages" });
    s.responseStart(r, 200, { "content-type": "text/event-stream" });
    const delta = (text: string) => `event: content_block_delta\ndata: ${JSON.stringify({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } })}\n\n`;
    s.responseChunk(r, Buffer.from(`event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n`));
    // The model's text is the key; the upstream broke off three characters before its end.
    s.responseChunk(r, Buffer.from(delta(CONFIG_KEY).slice(0, -("\"}}\n\n".length + 3))));
    r.error = "upstream closed the stream early";
    s.requestEnd(r);
    const shown = JSON.stringify(s.detail(2));
    expect(shown).not.toContain(CONFIG_KEY.slice(0, 12));
    expect(shown).toContain("secret cut off");
  });
});
