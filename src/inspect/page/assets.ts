/**
 * What the inspector page is made of (DESIGN §11): the HTML for `GET /_relay/`, the browser code
 * (`assets/app.js`, compiled from `app.ts` by the project's tsc) and the stylesheet, plus the
 * self-contained HTML snapshot an export downloads.
 *
 * The live page references its assets by relative URL, so it works at `/_relay/` and at
 * `/_t/<token>/_relay/` alike, and has no inline script or style (CSP `default-src 'self'`). A
 * snapshot inlines everything and pins its own CSP: it renders from disk with no request at all.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { SnapshotData } from "../types.js";
import { pageCss } from "./styles.js";

export { pageCss };

const TITLE = "llm-relay inspector";

/** The page at `/_relay/`: a shell that loads `assets/app.css` and `assets/app.js` (relative). */
export function livePageHtml(): string {
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${TITLE}</title>`,
    // Without an icon of its own the browser asks for /favicon.ico, which the relay would relay (and list).
    '<link rel="icon" href="assets/icon.svg" type="image/svg+xml">',
    '<link rel="stylesheet" href="assets/app.css">',
    '<script type="module" src="assets/app.js"></script>',
    "</head>",
    '<body><div id="app"><noscript>The inspector needs JavaScript.</noscript></div></body>',
    "</html>",
    "",
  ].join("\n");
}

/** The page's icon, served as `assets/icon.svg` (image/svg+xml): two arrows, one relayed. */
export const iconSvg =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#0b62c4"/>' +
  '<path d="M3 5h8l-2-2M13 11H5l2 2" fill="none" stroke="#fff" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/></svg>';

let cachedScript: string | undefined;

/**
 * The browser code. From the build, `app.js` sits next to this file; when the tests run the
 * sources directly, `app.ts` is there instead and is transpiled once with the dev-time compiler.
 */
export function appScript(): string {
  if (cachedScript !== undefined) return cachedScript;
  const compiled = new URL("./app.js", import.meta.url);
  if (existsSync(fileURLToPath(compiled))) {
    cachedScript = readFileSync(compiled, "utf8");
  } else {
    const ts = createRequire(import.meta.url)("typescript") as typeof import("typescript");
    const source = readFileSync(new URL("./app.ts", import.meta.url), "utf8");
    cachedScript = ts.transpileModule(source, {
      compilerOptions: { target: ts.ScriptTarget.ES2023, module: ts.ModuleKind.ES2022, verbatimModuleSyntax: true },
    }).outputText;
  }
  return cachedScript;
}

/** JSON that is safe inside `<script>`: no `<` survives, so `</script>` in the data cannot close it. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

function cspHash(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * One session as a single HTML file: the same page code and stylesheet inlined, the data in a
 * JSON block. Its CSP allows only those two inline blocks (by hash) and no network at all, so the
 * file makes no request when opened, even if a captured body tried to.
 */
export function snapshotHtml(data: SnapshotData): string {
  // The compiled code has no `</script`, but a stray one must not end the block early.
  const script = appScript().replace(/<\/script/gi, "<\\/script");
  const css = pageCss;
  const csp = [
    "default-src 'none'",
    `script-src ${cspHash(script)}`,
    `style-src ${cspHash(css)}`,
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(`${TITLE}: session ${data.session.id}`)}</title>`,
    '<link rel="icon" href="data:,">',
    `<style>${css}</style>`,
    `<script type="application/json" id="llm-relay-snapshot">${scriptJson(data)}</script>`,
    "</head>",
    '<body><div id="app"><noscript>The snapshot needs JavaScript to render.</noscript></div>',
    `<script type="module">${script}</script>`,
    "</body>",
    "</html>",
    "",
  ].join("\n");
}
