/**
 * The inspector page's stylesheet (served as `assets/app.css`, inlined into snapshots). System
 * fonts only: the page works offline and asks no other origin for anything (§11). Decision
 * colours follow the terminal's: forward green, set blue, rewrite yellow, strip gray, withhold red.
 */
export const pageCss = `
:root {
  --bg: #fbfbfa; --fg: #1d1f21; --muted: #6b7075; --line: #e2e3e0; --panel: #ffffff; --hover: #f1f4f8; --sel: #e3ecfa;
  --forward: #1a7f37; --set: #0b62c4; --rewrite: #9a6700; --strip: #6e7781; --withhold: #cf222e;
  --forward-bg: #dafbe1; --set-bg: #ddf4ff; --rewrite-bg: #fff8c5; --strip-bg: #eaeef2; --withhold-bg: #ffebe9;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #16181b; --fg: #e6e6e6; --muted: #9aa0a6; --line: #2c3036; --panel: #1d2024; --hover: #23272d; --sel: #1f3350;
    --forward: #56d364; --set: #58a6ff; --rewrite: #e3b341; --strip: #8b949e; --withhold: #ff7b72;
    --forward-bg: #12261a; --set-bg: #0f2238; --rewrite-bg: #2b2411; --strip-bg: #24282e; --withhold-bg: #3a1618;
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%; }
body { background: var(--bg); color: var(--fg); font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
code, pre, .path, td.value, td.header, .raw-text { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
pre { margin: 4px 0; white-space: pre-wrap; word-break: break-word; }
h1, h2, h3, h4 { margin: 0; font-weight: 600; }
h1 { font-size: 15px; } h1 .sub { color: var(--muted); font-weight: 400; }
h2 { font-size: 13px; } h3 { font-size: 13px; margin: 14px 0 6px; } h4 { font-size: 12px; margin: 10px 0 4px; color: var(--muted); }
header.top { position: sticky; top: 0; z-index: 2; display: flex; gap: 16px; align-items: center; padding: 8px 14px; background: var(--panel); border-bottom: 1px solid var(--line); }
.filters { display: flex; gap: 8px; align-items: center; margin-left: auto; }
select, input, .button { font: inherit; }
select { padding: 2px 4px; background: var(--panel); color: var(--fg); border: 1px solid var(--line); border-radius: 4px; }
.conn { padding: 1px 8px; border-radius: 10px; font-size: 12px; background: var(--strip-bg); color: var(--strip); }
.conn.live { background: var(--forward-bg); color: var(--forward); }
.conn.offline { background: var(--withhold-bg); color: var(--withhold); }
main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(380px, 36%); height: calc(100% - 43px); }
.list { overflow: auto; padding: 10px 14px; }
#detail { overflow: auto; padding: 10px 14px; border-left: 1px solid var(--line); background: var(--panel); }
.placeholder { color: var(--muted); }
.session { margin-bottom: 22px; }
.session-head { display: flex; align-items: center; gap: 10px; }
.exports { margin-left: auto; display: flex; gap: 6px; }
.button { display: inline-block; padding: 2px 10px; border: 1px solid var(--line); border-radius: 4px; background: var(--panel); color: var(--fg); text-decoration: none; font-size: 12px; }
.button:hover { background: var(--hover); }
.totals { display: flex; flex-wrap: wrap; gap: 12px; color: var(--muted); margin: 4px 0; }
.err-count { color: var(--withhold); }
.chart svg { width: 100%; max-width: 640px; height: auto; display: block; }
.context-chart .axis { stroke: var(--line); }
.context-chart .line { fill: none; stroke: var(--set); stroke-width: 1.5; }
.context-chart .point { fill: var(--set); }
.context-chart .point.no-usage { fill: none; stroke: var(--muted); }
.context-chart .label { fill: var(--muted); font-size: 10px; }
table { border-collapse: collapse; width: 100%; }
th { text-align: left; white-space: nowrap; font-weight: 500; color: var(--muted); font-size: 11px; padding: 3px 6px; border-bottom: 1px solid var(--line); }
td { padding: 3px 6px; border-bottom: 1px solid var(--line); vertical-align: top; }
table.requests td { white-space: nowrap; }
table.requests td.col-request { max-width: 240px; overflow: hidden; text-overflow: ellipsis; }
table.requests td.col-provider { white-space: normal; min-width: 120px; max-width: 190px; }
table.requests .cost .api-eq { display: block; width: max-content; margin: 2px 0 0; }
.method { font-weight: 600; font-size: 11px; }
.upstream, .route, .ttfb, .tokens .cache { display: block; font-size: 11px; }
tr.row { cursor: pointer; }
tr.row:hover { background: var(--hover); }
tr.row.selected { background: var(--sel); }
tr.row:focus-visible { outline: 2px solid var(--set); outline-offset: -2px; }
tr.row.error .status { color: var(--withhold); }
.upstream { color: var(--rewrite); }
.route, .ttfb, .tokens .cache { color: var(--muted); }
.status { display: inline-flex; gap: 4px; align-items: center; }
.s2xx .status { color: var(--forward); } .s4xx .status, .s5xx .status { color: var(--withhold); }
.spinner { width: 9px; height: 9px; border-radius: 50%; border: 2px solid var(--set); border-right-color: transparent; animation: spin 0.8s linear infinite; }
@keyframes spin { to { transform: rotate(360deg); } }
@media (prefers-reduced-motion: reduce) { .spinner { animation: none; } }
.cost .api-eq { margin-left: 4px; font-size: 10px; color: var(--muted); border: 1px solid var(--line); border-radius: 3px; padding: 0 3px; }
.err { color: var(--withhold); font-weight: 700; }
.badge { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 11px; font-weight: 600; }
.badge.forward { color: var(--forward); background: var(--forward-bg); }
.badge.set { color: var(--set); background: var(--set-bg); }
.badge.rewrite { color: var(--rewrite); background: var(--rewrite-bg); }
.badge.strip { color: var(--strip); background: var(--strip-bg); }
.badge.withhold { color: var(--withhold); background: var(--withhold-bg); }
tr.decision.forward td.header { color: var(--forward); }
tr.decision.set td.header { color: var(--set); }
tr.decision.rewrite td.header { color: var(--rewrite); }
tr.decision.strip td.header { color: var(--strip); text-decoration: line-through; }
tr.decision.withhold td.header { color: var(--withhold); }
td.value { word-break: break-all; } td.reason { color: var(--muted); }
.detail-head { display: flex; align-items: baseline; gap: 10px; }
.detail-head .path { word-break: break-all; }
.detail-head .status { margin-left: auto; font-weight: 600; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 8px 0; }
dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; word-break: break-all; }
.error-box, .withheld-box { padding: 6px 10px; border-radius: 4px; background: var(--withhold-bg); color: var(--withhold); }
.marks { display: flex; flex-wrap: wrap; gap: 6px; margin: 4px 0; }
.mark { font-size: 11px; padding: 0 6px; border-radius: 3px; background: var(--strip-bg); color: var(--strip); }
.mark.truncated, .mark.evicted { background: var(--rewrite-bg); color: var(--rewrite); }
.part, .message { border-left: 3px solid var(--line); padding: 2px 0 2px 10px; margin: 6px 0; }
.part.system { border-color: var(--rewrite); }
.message.role-user { border-color: var(--set); } .message.role-assistant { border-color: var(--forward); }
.role { font-size: 11px; font-weight: 600; text-transform: uppercase; color: var(--muted); }
.cblock { margin: 4px 0; padding: 4px 8px; border-radius: 4px; background: var(--hover); }
.cblock-head { font-size: 11px; color: var(--muted); }
.cblock.image, .cblock.document { color: var(--muted); font-style: italic; }
.cblock.tool-result.is-error { background: var(--withhold-bg); }
.tool summary .desc { color: var(--muted); }
details { margin: 6px 0; } summary { cursor: pointer; color: var(--muted); }
.raw-text { max-height: 360px; overflow: auto; padding: 6px; background: var(--hover); border-radius: 4px; }
table.event-list td.t { white-space: nowrap; color: var(--muted); } table.event-list td.name { white-space: nowrap; }
table.event-list pre { margin: 0; }
`;
