/**
 * The capture store driven through the relay's observer hooks directly (DESIGN §11): which
 * session a request lands in, and the byte bound when requests end faster than the deferred
 * finishing runs.
 */
import { describe, expect, it } from "vitest";
import { CaptureStore } from "../../src/inspect/store.js";
import type { RequestRecord } from "../../src/log/record.js";
import type { PriceTable } from "../../src/pricing/cost.js";

const record = (id: number): RequestRecord => ({ type: "request", time: new Date().toISOString(), id, method: "POST", path: "/v1/messages", status: 200, stream: false, durationMs: 1 });
const noPrices = async (): Promise<PriceTable> => (() => null) as unknown as PriceTable;
const store = (options: { maxBytes?: number; maxBodyBytes?: number } = {}) =>
  new CaptureStore({ ...options, secrets: [], runSession: "run-test", baseUrlOf: () => undefined, prices: noPrices });

describe("the session a request lands in", () => {
  it.each([
    { name: "Claude Code's header", headers: ["x-claude-code-session-id", "abc-123"], session: "abc-123" },
    { name: "the header in another case", headers: ["X-Claude-Code-Session-Id", "abc-123"], session: "abc-123" },
    { name: "a blank first copy, then a real one", headers: ["X-Claude-Code-Session-Id", " ", "x-claude-code-session-id", "abc-123"], session: "abc-123" },
    { name: "unsafe characters", headers: ["x-claude-code-session-id", "a/b c"], session: "a_b_c" },
    { name: "no header", headers: ["content-type", "application/json"], session: "run-test" },
    { name: "only blank copies", headers: ["x-claude-code-session-id", "  "], session: "run-test" },
  ])("$name → $session", async ({ headers, session }) => {
    const s = store();
    const r = record(1);
    s.requestStart(r, { rawHeaders: headers, oauthForwarded: false, target: "/v1/messages" });
    s.requestEnd(r);
    await s.settled();
    expect(s.sessions().sessions.map((x) => x.id)).toEqual([session]);
  });
});

describe("inspect.maxBytes when requests end in bursts", () => {
  it("requests dropped between their end and the deferred finishing give their bytes back: the bound holds", async () => {
    const s = store({ maxBytes: 6000, maxBodyBytes: 1000 });
    let id = 0;
    for (let round = 0; round < 50; round++) {
      // Five requests start and end within one turn of the event loop; finishing runs after.
      for (let i = 0; i < 5; i++) {
        const r = record(++id);
        s.requestStart(r, { rawHeaders: ["Content-Type", "application/json", "User-Agent", `ua-${"x".repeat(400)}-${id}`], oauthForwarded: false, target: "/v1/messages" });
        s.requestChunk(r, Buffer.from(JSON.stringify({ model: "m", pad: "y".repeat(300) })));
        s.responseStart(r, 200, { "content-type": "application/json" });
        s.responseChunk(r, Buffer.from(JSON.stringify({ content: [{ type: "text", text: "z".repeat(300) }] })));
        s.requestEnd(r);
      }
      await s.settled();
      expect(s.heldBytes, `round ${round}`).toBeLessThanOrEqual(6000);
    }
    const { requests } = s.list();
    expect(requests.length).toBeGreaterThan(0);
    // Every request still counts in its session.
    expect(s.sessions().sessions[0]!.requests).toBe(250);
  });
});

describe("a Basic credential", () => {
  it("teaches its password: a response quoting it shows it redacted", () => {
    const password = "hunter2-but-much-longer-0042";
    const s = store();
    const r = record(1);
    s.requestStart(r, { rawHeaders: ["authorization", `Basic ${Buffer.from(`alice:${password}`).toString("base64")}`], oauthForwarded: false, target: "/v1/messages" });
    s.responseStart(r, 200, { "content-type": "application/json" });
    s.responseChunk(r, Buffer.from(JSON.stringify({ error: { message: `bad password ${password}` } })));
    s.requestEnd(r);
    const shown = JSON.stringify(s.detail(1));
    expect(shown).toContain("bad password");
    expect(shown).not.toContain(password);
    expect(shown).not.toContain(password.slice(-8));
  });
});
