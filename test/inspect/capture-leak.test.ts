/**
 * The capture's shortcuts must not cost a secret (DESIGN §8, §11). It learns a client's
 * credentials (a key with no vendor shape is a secret only once the client presents it) when the
 * request starts, remembers redacted header values, and assembles plain JSON answers when read.
 * These cases each broke an earlier version of those shortcuts (found by an adversarial review).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { open, send } from "../helpers/client.js";
import { startInspectedRelay, type InspectedRelay } from "../helpers/inspected-relay.js";
import { mockedDefaults } from "../helpers/relay.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { findLeaks, RELAY_TOKEN } from "../fixtures/tokens.js";
import type { RequestDetail, RequestList } from "../../src/inspect/types.js";

/** Keys with no vendor shape: only what the client presented makes them secrets. */
const OWN = `gw_${"ownKEYq7zx".repeat(4)}`;
const ACTIVE = `gw_${"activeKEYq".repeat(4)}`;
const SPLIT = `gw_${"splitKEYq7".repeat(4)}`;
const COOKIE = `gw_${"cookieKEYq".repeat(4)}`;
const SPACED = `gw_${"spacedKEYq".repeat(4)}`;

let upstream: MockUpstream;
let x: InspectedRelay;
const T = `/_t/${RELAY_TOKEN}`;
let held: Array<() => void> = [];
let answered = 0;

beforeAll(async () => {
  upstream = await startMockUpstream((req, res) => {
    const url = req.url!;
    if (url.includes("spaced")) {
      // The same, spelled with a space before each colon (the way some JSON encoders write it).
      res.writeHead(200, { "content-type": "application/json" });
      res.end(`{"type":"message","content":[{"type":"text","text" : "key=${SPACED.slice(0, 20)}"},{"type":"text","text" : "${SPACED.slice(20)}"}]}`);
      return;
    }
    if (url.includes("blocks")) {
      // Two text blocks that are each harmless and together the key.
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ type: "message", content: [{ type: "text", text: `key=${SPLIT.slice(0, 20)}` }, { type: "text", text: SPLIT.slice(20) }] }));
      return;
    }
    const answer = () => {
      answered++;
      // What Anthropic sends on every answer: header names that look like secrets, values that change.
      const at = new Date(Date.UTC(2026, 11, 2, 3, 0, answered * 3)).toISOString();
      res.writeHead(200, {
        "content-type": "application/json",
        "anthropic-ratelimit-tokens-reset": at,
        "anthropic-ratelimit-input-tokens-reset": `${at}+1`,
        "anthropic-ratelimit-output-tokens-reset": `${at}+2`,
      });
      res.end(JSON.stringify({ type: "message", content: [{ type: "text", text: "ok" }] }));
    };
    if (url.includes("slow")) {
      req.resume();
      held.push(answer);
    } else answer();
  });
  x = await startInspectedRelay(mockedDefaults(upstream.url), { relayToken: RELAY_TOKEN });
});
afterAll(async () => {
  for (const answer of held) answer();
  await x.close();
  await upstream.close();
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe("what the capture learns and remembers", () => {
  it("a client's own key, presented on every request and quoted in its prompt, is redacted in all 70 of them (the upstream's rate-limit headers teach nothing)", async () => {
    const body = JSON.stringify({ model: "claude-test", messages: [{ role: "user", content: `my .env: GATEWAY_KEY=${OWN}; reset at 2026-12-02T03:00:03.000Z` }] });
    const first = (await x.api("api/requests")).json() as RequestList;
    for (let i = 0; i < 70; i++) {
      expect((await send(`${x.relay.url}${T}/v1/messages`, { body, headers: { "content-type": "application/json", "x-api-key": OWN } })).status).toBe(200);
    }
    const list = (await x.api("api/requests")).json() as RequestList;
    const mine = list.requests.filter((r) => !first.requests.some((f) => f.id === r.id));
    expect(mine).toHaveLength(70);
    for (const { id } of mine) {
      const detail = (await x.api(`api/requests/${id}`)).json() as RequestDetail;
      expect(findLeaks(JSON.stringify(detail), [OWN]), `request ${id}`).toEqual([]);
      // A timestamp is not a secret: the prompt keeps it.
      expect(detail.request.body!.text).toContain("reset at 2026-12-02T03:00:03.000Z");
    }
  });

  it("while a request runs, its own key quoted in its path and in another header is redacted in the live feed, the list and its first detail read", async () => {
    const feed = await open(`${x.relay.url}/_relay/api/events`, { headers: { "x-llm-relay-token": x.token } }).response;
    let live = "";
    feed.setEncoding("utf8");
    feed.on("data", (text: string) => (live += text));
    const pending = send(`${x.relay.url}${T}/v1/messages/slow?trace=${ACTIVE}`, {
      body: JSON.stringify({ model: "claude-test", messages: [] }),
      headers: { "content-type": "application/json", "x-api-key": ACTIVE, "x-trace": `t-${ACTIVE}` },
    });
    await until(() => held.length === 1);
    const list = (await x.api("api/requests")).json() as RequestList;
    const active = list.requests.at(-1)!;
    expect(active.state).toBe("active");
    const detail = (await x.api(`api/requests/${active.id}`)).json() as RequestDetail;
    expect(detail.decisions.find((d) => d.header === "x-trace")?.value).toMatch(/^t-…\[len=43 #[0-9a-f]{6}\]$/);
    held.shift()!();
    expect((await pending).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    feed.destroy();
    expect(live).toContain("event: request");
    for (const [where, text] of Object.entries({ list: JSON.stringify(list), detail: JSON.stringify(detail), events: live })) {
      expect(findLeaks(text, [ACTIVE]), where).toEqual([]);
    }
  });

  it("a JSON answer that splits the client's key across two text blocks: the assembly shows it redacted, the body text is withheld", async () => {
    const answer = await send(`${x.relay.url}${T}/v1/messages/blocks`, {
      body: JSON.stringify({ model: "claude-test", messages: [] }),
      headers: { "content-type": "application/json", "x-api-key": SPLIT },
    });
    expect(answer.status).toBe(200);
    const list = (await x.api("api/requests")).json() as RequestList;
    const text = (await x.api(`api/requests/${list.requests.at(-1)!.id}`)).text;
    const detail = JSON.parse(text) as RequestDetail;
    expect(detail.response!.assembled!.text).toMatch(/^key=…\[len=43 #[0-9a-f]{6}\]$/);
    expect(detail.response!.body!.withheld).toMatch(/split across content blocks/);
    expect(detail.response!.body!.text).toBeUndefined();
    expect(findLeaks(text, [SPLIT])).toEqual([]);
  });

  it("a request whose own cookie jar holds 64 values still has its key redacted in its prompt (one request teaches at most 8, its credential first)", async () => {
    const cookie = Array.from({ length: 64 }, (_, i) => `c${i}=cookievalue${i.toString().padStart(4, "0")}`).join("; ");
    const body = JSON.stringify({ model: "claude-test", messages: [{ role: "user", content: `my .env: GATEWAY_KEY=${COOKIE}` }] });
    expect((await send(`${x.relay.url}${T}/v1/messages`, { body, headers: { "content-type": "application/json", "x-api-key": COOKIE, cookie } })).status).toBe(200);
    const list = (await x.api("api/requests")).json() as RequestList;
    const text = (await x.api(`api/requests/${list.requests.at(-1)!.id}`)).text;
    expect((JSON.parse(text) as RequestDetail).request.body!.text).toMatch(/GATEWAY_KEY=…\[len=43 #[0-9a-f]{6}\]/);
    expect(findLeaks(text, [COOKIE])).toEqual([]);
  });

  it("text blocks keyed with a space before the colon are checked too: the split key is withheld", async () => {
    const answer = await send(`${x.relay.url}${T}/v1/messages/spaced`, { body: JSON.stringify({ model: "claude-test", messages: [] }), headers: { "content-type": "application/json", "x-api-key": SPACED } });
    expect(answer.status).toBe(200);
    const list = (await x.api("api/requests")).json() as RequestList;
    const text = (await x.api(`api/requests/${list.requests.at(-1)!.id}`)).text;
    const detail = JSON.parse(text) as RequestDetail;
    expect(detail.response!.body!.withheld).toMatch(/split across content blocks/);
    expect(findLeaks(text, [SPACED])).toEqual([]);
  });
});
