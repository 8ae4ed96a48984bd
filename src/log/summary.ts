/**
 * Running totals of finished requests, for the table `start` prints on shutdown and the line
 * `exec` prints when its child exits. Both count errors by one rule, {@link isError}.
 */
import { formatUsd, type Cost } from "../pricing/cost.js";
import type { RequestRecord } from "./record.js";

/**
 * A request the client did not get a whole answer to: an error status, or a relay-noted failure
 * on any status (a stream cut mid-way keeps its 200 but ends in an error event or a reset). Pure.
 */
export function isError(record: Pick<RequestRecord, "status" | "error">): boolean {
  return record.status >= 400 || record.error !== undefined;
}

export interface ProviderTotals {
  requests: number;
  errors: number;
  byStatus: Map<number, number>;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  /** Sum of the known costs (US dollars), how many requests had one, and how many had usage but no known price. */
  costUsd: number;
  priced: number;
  unpriced: number;
  /** Some cost is what the API would have charged: a subscription paid. */
  apiEquivalent: boolean;
}

const emptyTotals = (): ProviderTotals => ({
  requests: 0,
  errors: 0,
  byStatus: new Map(),
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
  costUsd: 0,
  priced: 0,
  unpriced: 0,
  apiEquivalent: false,
});

export class Summary {
  requests = 0;
  errors = 0;
  readonly byProvider = new Map<string, ProviderTotals>();

  add(record: RequestRecord): void {
    this.requests++;
    const failed = isError(record);
    if (failed) this.errors++;
    const name = record.provider ?? "(none)";
    let totals = this.byProvider.get(name);
    if (!totals) {
      totals = emptyTotals();
      this.byProvider.set(name, totals);
    }
    totals.requests++;
    if (failed) totals.errors++;
    totals.byStatus.set(record.status, (totals.byStatus.get(record.status) ?? 0) + 1);
    const u = record.usage;
    if (u) {
      totals.inputTokens += u.inputTokens ?? 0;
      totals.outputTokens += u.outputTokens ?? 0;
      totals.cacheReadTokens += u.cacheReadTokens ?? 0;
      totals.cacheCreationTokens += u.cacheCreationTokens ?? 0;
    }
  }

  /** A request's cost, once known (pricing is asynchronous: the price table loads on first use). */
  addCost(provider: string | undefined, cost: Cost | undefined): void {
    const totals = this.byProvider.get(provider ?? "(none)");
    if (!totals) return;
    if (!cost) {
      totals.unpriced++;
      return;
    }
    totals.costUsd += cost.usd;
    totals.priced++;
    if (cost.apiEquivalent) totals.apiEquivalent = true;
  }

  private get priced(): number {
    return [...this.byProvider.values()].reduce((n, t) => n + t.priced, 0);
  }

  get inputTokens(): number {
    return [...this.byProvider.values()].reduce((n, t) => n + t.inputTokens, 0);
  }

  get outputTokens(): number {
    return [...this.byProvider.values()].reduce((n, t) => n + t.outputTokens, 0);
  }

  /** `12 requests, 1 error, 3400 in / 560 out tokens, 16384 cache-read / 0 cache-write, $0.041 API-equivalent`. */
  line(): string {
    const parts = [`${this.requests} request${this.requests === 1 ? "" : "s"}`, `${this.errors} error${this.errors === 1 ? "" : "s"}`];
    if (this.inputTokens || this.outputTokens) parts.push(`${this.inputTokens} in / ${this.outputTokens} out tokens`);
    const { cacheReadTokens, cacheCreationTokens } = this.total();
    if (cacheReadTokens || cacheCreationTokens) parts.push(`${cacheReadTokens} cache-read / ${cacheCreationTokens} cache-write`);
    if (this.priced > 0) parts.push(costText(this.total()));
    return parts.join(", ");
  }

  /**
   * A plain-text table: one row per provider (in order of first request) with its requests,
   * statuses (`200×3 429×1`), errors (as in exec's line: a stream cut mid-way counts, though its
   * status is 200) and token totals, then a total row.
   */
  table(): string {
    if (this.requests === 0) return "no requests";
    const withCost = this.priced > 0;
    const rows = [["provider", "requests", "status", "errors", "in", "out", "cache-read", "cache-write", ...(withCost ? ["cost"] : [])]];
    const row = (name: string, t: ProviderTotals) => {
      const statuses = [...t.byStatus].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`).join(" ");
      const cost = withCost ? [t.priced > 0 ? costText(t) : "-"] : [];
      rows.push([name, String(t.requests), statuses, String(t.errors), String(t.inputTokens), String(t.outputTokens), String(t.cacheReadTokens), String(t.cacheCreationTokens), ...cost]);
    };
    for (const [name, t] of this.byProvider) row(name, t);
    row("total", this.total());
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n");
  }

  private total(): ProviderTotals {
    const total = emptyTotals();
    for (const t of this.byProvider.values()) {
      total.requests += t.requests;
      total.errors += t.errors;
      for (const [status, n] of t.byStatus) total.byStatus.set(status, (total.byStatus.get(status) ?? 0) + n);
      total.inputTokens += t.inputTokens;
      total.outputTokens += t.outputTokens;
      total.cacheReadTokens += t.cacheReadTokens;
      total.cacheCreationTokens += t.cacheCreationTokens;
      total.costUsd += t.costUsd;
      total.priced += t.priced;
      total.unpriced += t.unpriced;
      total.apiEquivalent ||= t.apiEquivalent;
    }
    return total;
  }
}

/** `$0.041`, `$0.041 API-equivalent` (a subscription paid), `+ 2 unpriced` when some model has no known price. */
function costText(t: ProviderTotals): string {
  return `${formatUsd(t.costUsd)}${t.apiEquivalent ? " API-equivalent" : ""}${t.unpriced > 0 ? ` (+${t.unpriced} unpriced)` : ""}`;
}
