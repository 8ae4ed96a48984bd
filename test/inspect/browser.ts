/**
 * A real Chromium for the inspector tests (Debian's, driven by playwright-core). When none is
 * installed the suites are reported skipped with the path that was looked for, never passed.
 * Every page opened through `newPage` records console errors, page errors and every request it
 * makes, so a test can assert the page ran cleanly and stayed on its origin.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";

export const CHROME_PATH = process.env.CHROME_PATH ?? "/usr/bin/chromium";
export const chromeFound = existsSync(CHROME_PATH);
if (!chromeFound) {
  console.warn(`inspector browser tests SKIPPED: no Chromium at ${CHROME_PATH} (install it, or set CHROME_PATH)`);
}

export interface Browser {
  context: BrowserContext;
  downloads: string;
  close(): Promise<void>;
}

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions, as text. */
  errors: string[];
  /** Every URL the page requested, in order. */
  requests: string[];
}

/** Chromium headless with a fresh profile; nothing it does outlives the test. */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "llm-relay-chromium-"));
  const downloads = mkdtempSync(join(tmpdir(), "llm-relay-downloads-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROME_PATH,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    acceptDownloads: true,
    downloadsPath: downloads,
    viewport: { width: 1600, height: 900 },
    colorScheme: "light",
  });
  return {
    context,
    downloads,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      rmSync(downloads, { recursive: true, force: true });
    },
  };
}

export async function newPage(browser: Browser): Promise<WatchedPage> {
  const page = await browser.context.newPage();
  const watched: WatchedPage = { page, errors: [], requests: [] };
  page.on("console", (message) => {
    if (message.type() === "error") watched.errors.push(`console: ${message.text()}`);
  });
  page.on("pageerror", (error) => watched.errors.push(`pageerror: ${error.message}`));
  page.on("request", (request) => watched.requests.push(request.url()));
  return watched;
}

/** All the text a user could see or copy from the page, attributes included. */
export async function pageSource(page: Page): Promise<string> {
  return page.evaluate(() => document.documentElement.outerHTML);
}
