/**
 * Who may open the inspector (DESIGN §11, §8), in-process: the page token by login URL, cookie
 * or header; the relay's token; nothing else. Host and Origin guards hold as for every request.
 * The CLI binary's own banner URL and exec's token path are covered in cli.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { send } from "../helpers/client.js";
import { startInspectedRelay, type InspectedRelay } from "../helpers/inspected-relay.js";
import { mockedDefaults } from "../helpers/relay.js";
import { startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { cookieName, decideAccess, cookieValue } from "../../src/inspect/access.js";
import { RELAY_TOKEN } from "../fixtures/tokens.js";

let upstream: MockUpstream;
let open: InspectedRelay;
/** This relay's login cookie name (one per port). */
const jar = () => `llm_relay_inspector_${new URL(open.relay.url).port}`;
let guarded: InspectedRelay;

beforeAll(async () => {
  upstream = await startMockUpstream();
  open = await startInspectedRelay(mockedDefaults(upstream.url));
  guarded = await startInspectedRelay(mockedDefaults(upstream.url), { relayToken: RELAY_TOKEN });
});
afterAll(async () => {
  await open.close();
  await guarded.close();
  await upstream.close();
});

const PATHS = ["", "assets/app.js", "assets/app.css", "api/requests", "api/requests/1", "api/sessions", "api/events", "api/sessions/x.har", "api/sessions/x.html"];

describe("decideAccess", () => {
  it.each([
    [{ relayToken: "none-configured" }, "denied"],
    [{ relayToken: "accepted" }, "allowed"],
    [{ relayToken: "missing", inspectorToken: "T".repeat(32) }, "denied"],
    [{ relayToken: "none-configured", inspectorToken: "T".repeat(32), headerToken: "T".repeat(32) }, "allowed"],
    [{ relayToken: "refused", inspectorToken: "T".repeat(32), headerToken: "T".repeat(32) }, "allowed"],
    [{ relayToken: "none-configured", inspectorToken: "T".repeat(32), headerToken: "U".repeat(32) }, "denied"],
    [{ relayToken: "none-configured", inspectorToken: "T".repeat(32), cookie: `a=b; llm_relay_inspector_8742=${"T".repeat(32)}` }, "allowed"],
    [{ relayToken: "none-configured", inspectorToken: "T".repeat(32), cookie: `llm_relay_inspector_8742=${"T".repeat(31)}` }, "denied"],
    // Another relay's login (another port on this host): the browser sends it here too, and it opens nothing.
    [{ relayToken: "none-configured", inspectorToken: "T".repeat(32), cookie: `llm_relay_inspector_8743=${"T".repeat(32)}` }, "denied"],
    [{ relayToken: "none-configured", inspectorToken: "T".repeat(32), queryToken: "T".repeat(32) }, "login"],
    [{ relayToken: "accepted", inspectorToken: "T".repeat(32), queryToken: "wrong" }, "denied"],
    [{ relayToken: "none-configured", queryToken: "" }, "denied"],
  ] as const)("%o → %s", (input, expected) => {
    expect(decideAccess({ cookieName: "llm_relay_inspector_8742", ...input })).toBe(expected);
  });

  it.each([
    ["http://127.0.0.1:8742", "llm_relay_inspector_8742"],
    ["http://[::1]:40001", "llm_relay_inspector_40001"],
    ["", "llm_relay_inspector"],
  ])("the login cookie of %j is %s (one per port: a browser keeps cookies per host)", (url, name) => {
    expect(cookieName(url)).toBe(name);
  });

  it("reads one cookie out of a cookie header", () => {
    expect(cookieValue("a=1; b = 2 ;c=3", "b")).toBe("2");
    expect(cookieValue("a=1", "b")).toBeUndefined();
    expect(cookieValue(undefined, "b")).toBeUndefined();
  });
});

describe("the page token", () => {
  it("opens by the login URL: a 303 to /_relay/ with an HttpOnly, SameSite=Strict cookie for /_relay/", async () => {
    const res = await send(`${open.relay.url}/_relay/?token=${open.token}`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe("/_relay/");
    expect(res.headers["set-cookie"]).toEqual([`${jar()}=${open.token}; HttpOnly; SameSite=Strict; Path=/_relay/`]);
    const cookie = res.headers["set-cookie"]![0]!.split(";")[0]!;
    const page = await send(`${open.relay.url}/_relay/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.headers["content-security-policy"]).toBe("default-src 'self'");
    expect(page.headers["x-content-type-options"]).toBe("nosniff");
    expect(page.headers["cache-control"]).toBe("no-store");
    const script = await send(`${open.relay.url}/_relay/assets/app.js`, { headers: { cookie } });
    expect(script.headers["content-type"]).toMatch(/^text\/javascript/);
  });

  it.each(PATHS)("/_relay/%s without a token is 401 JSON", async (path) => {
    const res = await send(`${open.relay.url}/_relay/${path}`);
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.json()).toMatchObject({ error: { type: "unauthorized" } });
  });

  it.each(PATHS)("/_relay/%s with a wrong token is 401", async (path) => {
    const wrong = `${open.token.slice(0, -1)}${open.token.endsWith("A") ? "B" : "A"}`;
    expect((await send(`${open.relay.url}/_relay/${path}`, { headers: { "x-llm-relay-token": wrong } })).status).toBe(401);
    expect((await send(`${open.relay.url}/_relay/${path}`, { headers: { cookie: `${jar()}=${wrong}` } })).status).toBe(401);
  });

  it("/_relay without its slash redirects before any token check: the cookie's Path=/_relay/ would not be sent there", async () => {
    const bare = await send(`${open.relay.url}/_relay`);
    expect(bare.status).toBe(308);
    expect(bare.headers.location).toBe("/_relay/");
    const login = await send(`${open.relay.url}/_relay?token=${open.token}`);
    expect(login.status).toBe(308);
    expect(login.headers.location).toBe(`/_relay/?token=${open.token}`);
    expect(login.headers["set-cookie"]).toBeUndefined();
    expect((await send(`${open.relay.url}/_relay/`)).status).toBe(401);
  });

  it("an unknown inspector path is 404 without echoing the path (a token pasted there stays out)", async () => {
    const res = await send(`${open.relay.url}/_relay/api/${RELAY_TOKEN}`, { headers: { "x-llm-relay-token": open.token } });
    expect(res.status).toBe(404);
    expect(res.text).not.toContain(RELAY_TOKEN.slice(-8));
    expect(res.json()).toMatchObject({ error: { type: "not_found" } });
  });

  it("a refused token is told apart from none: each run makes a new one (an earlier run's page)", async () => {
    const earlier = `${open.token.slice(0, -1)}${open.token.endsWith("A") ? "B" : "A"}`;
    const none = (await send(`${open.relay.url}/_relay/api/requests`)).json() as { error: { message: string } };
    expect(none.error.message).toMatch(/^llm-relay: the inspector needs its token: open the inspector URL the relay printed/);
    const presented: Array<Record<string, string>> = [{ cookie: `${jar()}=${earlier}` }, { "x-llm-relay-token": earlier }];
    for (const headers of presented) {
      const refused = (await send(`${open.relay.url}/_relay/api/requests`, { headers })).json() as { error: { message: string } };
      expect(refused.error.message).toMatch(/^llm-relay: the inspector refused this token: each run of the relay makes a new one/);
      expect(refused.error.message).not.toContain(earlier.slice(-8));
    }
  });

  it("a browser opening the page without a valid token gets a short HTML page saying what to do, not JSON", async () => {
    const earlier = `${open.token.slice(0, -1)}${open.token.endsWith("A") ? "B" : "A"}`;
    const accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    const res = await send(`${open.relay.url}/_relay/`, { headers: { accept, cookie: `${jar()}=${earlier}` } });
    expect(res.status).toBe(401);
    expect(res.headers["content-type"]).toMatch(/^text\/html/);
    expect(res.headers["content-security-policy"]).toBe("default-src 'self'");
    expect(res.text).toContain("each run of the relay makes a new one");
    expect(res.text).not.toContain(earlier.slice(-8));
    expect(res.headers["set-cookie"]).toBeUndefined();
    // The API stays JSON for a browser's fetch too.
    expect((await send(`${open.relay.url}/_relay/api/requests`, { headers: { accept } })).headers["content-type"]).toMatch(/^application\/json/);
  });

  it("a wrong login token is 401 and sets no cookie", async () => {
    const res = await send(`${open.relay.url}/_relay/?token=nope`);
    expect(res.status).toBe(401);
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("refuses a foreign Origin or Host with 403 even with the token", async () => {
    const headers = { "x-llm-relay-token": open.token };
    expect((await send(`${open.relay.url}/_relay/api/requests`, { headers: { ...headers, origin: "https://evil.example" } })).status).toBe(403);
    expect((await send(`${open.relay.url}/_relay/api/requests`, { headers: { ...headers, host: "evil.example" } })).status).toBe(403);
    expect((await send(`${open.relay.url}/_relay/api/requests`, { headers: { ...headers, origin: open.relay.url } })).status).toBe(200);
  });

  it("answers only GET and HEAD", async () => {
    const res = await send(`${open.relay.url}/_relay/api/requests`, { method: "POST", body: "{}", headers: { "x-llm-relay-token": open.token } });
    expect(res.status).toBe(405);
  });
});

describe("with a relay token configured", () => {
  it("the relay token opens the inspector, by header or path prefix", async () => {
    expect((await send(`${guarded.relay.url}/_relay/api/requests`, { headers: { "x-llm-relay-token": RELAY_TOKEN } })).status).toBe(200);
    expect((await send(`${guarded.relay.url}/_t/${RELAY_TOKEN}/_relay/api/requests`)).status).toBe(200);
  });

  it("the page token still works, and the login redirect keeps the mount", async () => {
    expect((await guarded.api("api/requests")).status).toBe(200);
    const res = await send(`${guarded.relay.url}/_t/${RELAY_TOKEN}/_relay/?token=${guarded.token}`);
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`/_t/${RELAY_TOKEN}/_relay/`);
  });

  it("without either it is 401", async () => {
    expect((await send(`${guarded.relay.url}/_relay/api/requests`)).status).toBe(401);
    expect((await send(`${guarded.relay.url}/_t/${"x".repeat(43)}/_relay/api/requests`)).status).toBe(401);
  });

  it("the page token opens the inspector only, not the relay", async () => {
    const res = await send(`${guarded.relay.url}/v1/messages`, { body: "{}", headers: { "x-llm-relay-token": guarded.token, "content-type": "application/json" } });
    expect(res.status).toBe(401);
  });
});
