/**
 * Session exports (DESIGN §11): `api/sessions/ID.har` is valid HAR 1.2 (checked against the
 * spec's required fields, below as a zod schema) and `ID.html` is one self-contained file.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { send } from "../helpers/client.js";
import { startInspectedRelay, type InspectedRelay } from "../helpers/inspected-relay.js";
import { mockedDefaults } from "../helpers/relay.js";
import { anthropicStream, sendSse, startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import type { SnapshotData } from "../../src/inspect/types.js";

/** HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/): the fields it requires. */
const nameValue = z.object({ name: z.string(), value: z.string() });
const harSchema = z.object({
  log: z.object({
    version: z.literal("1.2"),
    creator: z.object({ name: z.string(), version: z.string() }),
    entries: z.array(
      z.object({
        startedDateTime: z.iso.datetime({ offset: true }),
        time: z.number().nonnegative(),
        request: z.object({
          method: z.string(),
          url: z.url(),
          httpVersion: z.string(),
          cookies: z.array(nameValue),
          headers: z.array(nameValue),
          queryString: z.array(nameValue),
          postData: z.object({ mimeType: z.string(), text: z.string() }).optional(),
          headersSize: z.number().int(),
          bodySize: z.number().int(),
        }),
        response: z.object({
          status: z.number().int(),
          statusText: z.string(),
          httpVersion: z.string(),
          cookies: z.array(nameValue),
          headers: z.array(nameValue),
          content: z.object({ size: z.number().int(), mimeType: z.string(), text: z.string().optional() }),
          redirectURL: z.string(),
          headersSize: z.number().int(),
          bodySize: z.number().int(),
        }),
        cache: z.object({}),
        timings: z.object({ send: z.number().min(-1), wait: z.number().min(-1), receive: z.number().min(-1) }),
      }),
    ),
  }),
});

let upstream: MockUpstream;
let x: InspectedRelay;

beforeAll(async () => {
  upstream = await startMockUpstream();
  x = await startInspectedRelay(mockedDefaults(upstream.url));
  const headers = { "content-type": "application/json", "x-claude-code-session-id": "export-me" };
  await send(`${x.relay.url}/v1/messages?beta=true`, { body: JSON.stringify({ model: "claude-a", messages: [{ role: "user", content: "</script><script>alert(1)</script>" }] }), headers });
  upstream.handle((_req, res) => sendSse(res, anthropicStream(["streamed ", "text"])));
  await send(`${x.relay.url}/v1/messages`, { body: JSON.stringify({ model: "claude-b", stream: true, messages: [] }), headers });
});
afterAll(async () => {
  await x.close();
  await upstream.close();
});

describe("HAR export", () => {
  it("is HAR 1.2 with the session's requests, bodies and timings, as an attachment", async () => {
    const res = await x.api("api/sessions/export-me.har");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.headers["content-disposition"]).toBe('attachment; filename="llm-relay-session-export-me.har"');
    const har = harSchema.parse(res.json());
    expect(har.log.entries).toHaveLength(2);
    const [first, second] = har.log.entries;
    expect(first!.request).toMatchObject({ method: "POST", url: `${x.relay.url}/v1/messages?beta=true`, queryString: [{ name: "beta", value: "true" }] });
    expect(first!.request.postData!.text).toContain("claude-a");
    expect(first!.response.content.text).toContain('"type":"message"');
    expect(second!.response.content.mimeType).toBe("text/event-stream");
    expect(second!.response.content.text).toContain("streamed ");
    for (const entry of har.log.entries) {
      expect(entry.timings.wait + entry.timings.receive).toBeCloseTo(entry.time, 1);
    }
  });

  it("404s for an unknown session", async () => {
    expect((await x.api("api/sessions/nope.har")).status).toBe(404);
    expect((await x.api("api/sessions/nope.html")).status).toBe(404);
  });
});

describe("HTML export", () => {
  it("is one file with the session inlined as JSON that no body can break out of", async () => {
    const res = await x.api("api/sessions/export-me.html");
    expect(res.status).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.headers["content-disposition"]).toBe('attachment; filename="llm-relay-session-export-me.html"');
    const html = res.text;
    expect(html).not.toMatch(/<(?:script|link|img)[^>]+(?:src|href)=["']?(?:https?:)?\/\//i);
    expect(html).not.toContain("<script>alert(1)");
    const json = /<script type="application\/json" id="llm-relay-snapshot">([\s\S]*?)<\/script>/.exec(html)![1]!;
    const data = JSON.parse(json) as SnapshotData;
    expect(data.version).toBe(1);
    expect(data.session.id).toBe("export-me");
    expect(data.requests.map((r) => r.model)).toEqual(["claude-a", "claude-b"]);
    expect(data.requests[1]!.response!.assembled!.text).toBe("streamed text");
  });
});
