/**
 * Stand-in for `page/assets.ts` (the page's own branch builds the real one) so the API can be
 * served and tested before the page lands. Same exports, minimal content. Deleted when the page lands.
 */
import type { SnapshotData } from "./types.js";

export function livePageHtml(): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>llm-relay inspector</title><link rel="stylesheet" href="assets/app.css"></head><body><main id="app"></main><script type="module" src="assets/app.js"></script></body></html>`;
}

export function appScript(): string {
  return `fetch("api/requests").then((r) => r.json()).then((list) => { document.getElementById("app").textContent = list.requests.length + " requests"; });`;
}

export const pageCss = "body { font-family: system-ui, sans-serif; }";

export function snapshotHtml(data: SnapshotData): string {
  const json = JSON.stringify(data).replace(/</g, "\\u003c");
  return `<!doctype html><html><head><meta charset="utf-8"><title>llm-relay session ${data.session.id.replace(/[<&"]/g, "")}</title></head><body><script type="application/json" id="llm-relay-snapshot">${json}</script></body></html>`;
}
