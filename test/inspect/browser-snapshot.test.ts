/**
 * The page's rendering, from a hand-written snapshot opened from disk in real Chromium: every
 * decision colour, every content block kind, the decoded stream, marks for truncated and evicted
 * bodies, hostile text kept as text, and not one network request. (The live page against a real
 * relay is browser.test.ts.)
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { livePageHtml, snapshotHtml } from "../../src/inspect/page/assets.js";
import { chromeFound, launchBrowser, newPage, type Browser, type WatchedPage } from "./browser.js";
import { cannedSnapshot, HOSTILE } from "./canned.js";

describe("page assets", () => {
  it("the live page loads its code and style by relative URL, with nothing inline and no other origin", () => {
    const html = livePageHtml();
    expect(html).toContain('<script type="module" src="assets/app.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="assets/app.css">');
    expect(html).toContain('<link rel="icon" href="assets/icon.svg" type="image/svg+xml">');
    expect(html).not.toMatch(/<style|<script(?![^>]*src=)|\sstyle=|\son\w+=/i);
    expect(html).not.toMatch(/https?:|\/\/|src="\/|href="\//);
  });

  it("a snapshot keeps data that contains </script> inside its JSON block", () => {
    const html = snapshotHtml(cannedSnapshot);
    const start = html.indexOf('<script type="application/json" id="llm-relay-snapshot">');
    const block = html.slice(start, html.indexOf("</script>", start));
    const json = block.slice(block.indexOf(">") + 1);
    expect(json).not.toContain("<");
    expect(JSON.parse(json)).toEqual(cannedSnapshot);
    const outsideData = html.slice(0, start) + html.slice(html.indexOf("</script>", start));
    expect(outsideData).not.toMatch(/(?:src|href)\s*=\s*["']?(?:https?:)?\/\/|url\(|@import/i);
    expect(outsideData).toContain("default-src 'none'");
  });
});

describe.skipIf(!chromeFound)("snapshot rendering in Chromium", () => {
  let browser: Browser;
  let dir: string;
  let watched: WatchedPage;

  beforeAll(async () => {
    browser = await launchBrowser();
    dir = mkdtempSync(join(tmpdir(), "llm-relay-snapshot-"));
    const file = join(dir, "session.html");
    writeFileSync(file, snapshotHtml(cannedSnapshot));
    watched = await newPage(browser);
    await watched.page.goto(pathToFileURL(file).href);
    await watched.page.locator("tr.row").first().waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    expect(watched.errors).toEqual([]);
  });

  it("lists the session's requests with their figures, and makes no request but the file itself", async () => {
    const { page } = watched;
    await expect.poll(() => page.locator("tr.row").count()).toBe(3);
    const first = page.locator('tr.row[data-id="1"]');
    await expect.poll(() => first.innerText()).toContain("anthropic/claude-sonnet-4.5");
    const text = await first.innerText();
    expect(text).toContain("claude-sonnet-4-5");
    expect(text).toContain("routes[0] (model claude-sonnet-*)");
    expect(text).toContain("1.84 s");
    expect(text).toContain("412 ms");
    expect(text).toContain("in 1200");
    expect(text).toContain("cache r 9000");
    expect(text).toContain("86%");
    expect(text).toContain("$0.012");
    expect(text).toContain("API-equivalent");
    expect(await page.locator('tr.row[data-id="3"] .cost').count()).toBe(0);
    expect(await page.locator(".session .exports").count()).toBe(0);
    await expect.poll(() => page.locator(".context-chart circle.point").count()).toBe(3);
    expect(watched.requests).toEqual([page.url()]);
  });

  it("opens a request: decisions coloured by action, body rendered by block, stream decoded", async () => {
    const { page } = watched;
    await page.locator('tr.row[data-id="1"]').click();
    await page.locator("table.decisions").waitFor();
    const colours = await page.$$eval("tr.decision", (rows) =>
      Object.fromEntries(rows.map((r) => [r.getAttribute("data-action"), getComputedStyle(r.querySelector(".badge")!).color])),
    );
    expect(Object.keys(colours).sort()).toEqual(["forward", "rewrite", "set", "strip", "withhold"]);
    expect(new Set(Object.values(colours)).size).toBe(5);
    expect(colours.forward).toBe("rgb(26, 127, 55)");
    expect(colours.withhold).toBe("rgb(207, 34, 46)");

    const detail = page.locator("#detail");
    expect(await detail.locator('[data-part="system"]').innerText()).toContain("You are a careful assistant.");
    expect(await detail.locator('[data-tool="read_file"]').count()).toBe(1);
    expect(await detail.locator(".message").count()).toBe(3);
    expect(await detail.locator('[data-block-type="image"]').innerText()).toMatch(/\[image: image\/png, ~\d+ B\]/);
    expect(await detail.locator('[data-block-type="tool_use"]').first().innerText()).toContain("README.md");
    expect(await detail.locator('[data-block-type="tool_result"]').innerText()).toContain("# llm-relay");
    expect(await detail.locator('[data-part="assembled"] [data-part="text"]').innerText()).toContain("Hello world");
    expect(await detail.locator('[data-part="thinking"]').innerText()).toContain("The user wants a greeting.");
    expect(await detail.locator('[data-part="assembled"]').innerText()).toContain("src/index.ts");
    await detail.locator('[data-part="events"] summary').click();
    expect(await detail.locator("tr.event").count()).toBe(4);
    expect(await detail.locator("tr.event").nth(1).innerText()).toMatch(/420 ms\s+content_block_delta/);
  });

  it("keeps hostile text as text: no element made from it, nothing run", async () => {
    const { page } = watched;
    await page.locator('tr.row[data-id="1"]').click();
    await page.locator('[data-part="messages"]').waitFor();
    expect(await page.locator("#detail").innerText()).toContain(HOSTILE);
    expect(await page.locator("#detail img, #detail script").count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
  });

  it("marks errors, truncated and evicted bodies, and filters by status and errors", async () => {
    const { page } = watched;
    await page.locator('tr.row[data-id="2"]').click();
    await page.locator('[data-mark="truncated"]').waitFor();
    expect(await page.locator("#detail .error-box").innerText()).toContain("rate limited upstream");
    await page.keyboard.press("ArrowDown"); // from the clicked row to the next, opened with Enter
    await page.keyboard.press("Enter");
    await page.locator('[data-mark="evicted"]').first().waitFor();
    expect(await page.locator("#detail .detail-head").innerText()).toContain("#3");
    expect(await page.locator('#detail [data-mark="evicted"]').count()).toBe(2);

    const visible = (): Promise<string[]> => page.$$eval("tr.row:not([hidden])", (rows) => rows.map((r) => (r as HTMLElement).dataset.id!));
    await page.selectOption("#filter-status", "4xx");
    expect(await visible()).toEqual(["2"]);
    await page.selectOption("#filter-status", "");
    await page.check("#filter-errors");
    expect(await visible()).toEqual(["2"]);
    await page.uncheck("#filter-errors");
    await page.selectOption("#filter-provider", "openai");
    expect(await visible()).toEqual(["3"]);
    await page.selectOption("#filter-provider", "");
    await page.selectOption("#filter-model", "claude-sonnet-4-5");
    expect(await visible()).toEqual(["1"]);
    await page.selectOption("#filter-model", "");
    expect(await visible()).toEqual(["1", "2", "3"]);
    expect(watched.requests).toEqual([page.url()]);
  });
});
