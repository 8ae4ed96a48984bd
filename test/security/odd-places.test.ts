/**
 * Secrets in the places a review found unredacted (DESIGN §5, §8, §11): a key as a header's
 * *name*, as the model a `models` rule rewrites, inside a refused `anthropic-beta` value, in a
 * path the relay normalises, the inspector token in a relayed URL, and a key inside a body's
 * content type. For each: what the upstream received, the request record (the log lines, `--json`
 * and the log file are made from it), the `--verbose` decision lines, and the inspector's API
 * and HAR export.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Chalk } from "chalk";
import { formatDecisionLines, formatRequestLine } from "../../src/log/format.js";
import type { RelayConfig } from "../../src/config/schema.js";
import type { RequestSummary } from "../../src/inspect/types.js";
import { send } from "../helpers/client.js";
import { startInspectedRelay, type InspectedRelay } from "../helpers/inspected-relay.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { ANTHROPIC_API_KEY, findLeaks, GATEWAY_TOKEN, OPENAI_KEY } from "../fixtures/tokens.js";

/** A configured key with no vendor shape: a secret only because the config holds it. */
const CONFIG_KEY = `cfgOpaque_${"k7Qz".repeat(8)}`;

let upstream: MockUpstream;
let x: InspectedRelay;

beforeAll(async () => {
  upstream = await startMockUpstream();
  const config: RelayConfig = {
    providers: {
      anthropic: { kind: "anthropic", baseUrl: upstream.url, oauth: "forward", apiKey: CONFIG_KEY, betas: { allow: ["foo"] } },
      local: { kind: "generic", baseUrl: upstream.url, models: { "*": "upstream-m" } },
    },
  };
  x = await startInspectedRelay(config);
});
afterAll(async () => {
  await x?.close();
  await upstream?.close();
});

/** Everything a user could read about the latest request: its record, its verbose lines, its page detail and the session's HAR. */
async function everythingShown(): Promise<string> {
  const list = (await x.api("api/requests")).json() as { requests: RequestSummary[] };
  const latest = list.requests.at(-1)!;
  const record = x.records.find((r) => r.id === latest.id)!;
  const plain = new Chalk({ level: 0 });
  const lines = [formatRequestLine(record, plain), ...formatDecisionLines(record.decisions ?? [], plain)];
  const detail = (await x.api(`api/requests/${latest.id}`)).text;
  const har = (await x.api(`api/sessions/${encodeURIComponent(latest.sessionId)}.har`)).text;
  return [JSON.stringify(record), ...lines, JSON.stringify(list), detail, har].join("\n");
}

const json = { "content-type": "application/json" };

describe("secrets where a review found them shown", () => {
  it("a key as a header's name is not relayed, and is shown by its redacted name", async () => {
    const before = upstream.received.length;
    const res = await send(`${x.relay.url}/local/v1/chat/completions`, { headers: { ...json, [ANTHROPIC_API_KEY]: "x" }, body: JSON.stringify({ model: "m", messages: [] }) });
    expect(res.status).toBe(200);
    const received = upstream.received[before]!;
    expect(findLeaks(JSON.stringify(received.headers), [ANTHROPIC_API_KEY])).toEqual([]);
    const shown = await everythingShown();
    expect(findLeaks(shown, [ANTHROPIC_API_KEY])).toEqual([]);
    expect(shown).toContain("the header's name holds a secret");
  });

  it("a key as the model a models rule rewrites is redacted in the rewrite decision", async () => {
    await send(`${x.relay.url}/local/v1/chat/completions`, { headers: json, body: JSON.stringify({ model: OPENAI_KEY, messages: [] }) });
    const shown = await everythingShown();
    expect(shown).toContain("body.model");
    expect(findLeaks(shown, [OPENAI_KEY])).toEqual([]);
  });

  it("a key among anthropic-beta values that betas.allow removes is redacted in the decision's reason", async () => {
    await send(`${x.relay.url}/v1/messages`, { headers: { ...json, "anthropic-beta": `foo,${ANTHROPIC_API_KEY}` }, body: JSON.stringify({ model: "claude-x", messages: [] }) });
    const shown = await everythingShown();
    expect(shown).toContain("betas.allow of anthropic");
    expect(findLeaks(shown, [ANTHROPIC_API_KEY])).toEqual([]);
  });

  it("a configured key in a path the relay normalises is redacted in the :path decision", async () => {
    await send(x.relay.url, { method: "POST", rawTarget: `/v1/./messages/${CONFIG_KEY}`, headers: json, body: JSON.stringify({ model: "claude-x", messages: [] }) });
    const shown = await everythingShown();
    expect(shown).toContain(":path");
    expect(findLeaks(shown, [CONFIG_KEY])).toEqual([]);
  });

  it("the inspector token in a relayed path or query is redacted in the record (the request line)", async () => {
    await send(`${x.relay.url}/v1/messages?a=${x.token}`, { headers: json, body: JSON.stringify({ model: x.token, messages: [] }) });
    const record = x.records.at(-1)!;
    expect(findLeaks(JSON.stringify(record), [x.token])).toEqual([]);
    expect(record.path).toMatch(/^\/v1\/messages\?a=/);
  });

  it("a key inside a body's content type is redacted where the page and the HAR show the body's type", async () => {
    await send(`${x.relay.url}/v1/messages`, { headers: { "content-type": `application/json; boundary=${OPENAI_KEY}` }, body: JSON.stringify({ model: "claude-x", messages: [] }) });
    const shown = await everythingShown();
    expect(shown).toContain("application/json; boundary=sk-proj-");
    expect(findLeaks(shown, [OPENAI_KEY])).toEqual([]);
  });

  it("a request refused before routing shows its headers redacted, and its own opaque key redacted where its path quotes it", async () => {
    const res = await send(`${x.relay.url}/nowhere/v1/thing?x=${GATEWAY_TOKEN}`, { headers: { ...json, "x-api-key": GATEWAY_TOKEN }, body: "{}" });
    expect(res.status).toBe(404);
    const list = (await x.api("api/requests")).json() as { requests: RequestSummary[] };
    const refused = list.requests.at(-1)!;
    expect(refused.status).toBe(404);
    const detail = (await x.api(`api/requests/${refused.id}`)).json() as { request: { headers: Array<[string, string]> } };
    expect(detail.request.headers.map(([name]) => name)).toContain("x-api-key");
    const har = (await x.api(`api/sessions/${encodeURIComponent(refused.sessionId)}.har`)).text;
    expect(findLeaks([JSON.stringify(list), JSON.stringify(detail), har].join("\n"), [GATEWAY_TOKEN])).toEqual([]);
  });
});
