/**
 * The inspector page in real Chromium against a real relay (mock upstreams on loopback): what a
 * user sees when they open `start`'s page URL. Requests appear live without a reload, open into
 * their header decisions, rendered body and decoded stream; a withheld OAuth token is shown
 * withheld and never in the page; the session chart and both exports match the requests; the
 * exported snapshot renders from disk with no network; nothing logs a console error.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import { send } from "../helpers/client.js";
import { startInspectedRelay, type InspectedRelay } from "../helpers/inspected-relay.js";
import { anthropicStream, sendJson, sseFrame, startMockUpstream, type MockUpstream } from "../helpers/mock-upstream.js";
import { mockedDefaults } from "../helpers/relay.js";
import { findLeaks, OAUTH_TOKEN } from "../fixtures/tokens.js";
import type { RequestSummary } from "../../src/inspect/types.js";
import { loadPriceTable, type PriceTable } from "../../src/pricing/cost.js";
import { chromeFound, launchBrowser, newPage, pageSource, type Browser, type WatchedPage } from "./browser.js";

async function asAnthropicApi(): Promise<PriceTable> {
  const table = await loadPriceTable();
  return ((usage, model, options) => table(usage, model, { ...options, providerApiUrl: "https://api.anthropic.com" })) as PriceTable;
}

const SESSION = "sess-browser-1";
/** Failed requests report no usage: they get a session of their own, whose chart marks them on the axis. */
const ERROR_SESSION = "sess-errors";
const STREAM_TEXT = ["Hello ", "from ", "the ", "relay"];

/** A Claude-Code-shaped request: system prompt, a tool, and every content block kind. */
function messagesBody(model = "claude-sonnet-4-5"): string {
  return JSON.stringify({
    model,
    max_tokens: 512,
    stream: true,
    system: [{ type: "text", text: "You are the inspector test's assistant." }],
    tools: [{ name: "list_files", description: "List the files in a folder.", input_schema: { type: "object", properties: { dir: { type: "string" } } } }],
    messages: [
      { role: "user", content: [{ type: "text", text: "What is in src/?" }, { type: "image", source: { type: "base64", media_type: "image/png", data: "iVBORw0KGgo=" } }] },
      { role: "assistant", content: [{ type: "tool_use", id: "toolu_b1", name: "list_files", input: { dir: "src" } }] },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_b1", content: "index.ts\nversion.ts" }] },
    ],
  });
}

describe.skipIf(!chromeFound)("inspector page in Chromium, against a real relay", () => {
  let upstream: MockUpstream;
  let x: InspectedRelay;
  let browser: Browser;
  let live: WatchedPage;
  /** Streams wait here after their first event, so a test can look at a request in flight. */
  let gate: { open: () => void; wait: Promise<void> } = openGate();
  const pages: WatchedPage[] = [];
  let streamed = 0;

  function openGate(): { open: () => void; wait: Promise<void> } {
    let open!: () => void;
    const wait = new Promise<void>((resolve) => (open = resolve));
    return { open, wait };
  }

  async function stream(res: ServerResponse): Promise<void> {
    const turn = streamed++;
    const events = anthropicStream(STREAM_TEXT, { input_tokens: 1200 + 300 * turn, output_tokens: 40 });
    // Later turns read the conversation from the prompt cache, as Claude Code's do.
    const start = events[0]!.data as { message: { usage: Record<string, number> } };
    Object.assign(start.message.usage, { cache_read_input_tokens: 9000 * turn, cache_creation_input_tokens: 1500 });
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(sseFrame(events[0]!));
    await gate.wait;
    for (const event of events.slice(1)) res.write(sseFrame(event));
    res.end();
  }

  async function watch(): Promise<WatchedPage> {
    const watched = await newPage(browser);
    pages.push(watched);
    return watched;
  }

  function anthropicRequest(headers: Record<string, string> = {}, session = SESSION): Promise<unknown> {
    return send(`${x.relay.url}/v1/messages`, {
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", "x-claude-code-session-id": session, ...headers },
      body: messagesBody(),
    });
  }

  const row = (page: Page, id: number) => page.locator(`tr.row[data-id="${id}"]`);
  const sessionSection = (page: Page, id: string) => page.locator(`section.session[data-session="${id}"]`);

  async function latestId(): Promise<number> {
    const list = (await x.api("api/requests")).json() as { requests: RequestSummary[] };
    return list.requests.at(-1)!.id;
  }

  beforeAll(async () => {
    upstream = await startMockUpstream(async (req, res) => {
      if (req.url?.startsWith("/v1/messages")) return stream(res);
      if (req.url?.startsWith("/v1/chat/completions")) {
        return sendJson(res, 200, {
          id: "chatcmpl-b",
          object: "chat.completion",
          model: "gpt-test",
          choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
          usage: { prompt_tokens: 30, completion_tokens: 2, total_tokens: 32 },
        });
      }
      return sendJson(res, 500, { error: { type: "api_error", message: "mock: unexpected path" } });
    });
    // The mock stands in for api.anthropic.com, so it is priced as Anthropic's API (prices come from the URL).
    x = await startInspectedRelay(mockedDefaults(upstream.url), { prices: asAnthropicApi });
    browser = await launchBrowser();
    live = await watch();
    await live.page.goto(`${x.relay.url}/_relay/?token=${x.token}`);
    await live.page.locator('#conn[data-state="live"]').waitFor();
  });

  afterAll(async () => {
    gate.open();
    await browser?.close();
    await x?.close();
    await upstream?.close();
  });

  afterEach(() => {
    for (const watched of pages) expect(watched.errors).toEqual([]);
  });

  it("opens with the token, which then leaves the address bar", async () => {
    expect(new URL(live.page.url()).pathname).toBe("/_relay/");
    expect(live.page.url()).not.toContain(x.token);
    expect(await live.page.locator("#empty").isVisible()).toBe(true);
  });

  it("shows a request made after the page opened, in flight and then done, without a reload", async () => {
    const { page } = live;
    await page.evaluate(() => ((window as { __sameDocument?: boolean }).__sameDocument = true));
    gate = openGate();
    const done = anthropicRequest({ authorization: `Bearer ${OAUTH_TOKEN}`, "anthropic-beta": "oauth-2025-04-20" });
    const first = page.locator("tr.row").first();
    await first.waitFor();
    await expect.poll(() => first.getAttribute("data-state")).toBe("active");
    expect(await first.locator(".spinner").count()).toBe(1);
    expect(await sessionSection(page, SESSION).count()).toBe(1);
    // Opened while it runs: its bodies are still arriving, which is not "binary".
    await first.click();
    const detail = page.locator("#detail");
    await detail.locator('[data-mark="running"]').first().waitFor();
    expect(await detail.locator(".detail-head .status").innerText()).toBe("in flight");
    expect(await detail.innerText()).not.toContain("binary");

    gate.open();
    await done;
    await expect.poll(() => first.getAttribute("data-state"), { timeout: 10_000 }).toBe("done");
    // The opened request is shown again as it ends: its prompt rendered, nothing left "arriving".
    await detail.locator('[data-part="system"]').waitFor();
    expect(await detail.locator('[data-mark="running"]').count()).toBe(0);
    expect(await first.getAttribute("data-status")).toBe("200");
    const text = await first.innerText();
    expect(text).toMatch(/POST\s+\/v1\/messages/);
    expect(text).toContain("claude-sonnet-4-5");
    expect(text).toContain("anthropic");
    expect(text).toMatch(/in 1200 · out 40/);
    // A subscription token paid: the figure is what the API would have charged.
    expect(await first.locator(".cost").innerText()).toMatch(/^\$[\d.]+\s*API-equivalent$/);
    expect(await first.locator(".spinner").count()).toBe(0);
    expect(await page.evaluate(() => (window as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
  });

  it("opens a request: header decisions coloured by action, the body rendered, the stream decoded", async () => {
    const { page } = live;
    const id = await latestId();
    await row(page, id).click();
    const detail = page.locator("#detail");
    await detail.locator("table.decisions").waitFor();

    const decisions = await detail.locator("tr.decision").evaluateAll((rows) =>
      rows.map((r) => ({ header: r.getAttribute("data-header"), action: r.getAttribute("data-action"), colour: getComputedStyle(r.querySelector(".badge")!).color })),
    );
    expect(decisions.find((d) => d.header === "content-type")?.action).toBe("forward");
    expect(decisions.find((d) => d.header === "authorization")?.action).toBe("forward");
    const colourOf = new Map<string, string>();
    for (const d of decisions) {
      // One colour per action, the same on every row.
      expect(colourOf.get(d.action!) ?? d.colour).toBe(d.colour);
      colourOf.set(d.action!, d.colour);
    }
    expect(colourOf.get("forward")).toBe("rgb(26, 127, 55)");

    expect(await detail.locator('[data-part="system"]').innerText()).toContain("You are the inspector test's assistant.");
    expect(await detail.locator('[data-tool="list_files"]').count()).toBe(1);
    expect(await detail.locator(".message").count()).toBe(3);
    expect(await detail.locator('[data-block-type="image"]').innerText()).toContain("[image: image/png");
    expect(await detail.locator('[data-part="messages"] [data-block-type="tool_use"]').innerText()).toContain('"dir": "src"');
    expect(await detail.locator('[data-block-type="tool_result"]').innerText()).toContain("version.ts");
    expect(await detail.locator("details.raw pre").first().textContent()).toContain('"max_tokens":512');

    await expect.poll(() => detail.locator('[data-part="assembled"] [data-part="text"] pre').innerText()).toBe(STREAM_TEXT.join(""));
    await detail.locator('[data-part="events"] summary').click();
    const events = detail.locator("tr.event");
    expect(await events.count()).toBe(anthropicStream(STREAM_TEXT).length);
    expect(await events.first().innerText()).toMatch(/^\d+ ms\s+message_start/);
    expect(await events.last().innerText()).toContain("message_stop");
  });

  it("shows a withheld OAuth token as withheld and redacted, and the raw token nowhere in the page", async () => {
    const { page } = live;
    const res = (await send(`${x.relay.url}/v1/chat/completions`, {
      headers: { "content-type": "application/json", authorization: `Bearer ${OAUTH_TOKEN}`, "x-claude-code-session-id": SESSION },
      body: JSON.stringify({ model: "gpt-test", messages: [{ role: "user", content: `my token is ${OAUTH_TOKEN}` }] }),
    })) as { status: number };
    expect(res.status).toBe(200);
    const id = await latestId();
    await expect.poll(() => row(page, id).getAttribute("data-state")).toBe("done");
    expect(await row(page, id).locator(".badge.withhold").innerText()).toBe("OAuth withheld");
    expect(await row(page, id).locator(".cost").count()).toBe(0); // gpt-test has no known price: no figure, never a guess

    await row(page, id).click();
    const withheld = page.locator('#detail tr.decision[data-header="authorization"]');
    await withheld.waitFor();
    expect(await withheld.getAttribute("data-action")).toBe("withhold");
    expect(await withheld.locator(".badge").evaluate((b) => getComputedStyle(b).color)).toBe("rgb(207, 34, 46)");
    expect(await withheld.locator("td.value").innerText()).toMatch(/^(Bearer )?sk-ant-oat01-…\[len=\d+ #[0-9a-f]{6}\]$/);
    await page.locator("#detail details").evaluateAll((all) => all.forEach((d) => ((d as HTMLDetailsElement).open = true)));
    expect(await page.locator("#detail").innerText()).toContain("my token is sk-ant-oat01-…[len=");

    expect(findLeaks(await pageSource(page), [OAUTH_TOKEN, x.token])).toEqual([]);
    expect(findLeaks(await page.locator("body").innerText(), [OAUTH_TOKEN, x.token])).toEqual([]);
  });

  it("filters by provider, status and errors", async () => {
    const { page } = live;
    const error = send(`${x.relay.url}/v1/responses`, {
      headers: { "content-type": "application/json", "x-claude-code-session-id": ERROR_SESSION },
      body: JSON.stringify({ model: "gpt-test", input: "fail please" }),
    });
    await error;
    const id = await latestId();
    await expect.poll(() => row(page, id).getAttribute("data-status")).toBe("500");
    const visible = (): Promise<string[]> => page.$$eval("tr.row:not([hidden])", (rows) => rows.map((r) => (r as HTMLElement).dataset.id!));
    const all = await visible();
    expect(all).toHaveLength(3);

    await page.selectOption("#filter-provider", "openai");
    expect(await visible()).toEqual(all.slice(1));
    await page.selectOption("#filter-provider", "");
    await page.selectOption("#filter-status", "5xx");
    expect(await visible()).toEqual([String(id)]);
    await page.selectOption("#filter-status", "2xx");
    expect(await visible()).toEqual(all.slice(0, 2));
    await page.selectOption("#filter-status", "");
    await page.check("#filter-errors");
    expect(await visible()).toEqual([String(id)]);
    await page.uncheck("#filter-errors");
    expect(await visible()).toEqual(all);
  });

  it("charts the session's context size with one point per request, next to its totals", async () => {
    const { page } = live;
    gate.open();
    await anthropicRequest();
    await anthropicRequest();
    const section = sessionSection(page, SESSION);
    await expect.poll(() => section.locator('tr.row[data-state="done"]').count()).toBe(4);
    const paidByKey = section.locator("tr.row").last();
    expect(await paidByKey.locator(".cost").innerText()).toMatch(/^\$[\d.]+$/);
    expect(await paidByKey.locator(".col-cache-hit").innerText()).toMatch(/^\d+%$/);
    const rows = await section.locator("tr.row").count();
    await expect.poll(() => section.locator("svg.context-chart circle.point").count()).toBe(rows);
    const sessions = (await x.api("api/sessions")).json() as { sessions: Array<{ id: string; requests: number; context: Array<{ id: number }> }> };
    const summary = sessions.sessions.find((s) => s.id === SESSION)!;
    expect(summary.requests).toBe(rows);
    const ids = await section.locator("circle.point").evaluateAll((points) => points.map((p) => Number(p.getAttribute("data-id"))));
    expect(ids).toEqual(summary.context.map((c) => c.id));
    expect(await section.locator(".totals").innerText()).toContain(`${rows} requests`);
    // A request that reported no usage is still a point: hollow, on the axis, titled so.
    const failed = sessionSection(page, ERROR_SESSION);
    await expect.poll(() => failed.locator("circle.point.no-usage").count()).toBe(await failed.locator("tr.row").count());
    expect(await failed.locator("circle.point title").first().textContent()).toContain("no usage reported");

    await row(page, summary.context[0]!.id).click();
    await page.locator("#detail table.decisions").waitFor();
    const target = process.env.LLM_RELAY_SCREENSHOT;
    if (target) {
      await page.locator(".list").evaluate((list) => list.scrollTo(0, 0));
      mkdirSync(dirname(resolve(target)), { recursive: true });
      await page.screenshot({ path: resolve(target) });
    }
  });

  it("downloads the session as HAR (one entry per request) and as HTML that renders offline from disk", async () => {
    const { page } = live;
    const section = sessionSection(page, SESSION);
    const rows = await section.locator("tr.row").count();

    const [har] = await Promise.all([page.waitForEvent("download"), section.locator('a[data-export="har"]').click()]);
    const harFile = await har.path();
    const parsed = JSON.parse(readFileSync(harFile, "utf8")) as { log: { version: string; entries: unknown[] } };
    expect(parsed.log.version).toBe("1.2");
    expect(parsed.log.entries).toHaveLength(rows);
    expect(findLeaks(readFileSync(harFile, "utf8"), [OAUTH_TOKEN, x.token])).toEqual([]);

    const [html] = await Promise.all([page.waitForEvent("download"), section.locator('a[data-export="html"]').click()]);
    const dir = mkdtempSync(join(tmpdir(), "llm-relay-export-"));
    try {
      const file = join(dir, "session.html");
      copyFileSync(await html.path(), file);
      expect(findLeaks(readFileSync(file, "utf8"), [OAUTH_TOKEN, x.token])).toEqual([]);
      const offline = await watch();
      await offline.page.goto(pathToFileURL(file).href);
      const snap = sessionSection(offline.page, SESSION);
      await snap.waitFor();
      await expect.poll(() => snap.locator("tr.row").count()).toBe(rows);
      await expect.poll(() => snap.locator("circle.point").count()).toBe(rows); // the chart redraws on its own timer (at most every 400 ms)
      expect(await offline.page.locator("#conn").innerText()).toContain("snapshot");
      await snap.locator("tr.row").first().click();
      await expect.poll(() => offline.page.locator('#detail [data-part="assembled"] [data-part="text"] pre').innerText()).toBe(STREAM_TEXT.join(""));
      expect(offline.requests).toEqual([pathToFileURL(file).href]);
      await offline.page.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("tells a page whose token the relay no longer takes (it restarted) what to do, instead of retrying for ever", async () => {
    const other = await startInspectedRelay(mockedDefaults(upstream.url));
    const stale = await newPage(browser);
    try {
      await stale.page.goto(`${other.relay.url}/_relay/?token=${other.token}`);
      await stale.page.locator('#conn[data-state="live"]').waitFor();
      // As after a restart: the browser still holds the login of a run whose token is gone, and the feed drops.
      const name = `llm_relay_inspector_${new URL(other.relay.url).port}`;
      await browser.context.addCookies([{ name, value: "an-earlier-runs-token-0123456789abcdefgh", url: `${other.relay.url}/_relay/` }]);
      other.inspector.close();
      await stale.page.locator("#conn", { hasText: "token no longer valid" }).waitFor({ timeout: 15_000 });
      expect(await stale.page.locator("#empty.error-box").innerText()).toContain("Open the inspector URL it printed");
      // Only the refusals themselves were logged (the browser reports each 401), no script error.
      expect(stale.errors.length).toBeGreaterThan(0);
      for (const error of stale.errors) expect(error).toMatch(/401/);
      // The other relay's login (another port, same host) left this page's alone.
      expect(await live.page.locator('#conn[data-state="live"]').count()).toBe(1);
    } finally {
      await stale.page.close();
      await other.close();
    }
  });

  it("catches up after the live feed drops, and stays fast with 1,000 requests listed", async () => {
    const { page } = live;
    const bulk = "sess-bulk";
    const chat = (n: number) =>
      send(`${x.relay.url}/v1/chat/completions`, {
        headers: { "content-type": "application/json", "x-claude-code-session-id": bulk },
        body: JSON.stringify({ model: "gpt-test", messages: [{ role: "user", content: `n${n}` }] }),
      });
    await chat(0);
    const marked = row(page, await latestId());
    await expect.poll(() => marked.getAttribute("data-state")).toBe("done");
    await marked.evaluate((tr) => ((tr as { __kept?: boolean }).__kept = true));

    // End every SSE stream: the first requests below happen before EventSource reconnects (the
    // feed asks for 1 s), so they reach the page only through the lists it reloads on reconnect.
    x.inspector.close();
    const total = 1000;
    let sent = 1;
    const worker = async (): Promise<void> => {
      while (sent < total) await chat(sent++);
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const section = sessionSection(page, bulk);
    await expect.poll(() => section.locator("tr.row").count(), { timeout: 60_000 }).toBe(total);
    await expect.poll(() => section.locator('tr.row[data-state="done"]').count(), { timeout: 60_000 }).toBe(total);
    expect(await page.locator('#conn[data-state="live"]').count()).toBe(1);
    // Rows are updated in place, never rebuilt: the row marked before is the same element.
    expect(await marked.evaluate((tr) => (tr as { __kept?: boolean }).__kept)).toBe(true);
    await expect.poll(() => section.locator("circle.point").count(), { timeout: 30_000 }).toBe(total);
  }, 180_000);
});
