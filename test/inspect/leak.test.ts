/**
 * No secret leaves through the inspector (DESIGN §8, §11): with every test secret placed in
 * request headers, the query, the request body's text and a streamed response's data, none of
 * them (raw, base64, URL-encoded, last 8 characters) is in any API answer, SSE event, the page,
 * or either export. The relay token, the page token and a configured key are secrets too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gzipSync } from "node:zlib";
import { open, readAll, send } from "../helpers/client.js";
import { startInspectedRelay, type InspectedRelay } from "../helpers/inspected-relay.js";
import { mockedDefaults } from "../helpers/relay.js";
import { sseFrame, startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import {
  ALL_TEST_SECRETS,
  ANTHROPIC_API_KEY,
  findLeaks,
  GATEWAY_TOKEN,
  GOOGLE_API_KEY,
  GOOGLE_OAUTH,
  INJECTED_KEY,
  OAUTH_TOKEN,
  OAUTH_TOKEN_2,
  OPENAI_KEY,
  OPENROUTER_KEY,
  RELAY_TOKEN,
} from "../fixtures/tokens.js";
import type { RequestList, SessionList } from "../../src/inspect/types.js";

let upstream: MockUpstream;
let x: InspectedRelay;
const T = `/_t/${RELAY_TOKEN}`;

beforeAll(async () => {
  upstream = await startMockUpstream((req, res) => {
    // The upstream echoes secrets back: in SSE data, in a JSON body, in a header, gzipped.
    if (req.url!.includes("plain")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
      return;
    }
    if (req.url!.includes("gzip")) {
      const body = gzipSync(JSON.stringify({ type: "message", content: [{ type: "text", text: `key ${OPENAI_KEY} and ${OAUTH_TOKEN}` }] }));
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip", "content-length": body.length });
      res.end(body);
      return;
    }
    res.writeHead(200, { "content-type": "text/event-stream", "x-echo": `Bearer ${OAUTH_TOKEN_2}` });
    res.write(sseFrame({ event: "message_start", data: { type: "message_start", message: { usage: { input_tokens: 3, output_tokens: 1 } } } }));
    res.write(sseFrame({ event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: `here: ${ANTHROPIC_API_KEY} ${GOOGLE_OAUTH} ${RELAY_TOKEN}` } } }));
    res.write(sseFrame({ event: "content_block_delta", data: { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: `{"k":"${OPENROUTER_KEY}"}` } } }));
    res.end(sseFrame({ event: "message_stop", data: { type: "message_stop" } }));
  });
  x = await startInspectedRelay(
    {
      providers: {
        ...mockedDefaults(upstream.url).providers,
        injected: { kind: "anthropic", baseUrl: `${upstream.url}/injected`, apiKey: { env: "TEST_INJECTED_KEY" } },
      },
    },
    { relayToken: RELAY_TOKEN, env: { TEST_INJECTED_KEY: INJECTED_KEY } },
  );
});
afterAll(async () => {
  await x.close();
  await upstream.close();
});

describe("no secret in anything the inspector serves", () => {
  it("headers, query, body text, SSE data, compressed bodies: API, events, page and exports are clean", async () => {
    const secrets = [...ALL_TEST_SECRETS, x.token];
    const feed = await open(`${x.relay.url}/_relay/api/events`, { headers: { "x-llm-relay-token": x.token } }).response;
    let live = "";
    feed.setEncoding("utf8");
    feed.on("data", (text: string) => (live += text));

    const body = JSON.stringify({
      model: "claude-test",
      stream: true,
      system: `use ${GATEWAY_TOKEN} and ${GOOGLE_API_KEY}`,
      messages: [{ role: "user", content: `my keys: ${OPENAI_KEY}, ${encodeURIComponent(OAUTH_TOKEN)}, ${Buffer.from(ANTHROPIC_API_KEY).toString("base64")}, ${x.token}, ${INJECTED_KEY}` }],
    });
    const sessionHeader = { "x-claude-code-session-id": "leak-session" };
    // Vendor keys a client presented once are redacted wherever else they turn up later (the
    // SSE data below). Keys never presented at all are found by shape (policy/redact.ts).
    const vendorKeys = [OAUTH_TOKEN, OAUTH_TOKEN_2, ANTHROPIC_API_KEY, OPENAI_KEY, OPENROUTER_KEY, GOOGLE_OAUTH, GOOGLE_API_KEY];
    for (const key of vendorKeys) {
      const presented = await send(`${x.relay.url}${T}/v1/chat/completions/plain`, { body: "{}", headers: { ...sessionHeader, "content-type": "application/json", authorization: `Bearer ${key}` } });
      expect(presented.status).toBe(200);
    }
    const requests = [
      send(`${x.relay.url}${T}/v1/messages?key=${GOOGLE_API_KEY}&token=${x.token}`, {
        body,
        headers: { ...sessionHeader, "content-type": "application/json", authorization: `Bearer ${OAUTH_TOKEN}`, "x-goog-api-key": GOOGLE_API_KEY, "x-trace": `t-${RELAY_TOKEN}`, "x-custom": `token=${OPENROUTER_KEY}`, cookie: `s=${GATEWAY_TOKEN}` },
      }),
      send(`${x.relay.url}/injected/v1/messages/gzip`, {
        body,
        headers: { ...sessionHeader, "content-type": "application/json", "x-llm-relay-token": RELAY_TOKEN, "x-api-key": ANTHROPIC_API_KEY },
      }),
      send(`${x.relay.url}${T}/v1/chat/completions/gzip`, { body, headers: { ...sessionHeader, "content-type": "application/json", authorization: `Bearer ${OPENAI_KEY}`, "api-key": OPENAI_KEY } }),
      // refused (wrong relay token): recorded, and clean too
      send(`${x.relay.url}/_t/${RELAY_TOKEN.slice(0, -1)}x/v1/messages?api_key=${GATEWAY_TOKEN}`, { body, headers: { "x-api-key": OAUTH_TOKEN_2 } }),
    ];
    const statuses = (await Promise.all(requests)).map((r) => r.status);
    expect(statuses).toEqual([200, 200, 200, 401]);

    const list = (await x.api("api/requests")).json() as RequestList;
    expect(list.requests).toHaveLength(vendorKeys.length + 4);
    const outputs: Record<string, string> = { list: JSON.stringify(list) };
    for (const r of list.requests) outputs[`request ${r.id}`] = (await x.api(`api/requests/${r.id}`)).text;
    const { sessions } = (await x.api("api/sessions")).json() as SessionList;
    outputs.sessions = JSON.stringify(sessions);
    for (const s of sessions) {
      outputs[`${s.id}.har`] = (await x.api(`api/sessions/${s.id}.har`)).text;
      outputs[`${s.id}.html`] = (await x.api(`api/sessions/${s.id}.html`)).text;
    }
    outputs.page = (await x.api("")).text;
    // The capture really holds the texts (redacted), so the check below is not vacuous.
    const details = list.requests.map((r) => outputs[`request ${r.id}`]).join("\n");
    expect(details).toContain("my keys: ");
    expect(details).toContain("here: ");
    expect(details).toContain("key sk-proj-…[len=");
    expect(outputs["leak-session.har"]).toContain("my keys: ");

    await new Promise((r) => setTimeout(r, 100));
    feed.destroy();
    outputs.events = live;
    expect(live).toContain("event: request");

    for (const [where, text] of Object.entries(outputs)) expect(findLeaks(text, secrets), where).toEqual([]);
  });
});
