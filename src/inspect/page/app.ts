/**
 * The inspector page's browser code (DESIGN §11), compiled by the project's tsc into one plain
 * module script (`assets/app.js`). No framework: the page is a list of rows that change in place,
 * a detail pane and one small SVG chart, which the DOM does well enough by itself.
 *
 * Two modes, one code path:
 * - live: loads `api/requests` and `api/sessions`, then follows `api/events` (SSE); never polls.
 * - snapshot: an exported HTML file carries a `SnapshotData` JSON block and no network at all.
 *
 * Every captured string is attacker-controlled text (prompts, tool output, upstream bodies), so
 * nodes are built with `textContent` only: nothing here parses data as HTML.
 */
import type {
  AssembledResponse,
  CapturedBody,
  RequestDetail,
  RequestList,
  RequestSummary,
  SessionList,
  ContextPoint,
  SessionSummary,
  SessionUpdate,
  SnapshotData,
  StreamEvent,
} from "../types.js";

// ---------------------------------------------------------------------------------------------
// DOM building (text only)

type Child = Node | string | number | null | undefined | false;

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | undefined> | string = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (typeof attrs === "string") node.className = attrs;
  else for (const [name, value] of Object.entries(attrs)) if (value !== undefined) node.setAttribute(name, value);
  append(node, children);
  return node;
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

function fill(node: Element, ...children: Child[]): void {
  node.replaceChildren();
  append(node, children);
}

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag: string, attrs: Record<string, string | number>, ...children: Child[]): SVGElement {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  append(node, children);
  return node;
}

// ---------------------------------------------------------------------------------------------
// Formatting (pure)

function fmtTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleTimeString([], { hour12: false });
}

function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return "";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function fmtCount(n: number | undefined): string {
  if (n === undefined) return "–";
  if (n < 10_000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(2)}M`;
}

function fmtUsd(usd: number): string {
  if (usd === 0) return "$0";
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  if (usd < 1) return `$${usd.toFixed(3)}`;
  return `$${usd.toFixed(2)}`;
}

function fmtPct(rate: number | undefined): string {
  return rate === undefined ? "" : `${Math.round(rate * 100)}%`;
}

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function statusClass(summary: RequestSummary): string {
  if (summary.state === "active") return "active";
  if (summary.status >= 500 || (summary.status === 0 && summary.error)) return "s5xx";
  if (summary.status >= 400) return "s4xx";
  if (summary.status >= 300) return "s3xx";
  return "s2xx";
}

function isError(summary: RequestSummary): boolean {
  return summary.status >= 400 || summary.error !== undefined || (summary.state === "done" && summary.status === 0);
}

function costNode(cost: { usd: number; apiEquivalent: boolean; partial?: boolean } | undefined, priceRef?: string): Child {
  if (!cost) return null;
  const label = cost.apiEquivalent ? "API-equivalent" : undefined;
  return h(
    "span",
    { class: "cost", title: priceRef },
    fmtUsd(cost.usd),
    cost.partial ? "+" : null,
    label ? h("span", "api-eq", label) : null,
  );
}

function tokensNode(usage: RequestSummary["usage"]): Child {
  if (!usage) return null;
  return h(
    "span",
    "tokens",
    h("span", { title: "input / output tokens" }, `in ${fmtCount(usage.inputTokens)} · out ${fmtCount(usage.outputTokens)}`),
    h("span", { class: "cache", title: "cache read / cache write tokens" }, `cache r ${fmtCount(usage.cacheReadTokens)} · w ${fmtCount(usage.cacheCreationTokens)}`),
  );
}

// ---------------------------------------------------------------------------------------------
// State

interface RowView {
  summary: RequestSummary;
  tr: HTMLTableRowElement;
}

interface SessionView {
  id: string;
  summary?: SessionUpdate;
  section: HTMLElement;
  totals: HTMLElement;
  chart: HTMLElement;
  tbody: HTMLTableSectionElement;
  rows: RowView[];
  chartTimer?: number;
  chartDrawn?: number;
}

interface Filters {
  provider: string;
  status: string;
  model: string;
  errorsOnly: boolean;
}

interface Source {
  snapshot: boolean;
  detail(id: number): Promise<RequestDetail | undefined>;
}

const rows = new Map<number, RowView>();
const sessions = new Map<string, SessionView>();
const filters: Filters = { provider: "", status: "", model: "", errorsOnly: false };
const known = { providers: new Set<string>(), models: new Set<string>() };
let selected: number | undefined;
let source: Source;

const ui = {
  sessions: h("div", { id: "sessions" }),
  detail: h("aside", { id: "detail" }, h("p", "placeholder", "Select a request to see its headers, body and response.")),
  conn: h("span", { id: "conn", class: "conn" }),
  empty: h("p", { class: "placeholder", id: "empty" }, "No requests yet. Point a client at the relay; requests appear here as they start."),
  providerSelect: h("select", { id: "filter-provider", "aria-label": "provider" }, h("option", { value: "" }, "all providers")),
  modelSelect: h("select", { id: "filter-model", "aria-label": "model" }, h("option", { value: "" }, "all models")),
  statusSelect: h(
    "select",
    { id: "filter-status", "aria-label": "status" },
    h("option", { value: "" }, "any status"),
    h("option", { value: "2xx" }, "2xx"),
    h("option", { value: "4xx" }, "4xx"),
    h("option", { value: "5xx" }, "5xx"),
  ),
  errorsOnly: h("input", { id: "filter-errors", type: "checkbox" }),
};

function matches(summary: RequestSummary): boolean {
  if (filters.provider && summary.provider !== filters.provider) return false;
  if (filters.model && summary.model !== filters.model) return false;
  if (filters.status) {
    const hundred = Number(filters.status[0]) * 100;
    if (summary.state === "active" || summary.status < hundred || summary.status >= hundred + 100) return false;
  }
  if (filters.errorsOnly && !isError(summary)) return false;
  return true;
}

function addOption(select: HTMLSelectElement, set: Set<string>, value: string | undefined): void {
  if (!value || set.has(value)) return;
  set.add(value);
  select.appendChild(h("option", { value }, value));
}

// ---------------------------------------------------------------------------------------------
// The list

const COLUMNS = ["time", "request", "model", "provider", "status", "duration", "tokens", "cache hit", "cost"] as const;

function colClass(column: string): string {
  return `col-${column.replace(/\W+/g, "-")}`;
}

function sessionView(id: string): SessionView {
  let view = sessions.get(id);
  if (view) return view;
  const totals = h("div", "totals");
  const chart = h("div", "chart");
  const tbody = h("tbody");
  const actions = source.snapshot
    ? null
    : h(
        "span",
        "exports",
        h("a", { class: "button", href: `api/sessions/${encodeURIComponent(id)}.har`, download: "", "data-export": "har" }, "Download HAR"),
        h("a", { class: "button", href: `api/sessions/${encodeURIComponent(id)}.html`, download: "", "data-export": "html" }, "Download HTML"),
      );
  const section = h(
    "section",
    { class: "session", "data-session": id },
    h("header", "session-head", h("h2", {}, "Session ", h("code", {}, id)), actions),
    totals,
    chart,
    h(
      "table",
      "requests",
      h("thead", {}, h("tr", {}, ...COLUMNS.map((c) => h("th", colClass(c), c)))),
      tbody,
    ),
  );
  view = { id, section, totals, chart, tbody, rows: [] };
  sessions.set(id, view);
  ui.sessions.appendChild(section);
  ui.empty.hidden = true;
  return view;
}

function renderRow(view: RowView): void {
  const s = view.summary;
  const tr = view.tr;
  tr.className = `row ${statusClass(s)}${s.id === selected ? " selected" : ""}${isError(s) ? " error" : ""}`;
  tr.dataset.state = s.state;
  tr.dataset.status = String(s.status);
  const cells = [
    fmtTime(s.time),
    h("span", {}, h("span", "method", s.method), " ", h("span", { class: "path", title: s.path }, s.path)),
    s.model ? h("span", {}, s.model, s.upstreamModel && s.upstreamModel !== s.model ? h("span", "upstream", `→ ${s.upstreamModel}`) : null) : "",
    s.provider ? h("span", {}, s.provider, s.route ? h("span", "route", s.route) : null) : "",
    h(
      "span",
      "status",
      s.state === "active" ? h("span", { class: "spinner", title: "in flight" }) : null,
      s.status === 0 ? (s.state === "active" ? "…" : "—") : String(s.status),
      s.oauthWithheld ? h("span", { class: "badge withhold", title: "an OAuth token was withheld from this provider" }, "OAuth withheld") : null,
      s.error ? h("span", { class: "err", title: s.error }, "!") : null,
    ),
    h("span", {}, fmtMs(s.durationMs), s.ttfbMs !== undefined ? h("span", { class: "ttfb", title: "time to first byte" }, `ttfb ${fmtMs(s.ttfbMs)}`) : null),
    tokensNode(s.usage),
    fmtPct(s.cacheHitRate),
    costNode(s.cost, s.cost?.priceRef),
  ];
  if (tr.cells.length === 0) for (const c of COLUMNS) tr.appendChild(h("td", colClass(c)));
  cells.forEach((content, i) => fill(tr.cells[i] as HTMLTableCellElement, content));
  tr.hidden = !matches(s);
}

function upsertRequest(summary: RequestSummary): Set<string> {
  const touched = new Set<string>();
  const existing = rows.get(summary.id);
  if (existing) {
    // Events may overtake the initial list; a finished request never goes back to in-flight.
    if (existing.summary.state === "done" && summary.state === "active") return touched;
    existing.summary = summary;
    renderRow(existing);
  } else {
    const session = sessionView(summary.sessionId);
    const tr = h("tr", { tabindex: "0" });
    tr.dataset.id = String(summary.id);
    const view: RowView = { summary, tr };
    rows.set(summary.id, view);
    const last = session.rows.at(-1);
    const after = !last || last.summary.id < summary.id ? -1 : session.rows.findIndex((r) => r.summary.id > summary.id);
    if (after === -1) {
      session.rows.push(view);
      session.tbody.appendChild(tr);
    } else {
      session.tbody.insertBefore(tr, session.rows[after]!.tr);
      session.rows.splice(after, 0, view);
    }
    renderRow(view);
  }
  addOption(ui.providerSelect, known.providers, summary.provider);
  addOption(ui.modelSelect, known.models, summary.model);
  touched.add(summary.sessionId);
  if (summary.id === selected) scheduleDetailReload();
  return touched;
}

function refreshSessionVisibility(id: string): void {
  const view = sessions.get(id);
  if (view) view.section.hidden = !view.rows.some((r) => !r.tr.hidden);
}

function applyFilters(): void {
  for (const view of rows.values()) view.tr.hidden = !matches(view.summary);
  for (const id of sessions.keys()) refreshSessionVisibility(id);
}

function renderSession(summary: SessionUpdate): void {
  const view = sessionView(summary.id);
  view.summary = summary;
  const t = summary.tokens;
  fill(
    view.totals,
    h("span", {}, `${summary.requests} request${summary.requests === 1 ? "" : "s"}`),
    summary.errors ? h("span", "err-count", `${summary.errors} error${summary.errors === 1 ? "" : "s"}`) : null,
    h("span", {}, `in ${fmtCount(t.inputTokens)} · out ${fmtCount(t.outputTokens)} · cache read ${fmtCount(t.cacheReadTokens)} · cache write ${fmtCount(t.cacheCreationTokens)}`),
    summary.cost ? h("span", { title: summary.cost.partial ? "some requests had no known price" : undefined }, "cost ", costNode(summary.cost)) : null,
    h("span", "span", `${fmtTime(summary.firstTime)} – ${fmtTime(summary.lastTime)}`),
  );
  scheduleChart(view);
}

/** Charts redraw at most a few times a second: a burst of requests must not keep the page from reading its feed. */
const CHART_INTERVAL_MS = 400;

function scheduleChart(view: SessionView): void {
  if (view.chartTimer !== undefined) return;
  const wait = Math.max(0, (view.chartDrawn ?? 0) + CHART_INTERVAL_MS - performance.now());
  view.chartTimer = window.setTimeout(() => {
    view.chartTimer = undefined;
    view.chartDrawn = performance.now();
    fill(view.chart, contextChart(contexts.get(view.id) ?? []));
  }, wait);
}

/** Chart points per session, by request id: a full list from `api/sessions`, then one point per live event. */
const contexts = new Map<string, ContextPoint[]>();
const MAX_CONTEXT_POINTS = 10_000;

function setContext(id: string, points: ContextPoint[]): void {
  const known = contexts.get(id) ?? [];
  // Points that arrived live while the list loaded are newer than the list: keep them too.
  const last = points.at(-1)?.id ?? -1;
  contexts.set(id, [...points, ...known.filter((p) => p.id > last)].slice(-MAX_CONTEXT_POINTS));
}

function addPoint(id: string, point: ContextPoint): void {
  let points = contexts.get(id);
  if (!points) contexts.set(id, (points = []));
  const last = points.at(-1);
  if (!last || last.id < point.id) points.push(point);
  else {
    const at = points.findIndex((p) => p.id >= point.id);
    if (points[at]!.id === point.id) points[at] = point;
    else points.splice(at, 0, point);
  }
  if (points.length > MAX_CONTEXT_POINTS) points.shift();
}

/**
 * Context size per request (input + cache tokens): how close the conversation is to its window.
 * One point per request; a request that reported no usage sits on the axis as a hollow mark.
 */
function contextChart(points: readonly ContextPoint[]): Node {
  if (points.length === 0) return h("p", "placeholder chart-empty", "No requests in this session have ended yet.");
  const width = 640;
  const height = 120;
  const pad = { left: 44, right: 10, top: 10, bottom: 18 };
  let max = 1;
  for (const p of points) if (p.tokens !== undefined && p.tokens > max) max = p.tokens;
  const x = (i: number): number =>
    points.length <= 1 ? pad.left + (width - pad.left - pad.right) / 2 : pad.left + (i * (width - pad.left - pad.right)) / (points.length - 1);
  const y = (tokens: number): number => pad.top + (1 - tokens / max) * (height - pad.top - pad.bottom);
  let line = "";
  points.forEach((p, i) => {
    if (p.tokens !== undefined) line += `${line === "" ? "M" : "L"}${x(i).toFixed(1)},${y(p.tokens).toFixed(1)} `;
  });
  const small = points.length > 200;
  return svg(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, class: "context-chart", role: "img", "aria-label": `context size per request, ${points.length} points` },
    svg("line", { x1: pad.left, y1: y(0), x2: width - pad.right, y2: y(0), class: "axis" }),
    svg("line", { x1: pad.left, y1: pad.top, x2: pad.left, y2: y(0), class: "axis" }),
    svg("text", { x: pad.left - 4, y: pad.top + 8, class: "label", "text-anchor": "end" }, fmtCount(max)),
    svg("text", { x: pad.left - 4, y: y(0), class: "label", "text-anchor": "end" }, "0"),
    svg("text", { x: width - pad.right, y: height - 4, class: "label", "text-anchor": "end" }, "context tokens per request →"),
    line.includes("L") ? svg("path", { d: line.trim(), class: "line" }) : null,
    ...points.map((p, i) =>
      svg(
        "circle",
        {
          cx: x(i).toFixed(1),
          cy: y(p.tokens ?? 0).toFixed(1),
          r: small ? 1.5 : 3,
          class: p.tokens === undefined ? "point no-usage" : "point",
          "data-id": p.id,
        },
        small ? null : svg("title", {}, `#${p.id} ${fmtTime(p.time)}: ${p.tokens === undefined ? "no usage reported" : `${p.tokens} tokens`}`),
      ),
    ),
  );
}

// Bursts of events are applied once per frame, so 1,000 requests cost 1,000 row updates, not a rebuild each.
const pending = { requests: new Map<number, RequestSummary>(), sessions: new Map<string, SessionUpdate>(), scheduled: false };

/** A session arrives whole (`api/sessions`, a snapshot) or as a live update with at most one new point. */
function enqueue(kind: "request" | "session", data: RequestSummary | SessionSummary | SessionUpdate): void {
  if (kind === "request") pending.requests.set((data as RequestSummary).id, data as RequestSummary);
  else {
    const session = data as SessionUpdate & { context?: ContextPoint[] };
    if (Array.isArray(session.context)) setContext(session.id, session.context);
    if (session.point) addPoint(session.id, session.point);
    pending.sessions.set(session.id, session);
  }
  if (!pending.scheduled) {
    pending.scheduled = true;
    requestAnimationFrame(flush);
  }
}

function flush(): void {
  pending.scheduled = false;
  const touched = new Set<string>();
  const requests = [...pending.requests.values()].sort((a, b) => a.id - b.id);
  pending.requests.clear();
  for (const summary of requests) for (const id of upsertRequest(summary)) touched.add(id);
  for (const summary of pending.sessions.values()) {
    renderSession(summary);
    touched.add(summary.id);
  }
  pending.sessions.clear();
  for (const id of touched) refreshSessionVisibility(id);
}

// ---------------------------------------------------------------------------------------------
// The opened request

let reloadTimer: number | undefined;

function scheduleDetailReload(): void {
  if (reloadTimer !== undefined) return;
  reloadTimer = window.setTimeout(() => {
    reloadTimer = undefined;
    if (selected !== undefined) void openRequest(selected, false);
  }, 150);
}

async function openRequest(id: number, fresh = true): Promise<void> {
  const previous = selected;
  selected = id;
  if (previous !== undefined && previous !== id) {
    const old = rows.get(previous);
    if (old) renderRow(old);
  }
  const row = rows.get(id);
  if (row) renderRow(row);
  if (fresh) fill(ui.detail, h("p", "placeholder", "Loading…"));
  let detail: RequestDetail | undefined;
  try {
    detail = await source.detail(id);
  } catch (error) {
    if (selected === id) fill(ui.detail, h("p", "error-box", `Could not load request #${id}: ${String(error)}`));
    return;
  }
  if (selected !== id) return;
  if (!detail) {
    fill(ui.detail, h("p", "placeholder", `Request #${id} is no longer kept.`));
    return;
  }
  const scroll = ui.detail.scrollTop;
  fill(ui.detail, renderDetail(detail));
  if (!fresh) ui.detail.scrollTop = scroll;
}

function section(title: string, ...children: Child[]): HTMLElement {
  return h("section", { class: "block", "data-block": title.toLowerCase() }, h("h3", {}, title), ...children);
}

function kv(pairs: Array<[string, Child]>): HTMLElement {
  const dl = h("dl", "kv");
  for (const [k, v] of pairs) if (v !== undefined && v !== null && v !== "" && v !== false) append(dl, [h("dt", {}, k), h("dd", {}, v)]);
  return dl;
}

function renderDetail(d: RequestDetail): Node {
  const frag = document.createDocumentFragment();
  append(frag, [
    h(
      "header",
      "detail-head",
      h("h2", {}, `#${d.id} `, h("span", "method", d.method), " ", h("span", "path", d.path)),
      h("span", `status ${statusClass(d)}`, d.state === "active" ? "in flight" : String(d.status || "no response")),
    ),
    kv([
      ["time", new Date(d.time).toLocaleString()],
      ["session", d.sessionId],
      ["model", d.model ? `${d.model}${d.upstreamModel && d.upstreamModel !== d.model ? ` → ${d.upstreamModel}` : ""}` : undefined],
      ["provider", d.provider],
      ["rule", d.route],
      ["upstream", d.upstream],
      ["duration", fmtMs(d.durationMs)],
      ["ttfb", fmtMs(d.ttfbMs)],
      ["tokens", tokensNode(d.usage)],
      ["cache hit", fmtPct(d.cacheHitRate)],
      ["cost", costNode(d.cost, d.cost?.priceRef)],
    ]),
    d.error ? h("p", "error-box", d.error) : null,
    d.oauthWithheld ? h("p", "withheld-box", "An Anthropic OAuth token was withheld from this provider (it is not trusted with it).") : null,
    section("Header decisions", decisionsTable(d)),
    section(
      "Request",
      headersDetails("Request headers as the client sent them", d.request.headers),
      renderRequestBody(d.request.body, d.state === "active"),
    ),
    d.response ? renderResponse(d.response, d.state === "active") : section("Response", h("p", "placeholder", d.state === "active" ? "Waiting for the response…" : "No response.")),
  ]);
  return frag;
}

function decisionsTable(d: RequestDetail): Node {
  if (d.decisions.length === 0) return h("p", "placeholder", "No header decisions recorded.");
  return h(
    "table",
    "decisions",
    h("thead", {}, h("tr", {}, h("th", {}, "header"), h("th", {}, "action"), h("th", {}, "value"), h("th", {}, "reason"))),
    h(
      "tbody",
      {},
      ...d.decisions.map((dec) =>
        h(
          "tr",
          { class: `decision ${dec.action}`, "data-action": dec.action, "data-header": dec.header },
          h("td", "header", dec.header),
          h("td", {}, h("span", `badge ${dec.action}`, dec.action)),
          h("td", "value", dec.value),
          h("td", "reason", dec.reason),
        ),
      ),
    ),
  );
}

function headersDetails(title: string, headers: Array<[string, string]>): Node {
  return h(
    "details",
    "headers",
    h("summary", {}, `${title} (${headers.length})`),
    h("table", "header-list", h("tbody", {}, ...headers.map(([n, v]) => h("tr", {}, h("td", "header", n), h("td", "value", v))))),
  );
}

/** `running`: the request has not ended, so its bodies are still being captured (they are shown, redacted, once it ends). */
function bodyMarks(body: CapturedBody, running: boolean): Node {
  return h(
    "p",
    "marks",
    h("span", "mark", `${fmtBytes(body.bytes)}${body.contentType ? ` · ${body.contentType}` : ""}`),
    body.encoding ? h("span", "mark", `content-encoding ${body.encoding} (decoded for display)`) : null,
    body.truncated ? h("span", { class: "mark truncated", "data-mark": "truncated" }, "truncated: only the first part was kept") : null,
    body.evicted ? h("span", { class: "mark evicted", "data-mark": "evicted" }, "evicted to stay within inspect.maxBytes") : null,
    body.withheld !== undefined ? h("span", { class: "mark withheld", "data-mark": "withheld" }, `withheld: ${body.withheld}`) : null,
    !body.evicted && body.withheld === undefined && body.text === undefined && body.bytes > 0
      ? running
        ? h("span", { class: "mark", "data-mark": "running" }, "still arriving: shown when the request ends")
        : h("span", "mark", "binary, not shown")
      : null,
  );
}

function rawDetails(title: string, text: string, open = false): Node {
  const details = h("details", "raw", h("summary", {}, title), h("pre", "raw-text", text));
  details.open = open;
  return details;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const json = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v, null, 2) ?? "");

function renderRequestBody(body: CapturedBody | undefined, running: boolean): Node {
  if (!body) return h("p", "placeholder", "No body.");
  const parsed = parseJson(body.text);
  return h(
    "div",
    "body",
    bodyMarks(body, running),
    isObj(parsed) ? renderPrompt(parsed) : body.text !== undefined && body.truncated ? h("p", "placeholder", "Not complete JSON (truncated); see the raw body.") : null,
    body.text !== undefined ? rawDetails("Raw request body", body.text, !isObj(parsed)) : null,
  );
}

/** Anthropic Messages and OpenAI Chat/Responses bodies: system prompt, tools, messages. */
function renderPrompt(body: Obj): Node {
  const out = h("div", "prompt");
  const params: Array<[string, Child]> = [];
  for (const key of ["model", "stream", "max_tokens", "max_completion_tokens", "temperature", "reasoning_effort"]) {
    if (body[key] !== undefined) params.push([key, String(body[key])]);
  }
  if (isObj(body.thinking)) params.push(["thinking", JSON.stringify(body.thinking)]);
  if (params.length) out.appendChild(kv(params));

  const system = body.system ?? body.instructions;
  if (system !== undefined) out.appendChild(h("div", { class: "part system", "data-part": "system" }, h("h4", {}, "System prompt"), ...contentBlocks(system)));

  if (Array.isArray(body.tools) && body.tools.length) {
    out.appendChild(
      h(
        "div",
        { class: "part tools", "data-part": "tools" },
        h("h4", {}, `Tools (${body.tools.length})`),
        ...body.tools.map((tool) => {
          const t = isObj(tool) ? tool : {};
          const fn = isObj(t.function) ? t.function : t;
          const name = str(fn.name) ?? str(t.type) ?? "tool";
          const schema = fn.input_schema ?? fn.parameters;
          return h(
            "details",
            { class: "tool", "data-tool": name },
            h("summary", {}, h("code", {}, name), str(fn.description) ? h("span", "desc", ` ${firstLine(str(fn.description)!)}`) : null),
            str(fn.description) ? h("pre", "text", str(fn.description)!) : null,
            schema !== undefined ? h("pre", "json", json(schema)) : null,
          );
        }),
      ),
    );
  }

  const messages = Array.isArray(body.messages) ? body.messages : Array.isArray(body.input) ? body.input : typeof body.input === "string" ? [{ role: "user", content: body.input }] : undefined;
  if (messages) {
    out.appendChild(
      h(
        "div",
        { class: "part messages", "data-part": "messages" },
        h("h4", {}, `Messages (${messages.length})`),
        ...messages.map((m) => renderMessage(m)),
      ),
    );
  }
  return out;
}

function firstLine(text: string): string {
  const line = text.split("\n", 1)[0] ?? "";
  return line.length > 100 ? `${line.slice(0, 100)}…` : line;
}

function renderMessage(message: unknown): Node {
  if (!isObj(message)) return h("pre", "json", json(message));
  const role = str(message.role) ?? str(message.type) ?? "item";
  const blocks: Child[] = [];
  if (message.content !== undefined && message.content !== null) blocks.push(...contentBlocks(message.content));
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      const c = isObj(call) ? call : {};
      const fn = isObj(c.function) ? c.function : {};
      blocks.push(toolUse(str(fn.name) ?? "tool", str(c.id), fn.arguments));
    }
  }
  if (role === "function_call") blocks.push(toolUse(str(message.name) ?? "tool", str(message.call_id), message.arguments));
  if (role === "function_call_output") blocks.push(toolResult(str(message.call_id), message.output, false));
  const label = str(message.tool_call_id) ? `${role} (for ${str(message.tool_call_id)})` : role;
  return h("div", { class: `message role-${role}`, "data-role": role }, h("div", "role", label), ...blocks);
}

function contentBlocks(content: unknown): Node[] {
  if (typeof content === "string") return [h("pre", { class: "block-text", "data-block-type": "text" }, content)];
  if (!Array.isArray(content)) return [h("pre", "json", json(content))];
  return content.map((block) => contentBlock(block));
}

function toolUse(name: string, id: string | undefined, input: unknown): Node {
  let shown = input;
  if (typeof input === "string") shown = parseJson(input) ?? input;
  return h(
    "div",
    { class: "cblock tool-use", "data-block-type": "tool_use" },
    h("div", "cblock-head", "tool_use ", h("code", {}, name), id ? h("span", "id", ` ${id}`) : null),
    h("pre", "json", json(shown)),
  );
}

function toolResult(id: string | undefined, content: unknown, isErr: boolean): Node {
  return h(
    "div",
    { class: `cblock tool-result${isErr ? " is-error" : ""}`, "data-block-type": "tool_result" },
    h("div", "cblock-head", "tool_result", id ? h("span", "id", ` for ${id}`) : null, isErr ? h("span", "badge withhold", "error") : null),
    ...(content === undefined ? [] : contentBlocks(content)),
  );
}

function imagePlaceholder(detail: string): Node {
  return h("div", { class: "cblock image", "data-block-type": "image" }, `[image${detail ? `: ${detail}` : ""}]`);
}

function contentBlock(block: unknown): Node {
  if (typeof block === "string") return h("pre", { class: "block-text", "data-block-type": "text" }, block);
  if (!isObj(block)) return h("pre", "json", json(block));
  const type = str(block.type) ?? "";
  switch (type) {
    case "text":
    case "input_text":
    case "output_text":
      return h("pre", { class: "block-text", "data-block-type": "text" }, str(block.text) ?? "");
    case "thinking":
      return h("div", { class: "cblock thinking", "data-block-type": "thinking" }, h("div", "cblock-head", "thinking"), h("pre", "text", str(block.thinking) ?? ""));
    case "redacted_thinking":
      return h("div", { class: "cblock thinking", "data-block-type": "redacted_thinking" }, "[redacted thinking]");
    case "tool_use":
    case "server_tool_use":
      return toolUse(str(block.name) ?? "tool", str(block.id), block.input);
    case "tool_result":
      return toolResult(str(block.tool_use_id), block.content, block.is_error === true);
    case "image": {
      const src = isObj(block.source) ? block.source : {};
      const data = str(src.data);
      const detail = [str(src.media_type), data ? `~${fmtBytes(Math.floor((data.length * 3) / 4))}` : str(src.type)].filter(Boolean).join(", ");
      return imagePlaceholder(detail);
    }
    case "image_url":
    case "input_image":
      return imagePlaceholder("");
    case "document":
    case "input_file":
      return h("div", { class: "cblock document", "data-block-type": "document" }, "[document]");
    default:
      return h("div", { class: "cblock other", "data-block-type": type || "unknown" }, h("div", "cblock-head", type || "block"), h("pre", "json", json(block)));
  }
}

function renderResponse(r: NonNullable<RequestDetail["response"]>, running: boolean): Node {
  return section(
    "Response",
    h("p", {}, "status ", h("strong", {}, String(r.status))),
    headersDetails("Response headers as relayed", r.headers),
    r.assembled ? renderAssembled(r.assembled) : null,
    r.events ? renderEvents(r.events) : null,
    r.body ? bodyMarks(r.body, running) : null,
    r.body?.text !== undefined ? rawDetails("Raw response body", r.body.text, !r.assembled && !r.events) : null,
  );
}

function renderAssembled(a: AssembledResponse): Node {
  return h(
    "div",
    { class: "assembled", "data-part": "assembled" },
    a.thinking ? h("div", { class: "cblock thinking", "data-part": "thinking" }, h("div", "cblock-head", "thinking"), h("pre", "text", a.thinking)) : null,
    h("div", { class: "assembled-text", "data-part": "text" }, h("h4", {}, "Text"), h("pre", "block-text", a.text || "(no text)")),
    ...a.toolCalls.map((call) => toolUse(call.name, call.id, call.input)),
    a.stopReason ? h("p", "marks", h("span", "mark", `stop reason: ${a.stopReason}`)) : null,
  );
}

function renderEvents(events: StreamEvent[]): Node {
  const details = h(
    "details",
    { class: "events", "data-part": "events" },
    h("summary", {}, `Raw SSE events (${events.length})`),
    h(
      "table",
      "event-list",
      h("thead", {}, h("tr", {}, h("th", {}, "t"), h("th", {}, "event"), h("th", {}, "data"))),
      h("tbody", {}, ...events.map((e) => h("tr", "event", h("td", "t", `${Math.round(e.t)} ms`), h("td", "name", e.event ?? ""), h("td", {}, h("pre", "data", e.data))))),
    ),
  );
  return details;
}

// ---------------------------------------------------------------------------------------------
// Sources: the live API, or the snapshot embedded in an exported file

/** The relay refused this page's token: it belongs to an earlier run (each `start` makes a new one). */
class TokenRefused extends Error {}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin" });
  if (res.status === 401) throw new TokenRefused(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/** Nothing more can come with this token: say so, and what to do, instead of retrying for ever. */
function showTokenRefused(): void {
  setConn("offline", "token no longer valid");
  ui.empty.hidden = false;
  ui.empty.className = "error-box";
  fill(
    ui.empty,
    "The relay no longer accepts this page's token: it was restarted (each run makes a new one). Open the inspector URL it printed when it started (",
    h("code", {}, "inspector http://…/_relay/?token=…"),
    ").",
  );
}

function setConn(state: "live" | "connecting" | "offline" | "snapshot", text: string): void {
  ui.conn.className = `conn ${state}`;
  ui.conn.dataset.state = state;
  fill(ui.conn, text);
}

function startLive(): void {
  source = {
    snapshot: false,
    async detail(id) {
      const res = await fetch(`api/requests/${id}`, { headers: { accept: "application/json" }, credentials: "same-origin" });
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return (await res.json()) as RequestDetail;
    },
  };
  let buffered: Array<["request" | "session", RequestSummary | SessionUpdate]> | undefined;
  let retryMs = 500;

  // Events that arrive while the list loads are applied after it (they are newer).
  const load = async (): Promise<void> => {
    buffered = [];
    try {
      const [list, sessionList] = await Promise.all([getJson<RequestList>("api/requests"), getJson<SessionList>("api/sessions")]);
      for (const r of list.requests) enqueue("request", r);
      for (const s of sessionList.sessions) enqueue("session", s);
    } catch (error) {
      if (error instanceof TokenRefused) showTokenRefused();
      else setConn("offline", `could not load: ${String(error)}`);
    } finally {
      const late = buffered ?? [];
      buffered = undefined;
      for (const [kind, data] of late) enqueue(kind, data);
    }
  };

  const onEvent = (kind: "request" | "session") => (event: MessageEvent<string>) => {
    const data = parseJson(event.data);
    if (!isObj(data)) return;
    const typed = data as unknown as RequestSummary | SessionUpdate;
    if (buffered) buffered.push([kind, typed]);
    else enqueue(kind, typed);
  };

  const connect = (): void => {
    setConn("connecting", "connecting…");
    const events = new EventSource("api/events");
    let everOpen = false;
    events.addEventListener("request", onEvent("request") as EventListener);
    events.addEventListener("session", onEvent("session") as EventListener);
    events.addEventListener("open", () => {
      retryMs = 500;
      setConn("live", "live");
      // After a drop, what happened meanwhile is in the list, not in the stream.
      if (everOpen) void load();
      everOpen = true;
    });
    events.addEventListener("error", () => {
      if (events.readyState === EventSource.CLOSED) {
        // The browser gave up (the relay refused, or restarted and refused this token): an
        // EventSource does not say which, a request does. A refused token is for good; anything
        // else is tried again, slower each time.
        setConn("offline", "disconnected, retrying…");
        void getJson("api/sessions").then(
          () => window.setTimeout(connect, retryMs),
          (error: unknown) => {
            if (error instanceof TokenRefused) return showTokenRefused();
            window.setTimeout(connect, retryMs);
          },
        );
        retryMs = Math.min(retryMs * 2, 10_000);
      } else {
        setConn("connecting", "reconnecting…");
      }
    });
  };
  connect();
  void load();
}

function startSnapshot(data: SnapshotData): void {
  const byId = new Map(data.requests.map((r) => [r.id, r]));
  source = { snapshot: true, detail: async (id) => byId.get(id) };
  setConn("snapshot", `snapshot of ${new Date(data.generatedAt).toLocaleString()} · llm-relay ${data.relayVersion}`);
  for (const r of data.requests) enqueue("request", r);
  enqueue("session", data.session);
}

// ---------------------------------------------------------------------------------------------
// Boot

function filterBar(): HTMLElement {
  const bind = (select: HTMLSelectElement, key: "provider" | "status" | "model"): void => {
    select.addEventListener("change", () => {
      filters[key] = select.value;
      applyFilters();
    });
  };
  bind(ui.providerSelect, "provider");
  bind(ui.statusSelect, "status");
  bind(ui.modelSelect, "model");
  ui.errorsOnly.addEventListener("change", () => {
    filters.errorsOnly = ui.errorsOnly.checked;
    applyFilters();
  });
  return h("div", "filters", ui.providerSelect, ui.statusSelect, ui.modelSelect, h("label", {}, ui.errorsOnly, " errors only"));
}

function main(): void {
  const root = document.getElementById("app") ?? document.body;
  fill(
    root,
    h("header", "top", h("h1", {}, "llm-relay ", h("span", "sub", "inspector")), ui.conn, filterBar()),
    h("main", {}, h("div", "list", ui.empty, ui.sessions), ui.detail),
  );
  ui.sessions.addEventListener("click", (event) => {
    const target = event.target as Element;
    if (target.closest("a")) return;
    const tr = target.closest("tr.row") as HTMLTableRowElement | null;
    if (tr?.dataset.id) void openRequest(Number(tr.dataset.id));
  });
  ui.sessions.addEventListener("keydown", (event) => {
    const tr = (event.target as Element).closest("tr.row") as HTMLTableRowElement | null;
    if (!tr?.dataset.id) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      void openRequest(Number(tr.dataset.id));
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      let next = event.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling;
      while (next && (next as HTMLElement).hidden) next = event.key === "ArrowDown" ? next.nextElementSibling : next.previousElementSibling;
      (next as HTMLElement | null)?.focus();
    }
  });
  const embedded = document.getElementById("llm-relay-snapshot");
  if (embedded) {
    const data = parseJson(embedded.textContent ?? "");
    if (isObj(data) && data.version === 1) startSnapshot(data as unknown as SnapshotData);
    else fill(root, h("p", "error-box", "This snapshot's data could not be read."));
  } else {
    startLive();
  }
}

main();
