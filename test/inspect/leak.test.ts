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
import type { RequestDetail, RequestList, SessionList } from "../../src/inspect/types.js";

const pieces = (text: string, size: number): string[] => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));
const uEscape = (text: string): string => [...text].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
/** What a JSON reader sees: escapes (however deeply nested in JSON-in-JSON) decoded. */
function unescaped(text: string): string {
  let out = text;
  for (let i = 0; i < 4; i++) out = out.replaceAll("\\\\", "\\").replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return out;
}

let upstream: MockUpstream;
let x: InspectedRelay;
const T = `/_t/${RELAY_TOKEN}`;

beforeAll(async () => {
  upstream = await startMockUpstream((req, res) => {
    if (req.url!.includes("split")) {
      // A model echoing a .env file into a tool call: the key arrives in pieces no pattern matches.
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(sseFrame({ event: "message_start", data: { type: "message_start", message: { usage: { input_tokens: 3, output_tokens: 1 } } } }));
      res.write(sseFrame({ event: "content_block_start", data: { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } } }));
      for (const piece of pieces(`the key is ${ANTHROPIC_API_KEY} ok`, 4)) {
        res.write(sseFrame({ event: "content_block_delta", data: { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: piece } } }));
      }
      res.write(sseFrame({ event: "content_block_start", data: { type: "content_block_start", index: 1, content_block: { type: "tool_use", id: "toolu_1", name: "Bash", input: {} } } }));
      for (const piece of pieces(JSON.stringify({ command: `export OPENAI_API_KEY=${OPENAI_KEY}` }), 10)) {
        res.write(sseFrame({ event: "content_block_delta", data: { type: "content_block_delta", index: 1, delta: { type: "input_json_delta", partial_json: piece } } }));
      }
      res.end(sseFrame({ event: "message_stop", data: { type: "message_stop" } }));
      return;
    }
    if (req.url!.includes("escaped")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(`{"type":"message","content":[{"type":"text","text":"${uEscape(OAUTH_TOKEN_2)}"}]}`);
      return;
    }
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

/** Everything `api/events` sends from now until `stop()` (which waits 100 ms for the last events). */
async function watchEvents(): Promise<{ stop(): Promise<string> }> {
  const feed = await open(`${x.relay.url}/_relay/api/events`, { headers: { "x-llm-relay-token": x.token } }).response;
  let live = "";
  feed.setEncoding("utf8");
  feed.on("data", (text: string) => (live += text));
  return {
    async stop() {
      await new Promise((r) => setTimeout(r, 100));
      feed.destroy();
      return live;
    },
  };
}

describe("no secret in anything the inspector serves", () => {
  it("headers, query, body text, SSE data, compressed bodies: API, events, page and exports are clean", async () => {
    const secrets = [...ALL_TEST_SECRETS, x.token];
    const feed = await watchEvents();

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

    outputs.events = await feed.stop();
    expect(outputs.events).toContain("event: request");

    for (const [where, text] of Object.entries(outputs)) expect(findLeaks(text, secrets), where).toEqual([]);
  });
});

describe("secrets the structure hides", () => {
  it("split across stream events, spelled with JSON escapes, in the session id or an inspector path: nothing served holds them", async () => {
    const secrets = [...ALL_TEST_SECRETS, x.token];
    const feed = await watchEvents();
    const headers = { "content-type": "application/json", "x-claude-code-session-id": OAUTH_TOKEN };
    const escapedBody = `{"model":"claude-test","stream":true,"system":"${uEscape(GATEWAY_TOKEN)} ${uEscape(OPENAI_KEY)}","messages":[{"role":"user","content":"sk\\u002dant\\u002dapi03\\u002d${ANTHROPIC_API_KEY.slice(13)}"}]}`;
    expect((JSON.parse(escapedBody) as { messages: Array<{ content: string }> }).messages[0]!.content).toBe(ANTHROPIC_API_KEY);
    const answers = await Promise.all([
      send(`${x.relay.url}${T}/v1/messages/split`, { body: escapedBody, headers }),
      send(`${x.relay.url}${T}/v1/messages/escaped`, { body: JSON.stringify({ model: "claude-test", messages: [] }), headers }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    // The client still gets the bytes as sent: redaction is the inspector's view only.
    expect(answers[0]!.text).toContain(`"thinking":"${ANTHROPIC_API_KEY.slice(21, 25)}"`);

    const list = (await x.api("api/requests")).json() as RequestList;
    const mine = list.requests.slice(-2);
    const outputs: Record<string, string> = { list: JSON.stringify(list) };
    for (const r of mine) outputs[`request ${r.id}`] = (await x.api(`api/requests/${r.id}`)).text;
    const { sessions } = (await x.api("api/sessions")).json() as SessionList;
    outputs.sessions = JSON.stringify(sessions);
    const session = sessions.find((s) => s.id.startsWith("sk-ant-oat01-"))!;
    expect(session.id).toMatch(/^sk-ant-oat01-_+len_108__[0-9a-f]{6}_$/);
    outputs.har = (await x.api(`api/sessions/${session.id}.har`)).text;
    outputs.html = (await x.api(`api/sessions/${session.id}.html`)).text;
    const missing = await x.api(`api/${OAUTH_TOKEN}`);
    expect(missing.status).toBe(404);
    outputs["404"] = missing.text;

    const split = JSON.parse(outputs[`request ${mine[0]!.id}`]!) as RequestDetail;
    // Assembled whole, then redacted: the tool call and the thinking show the key's redacted form.
    expect(split.response!.assembled!.toolCalls[0]!.input).toMatch(/^\{"command":"export OPENAI_API_KEY=sk-proj-…\[len=164 #[0-9a-f]{6}\]"\}$/);
    expect(split.response!.assembled!.thinking).toMatch(/^the key is sk-ant-api03-…\[len=108 #[0-9a-f]{6}\] ok$/);
    // The raw events each looked harmless: they are withheld, and the page says why.
    expect(split.response!.body!.withheld).toMatch(/streamed in pieces/);
    expect(split.response!.body!.text).toBeUndefined();
    expect(split.response!.events).toBeUndefined();
    // The escaped request body is kept, with each escaped secret replaced where it sat.
    expect(split.request.body!.text).toContain("sk-ant-api03-…[len=108");
    expect(JSON.parse(split.request.body!.text!)).toMatchObject({ model: "claude-test" });
    const escaped = JSON.parse(outputs[`request ${mine[1]!.id}`]!) as RequestDetail;
    expect(escaped.response!.assembled!.text).toMatch(/^sk-ant-oat01-…\[len=108 #[0-9a-f]{6}\]$/);

    outputs.events = await feed.stop();
    expect(outputs.events).toContain("event: request");
    for (const [where, text] of Object.entries(outputs)) {
      expect(findLeaks(text, secrets), where).toEqual([]);
      expect(findLeaks(unescaped(text), secrets), `${where}, unescaped`).toEqual([]);
    }
  });
  it("a header value seen before a client presented it as its credential is redacted once it has (values are remembered per known secrets)", async () => {
    // A token of this test's own: the others were presented as credentials by the tests above.
    const gateway = `gw_${"memoTESTq7".repeat(4)}`;
    const note = { "content-type": "application/json", "x-trace-note": `forwarded ${gateway}` };
    const body = JSON.stringify({ model: "claude-test", messages: [] });
    // First without the credential: the gateway token is nobody's secret yet, so its value is remembered as is.
    // Then the credential alone, the value alone again, and both in one request (the value named first).
    const sent = [note, { "content-type": "application/json", authorization: `Bearer ${gateway}` }, note, { ...note, authorization: `Bearer ${gateway}` }];
    for (const headers of sent) expect((await send(`${x.relay.url}${T}/v1/messages/plain`, { body, headers })).status).toBe(200);
    const list = (await x.api("api/requests")).json() as RequestList;
    for (const { id } of [list.requests.at(-2)!, list.requests.at(-1)!]) {
      const detail = (await x.api(`api/requests/${id}`)).json() as RequestDetail;
      const shown = detail.request.headers.find(([name]) => name === "x-trace-note")?.[1];
      expect(shown, `request ${id}`).toMatch(/^forwarded …\[len=43 #[0-9a-f]{6}\]$/);
      expect(findLeaks(JSON.stringify(detail), [gateway]), `request ${id}`).toEqual([]);
    }
  });
});
