/**
 * The capture store's shortcuts for throughput (DESIGN §11), driven through the relay's hooks:
 * hook calls are replayed in batches (every reader works them out first), bodies that needed no
 * redaction are kept as bytes in shared slabs (used again once their bodies are gone), and a header
 * list equal to the last one is shared. None may change what a reader sees.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CaptureStore } from "../../src/inspect/store.js";
import { BodyBytes } from "../../src/inspect/body.js";
import type { RequestRecord } from "../../src/log/record.js";
import type { PriceTable } from "../../src/pricing/cost.js";
import { gzipSync } from "node:zlib";
import v8 from "node:v8";
import vm from "node:vm";

/** The collector, to measure what is held rather than what is not yet collected. */
v8.setFlagsFromString("--expose-gc");
const collect = vm.runInNewContext("gc") as () => void;
/** Collected, and the freed buffers' memory given back (V8 frees it after the collection, in the background). */
async function settle() {
  for (let i = 0; i < 3; i++) {
    collect();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const record = (id: number, over: Partial<RequestRecord> = {}): RequestRecord => ({ type: "request", time: new Date().toISOString(), id, method: "POST", path: "/v1/messages", status: 200, stream: false, durationMs: 1, ...over });
const noPrices = async (): Promise<PriceTable> => (() => null) as unknown as PriceTable;
const store = (options: { maxBytes?: number; maxBodyBytes?: number; secrets?: string[] } = {}) =>
  new CaptureStore({ maxBytes: options.maxBytes, maxBodyBytes: options.maxBodyBytes, secrets: options.secrets ?? [], runSession: "run-test", baseUrlOf: () => undefined, prices: noPrices });

const VENDOR_KEY = `sk-ant-api03-${"batchKEYq7".repeat(9)}AA`;
/** No vendor shape: a secret only once a client presents it. */
const OPAQUE = `gw_${"opaqueKEYq".repeat(4)}`;

function exchange(s: CaptureStore, id: number, body: string, answer: string, headers: string[] = ["content-type", "application/json"], target = "/v1/messages") {
  const r = record(id);
  s.requestStart(r, { rawHeaders: headers, oauthForwarded: false, target });
  s.requestChunk(r, Buffer.from(body));
  s.responseStart(r, 200, { "content-type": "application/json" });
  s.responseChunk(r, Buffer.from(answer));
  s.requestEnd(r);
  return r;
}

describe("hook calls replayed in batches", () => {
  it("a read straight after the hooks (no turn of the event loop) sees the request, redacted", () => {
    const s = store();
    exchange(s, 1, JSON.stringify({ model: "m", note: `key ${VENDOR_KEY}` }), JSON.stringify({ content: [{ type: "text", text: "ok" }] }), ["x-api-key", VENDOR_KEY]);
    const list = s.list();
    expect(list.requests.map((r) => [r.id, r.state])).toEqual([[1, "done"]]);
    const detail = JSON.stringify(s.detail(1));
    expect(detail).toContain("sk-ant-api03-");
    expect(detail).not.toContain(VENDOR_KEY);
    expect(detail).not.toContain(VENDOR_KEY.slice(-8));
  });

  it("with nobody reading, waiting calls are worked out by the next turns, not kept", async () => {
    const s = store();
    for (let id = 1; id <= 10; id++) exchange(s, id, `{"n":${id}}`, `{"ok":${id}}`);
    expect(s.pendingCalls).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(s.pendingCalls).toBe(0);
  });

  it("a page listening hears each request start and end without reading anything", async () => {
    const s = store();
    const heard: string[] = [];
    s.subscribe((event) => {
      if (event.type === "request") heard.push(`${event.request.id}:${event.request.state}`);
    });
    const r = record(7);
    s.requestStart(r, { rawHeaders: [], oauthForwarded: false, target: "/v1/messages" });
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard).toEqual(["7:active"]);
    s.requestEnd(r);
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard.at(-1)).toBe("7:done");
  });

  it("waiting body bytes are bounded: many small chunks of one endless stream are worked out as they come", () => {
    const s = store({ maxBodyBytes: 64 * 1024 });
    const r = record(1, { stream: true });
    s.requestStart(r, { rawHeaders: [], oauthForwarded: false, target: "/v1/messages" });
    s.responseStart(r, 200, { "content-type": "text/event-stream" });
    const chunk = Buffer.from(`data: ${"x".repeat(1000)}\n\n`);
    let most = 0;
    for (let i = 0; i < 5000; i++) {
      s.responseChunk(r, chunk);
      most = Math.max(most, s.pendingCalls);
    }
    expect(most).toBeLessThanOrEqual(256);
  });
});

describe("bodies kept as bytes", () => {
  it.each([
    { name: "ASCII JSON", body: JSON.stringify({ model: "m", text: "hello" }) },
    { name: "non-ASCII text", body: JSON.stringify({ text: "größe 日本語 😀" }) },
    { name: "exactly 16 KiB", body: `{"p":"${"a".repeat(16 * 1024 - 8)}"}` },
    { name: "just over 16 KiB", body: `{"p":"${"a".repeat(16 * 1024 - 7)}"}` },
    { name: "empty", body: "" },
  ])("$name: served exactly as sent", async ({ body }) => {
    const s = store();
    exchange(s, 1, body, body);
    await s.settled();
    const detail = s.detail(1)!;
    expect(detail.request.body?.text).toBe(body);
    expect(detail.response?.body?.text).toBe(body);
    expect(detail.request.body?.bytes).toBe(Buffer.byteLength(body));
  });

  it("a gzip body is shown decoded; a body cut in a character keeps what decodes", async () => {
    const s = store({ maxBodyBytes: 11 });
    const r = record(1);
    s.requestStart(r, { rawHeaders: ["content-type", "application/json"], oauthForwarded: false, target: "/v1/messages" });
    s.requestChunk(r, Buffer.from("ééééééé"));
    s.requestEnd(r);
    const zipped = store();
    const z = record(2);
    zipped.requestStart(z, { rawHeaders: [], oauthForwarded: false, target: "/v1/messages" });
    zipped.responseStart(z, 200, { "content-type": "application/json", "content-encoding": "gzip" });
    zipped.responseChunk(z, gzipSync(Buffer.from('{"a":"é"}')));
    zipped.requestEnd(z);
    await s.settled();
    await zipped.settled();
    expect(s.detail(1)!.request.body).toMatchObject({ text: "ééééé", truncated: true, bytes: 14 });
    expect(zipped.detail(2)!.response?.body).toMatchObject({ text: '{"a":"é"}', encoding: "gzip" });
  });

  it("property: with bodies evicted and requests dropped in any order, every body shown is its own request's", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ pad: fc.string({ maxLength: 3000, unit: "grapheme" }), big: fc.boolean(), readAfter: fc.boolean(), endLater: fc.boolean() }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 4_000, max: 400_000 }),
        async (requests, maxBytes) => {
          const s = store({ maxBytes, maxBodyBytes: 40_000 });
          const open: RequestRecord[] = [];
          const sent = new Map<number, { body: string; answer: string }>();
          let id = 0;
          for (const one of requests) {
            const r = record(++id);
            const body = JSON.stringify({ id, pad: one.pad, big: one.big ? "b".repeat(20_000) : "" });
            const answer = JSON.stringify({ id, content: [{ type: "text", text: one.pad.split("").reverse().join("") }] });
            sent.set(id, { body, answer });
            s.requestStart(r, { rawHeaders: ["content-type", "application/json"], oauthForwarded: false, target: "/v1/messages" });
            s.requestChunk(r, Buffer.from(body));
            s.responseStart(r, 200, { "content-type": "application/json" });
            s.responseChunk(r, Buffer.from(answer));
            if (one.endLater) open.push(r);
            else s.requestEnd(r);
            if (one.readAfter) s.list();
            if (open.length > 3) s.requestEnd(open.shift()!);
          }
          for (const r of open) s.requestEnd(r);
          await s.settled();
          expect(s.heldBytes).toBeLessThanOrEqual(maxBytes);
          for (const summary of s.list().requests) {
            const detail = s.detail(summary.id)!;
            const { body, answer } = sent.get(summary.id)!;
            const req = detail.request.body;
            if (req?.text !== undefined) expect(req.text).toBe(body);
            else expect(req?.evicted).toBe(true);
            const res = detail.response?.body;
            if (res?.text !== undefined) expect(res.text).toBe(answer);
            else expect(res?.evicted).toBe(true);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("a header list equal to the last one", () => {
  it("is worked out afresh once a secret it carries became known (here from the next request's query)", async () => {
    const s = store();
    const headers = ["content-type", "application/json", "x-note", OPAQUE];
    exchange(s, 1, "{}", "{}", headers);
    // The same list, but this request also presents the value as its key in the query string.
    exchange(s, 2, "{}", "{}", [...headers], `/v1/messages?key=${OPAQUE}`);
    exchange(s, 3, "{}", "{}", [...headers]);
    await s.settled();
    for (const id of [2, 3]) {
      const shown = JSON.stringify(s.detail(id)!.request.headers);
      expect(shown, `request ${id}`).not.toContain(OPAQUE);
      expect(shown, `request ${id}`).not.toContain(OPAQUE.slice(-8));
    }
  });

  it("a client presenting its key on every request keeps it known while others come and go", async () => {
    const s = store();
    const mine = ["x-api-key", OPAQUE, "content-type", "application/json"];
    let id = 0;
    for (let round = 0; round < 30; round++) {
      exchange(s, ++id, "{}", "{}", [...mine]);
      // Other clients present 70 other keys: more than the capture remembers (64).
      for (let other = 0; other < 70; other++) exchange(s, ++id, "{}", "{}", ["x-api-key", `gw_other_${round}_${other}_${"q".repeat(20)}`]);
    }
    exchange(s, ++id, JSON.stringify({ text: `my key is ${OPAQUE}` }), "{}", [...mine]);
    await s.settled();
    const shown = JSON.stringify(s.detail(id));
    expect(shown).not.toContain(OPAQUE);
    expect(shown).not.toContain(OPAQUE.slice(-8));
  });
});

/** Found by an adversarial review of the batching; each case fails on the first version of it. */
describe("what the batching must not change", () => {
  it("a request's own credential redacts its bodies though 64 other clients' keys came before its end was worked out", async () => {
    const s = store();
    exchange(s, 1, JSON.stringify({ note: `my key is ${OPAQUE}` }), JSON.stringify({ echo: OPAQUE }), ["authorization", `Bearer ${OPAQUE}`, "content-type", "application/json"]);
    for (let i = 0; i < 64; i++) {
      await new Promise((resolve) => setImmediate(resolve));
      // Bodyless (two calls each): all 64 fit in one batch with the first request's end.
      const other = record(2 + i);
      s.requestStart(other, { rawHeaders: ["x-api-key", `other-client-key-${i}-${"x".repeat(12)}`], oauthForwarded: false, target: "/v1/messages" });
      s.requestEnd(other);
    }
    const shown = JSON.stringify(s.detail(1));
    expect(shown).not.toContain(OPAQUE);
    expect(shown).not.toContain(OPAQUE.slice(-8));
  });

  it("…and while it ran, 64 others started and ended", async () => {
    const s = store();
    const r = record(1);
    s.requestStart(r, { rawHeaders: ["x-api-key", OPAQUE], oauthForwarded: false, target: "/v1/messages" });
    s.requestChunk(r, Buffer.from(JSON.stringify({ note: `my key is ${OPAQUE}` })));
    for (let i = 0; i < 70; i++) exchange(s, 2 + i, "{}", "{}", ["x-api-key", `other-client-key-${i}-${"x".repeat(12)}`]);
    s.responseStart(r, 200, { "content-type": "application/json" });
    s.responseChunk(r, Buffer.from(JSON.stringify({ echo: OPAQUE })));
    s.requestEnd(r);
    await s.settled();
    const shown = JSON.stringify(s.detail(1));
    expect(shown).not.toContain(OPAQUE);
  });

  it("…and its own key quoted in its path stays redacted in the list, where the relay knew no such key", async () => {
    const s = store();
    const r = record(1, { path: `/v1/${OPAQUE}/messages` });
    s.requestStart(r, { rawHeaders: ["x-api-key", OPAQUE], oauthForwarded: false, target: `/v1/${OPAQUE}/messages` });
    for (let i = 0; i < 70; i++) exchange(s, 2 + i, "{}", "{}", ["x-api-key", `other-client-key-${i}-${"x".repeat(12)}`]);
    s.requestEnd(r);
    await s.settled();
    const shown = JSON.stringify([s.list().requests[0], s.detail(1)]);
    expect(shown).not.toContain(OPAQUE);
  });

  it("…and in response headers and the error that quote it, while it runs and after, though 64 cookie parts pushed it out", async () => {
    const s = store();
    const r = record(1);
    s.requestStart(r, { rawHeaders: ["authorization", `Bearer ${OPAQUE}`], oauthForwarded: false, target: "/v1/messages" });
    s.responseStart(r, 401, { "content-type": "application/json", "x-upstream-note": `invalid credential ${OPAQUE}` });
    for (let i = 0; i < 8; i++) {
      const cookie = Array.from({ length: 8 }, (_, k) => `c${k}=cookie-part-${i}-${k}-${"z".repeat(12)}`).join("; ");
      exchange(s, 2 + i, "{}", "{}", ["cookie", cookie]);
    }
    const running = JSON.stringify([s.detail(1), s.list().requests[0]]);
    expect(running).not.toContain(OPAQUE);
    r.status = 401;
    r.error = `upstream 401: invalid key ${OPAQUE}`;
    s.requestEnd(r);
    await s.settled();
    // More clients later: what was kept of it stays redacted.
    for (let i = 0; i < 70; i++) exchange(s, 100 + i, "{}", "{}", ["x-api-key", `later-client-key-${i}-${"y".repeat(12)}`]);
    const ended = JSON.stringify([s.detail(1), s.list().requests[0], s.session("run-test")]);
    expect(ended).not.toContain(OPAQUE);
  });

  it("secrets a request carries beyond the 8 it teaches (a 10-part cookie) still redact its own headers and session", async () => {
    const s = store();
    const parts = Array.from({ length: 10 }, (_, k) => `part-${k}-secretvalue-${"q".repeat(8)}`);
    const cookie = parts.map((p, k) => `c${k}=${p}`).join("; ");
    exchange(s, 1, JSON.stringify({ note: parts[9] }), "{}", ["cookie", cookie, "referer", `https://app/?s=${parts[9]}`, "x-claude-code-session-id", parts[9]!]);
    await s.settled();
    const shown = JSON.stringify([s.detail(1), s.sessions()]);
    for (const part of parts) expect(shown).not.toContain(part);
  });

  it("one request's query string teaches at most 8 secrets: it cannot push out every other client's key", async () => {
    const s = store();
    const mine = record(1);
    s.requestStart(mine, { rawHeaders: ["x-api-key", OPAQUE], oauthForwarded: false, target: "/v1/messages" });
    const flood = Array.from({ length: 64 }, (_, i) => `key=flood-${i}-${"f".repeat(16)}`).join("&");
    exchange(s, 2, "{}", "{}", [], `/v1/messages?${flood}`);
    s.requestEnd(mine);
    // Another request (no credential of its own) quotes the key: it is still known.
    exchange(s, 3, JSON.stringify({ note: `the gateway key is ${OPAQUE}` }), "{}");
    await s.settled();
    expect(JSON.stringify(s.detail(3))).not.toContain(OPAQUE);
  });

  it("text beyond Latin-1 counts two bytes a character toward maxBytes", async () => {
    const s = store();
    // A key in it: redacted, so kept as text (not bytes).
    const text = `${"日本語".repeat(1000)} ${VENDOR_KEY}`;
    const before = s.heldBytes;
    exchange(s, 1, JSON.stringify({ text }), "{}");
    await s.settled();
    expect(s.heldBytes - before).toBeGreaterThanOrEqual(2 * 3000);
  });

  it("a throwing page listener costs a warning, not the relay nor the calls after it", async () => {
    const s = store();
    let heard = 0;
    s.subscribe(() => {
      if (++heard === 1) throw new Error("listener bug");
    });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on("warning", onWarning);
    try {
      const [a, b] = [record(1), record(2)];
      s.requestStart(a, { rawHeaders: [], oauthForwarded: false, target: "/" });
      s.requestStart(b, { rawHeaders: [], oauthForwarded: false, target: "/" });
      s.requestEnd(a);
      s.requestEnd(b);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(s.list().requests.map((r) => `${r.id}:${r.state}`)).toEqual(["1:done", "2:done"]);
      expect(warnings.join("\n")).toMatch(/capture failed/);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("slabs a late small body keeps alive count toward maxBytes: requests finishing out of order cannot hold more than the bound", async () => {
    const maxBytes = 4 * 1024 * 1024;
    const s = store({ maxBytes, maxBodyBytes: 64 * 1024 });
    await settle();
    const before = process.memoryUsage().arrayBuffers;
    let id = 0;
    const start = () => {
      const r = record(++id);
      s.requestStart(r, { rawHeaders: ["content-type", "application/json"], oauthForwarded: false, target: "/v1/messages" });
      return r;
    };
    const finish = (r: RequestRecord, n: number) => {
      s.responseStart(r, 200, { "content-type": "text/plain" });
      s.responseChunk(r, Buffer.alloc(n, 0x61));
      s.requestEnd(r);
    };
    // 1,260 requests in flight; they end 63 at a time (16 KiB answers), each round with one short request whose 1-byte answer lands in the same slab.
    const longs = Array.from({ length: 63 * 20 }, start);
    for (let k = 0; k < 20; k++) {
      for (let j = 0; j < 63; j++) finish(longs[k * 63 + j]!, 16 * 1024);
      finish(start(), 1);
      expect(s.heldBytes).toBeLessThanOrEqual(maxBytes);
    }
    expect(s.list().capture.bytes).toBeLessThanOrEqual(maxBytes);
    // What the capture holds outside the JS heap stays within the bound (and its two spare slabs).
    await settle();
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThanOrEqual(maxBytes + 2 * BodyBytes.slabSizeFor(maxBytes));
  });
});
