/**
 * Pricing each finished request for the terminal's totals (`start`'s shutdown table, `exec`'s
 * summary line): the same `estimateCost` the inspector uses, with the price table loaded on the
 * first request that reports usage, so start-up never waits for it.
 */
import { estimateCost, loadPriceTable, type Cost, type PriceTable, type TokenUsage } from "./cost.js";

/** What a request record holds that pricing needs. */
export interface PricedRequest {
  provider?: string | undefined;
  model?: string | undefined;
  usage?: TokenUsage | undefined;
  decisions?: ReadonlyArray<{ header: string; action: string; value: string }> | undefined;
}

export interface ProviderFacts {
  baseUrl: string;
  kind: string;
}

/** A subscription OAuth token went upstream: the decision forwarded an `sk-ant-oat` bearer. */
export function oauthForwarded(decisions: PricedRequest["decisions"]): boolean {
  return (decisions ?? []).some((d) => d.header === "authorization" && (d.action === "forward" || d.action === "rewrite") && d.value.includes("sk-ant-oat"));
}

export class RequestPricer {
  private table: PriceTable | undefined;
  private loading: Promise<void> | undefined;
  private queue: Array<() => void> = [];

  constructor(
    private readonly providerOf: (name: string) => ProviderFacts | undefined,
    private readonly load: () => Promise<PriceTable> = loadPriceTable,
  ) {}

  /** Calls `done` with the request's cost (undefined: unknown price) once prices are loaded; never for a request without usage. */
  price(request: PricedRequest, done: (cost: Cost | undefined) => void): void {
    if (!request.usage || request.provider === undefined) return;
    const run = () => done(this.costOf(request));
    if (this.table) return run();
    this.queue.push(run);
    this.loading ??= this.load()
      .then((table) => {
        this.table = table;
      })
      .catch(() => {
        // No table, no prices: every cost stays unknown.
      })
      .finally(() => {
        const queued = this.queue;
        this.queue = [];
        for (const next of queued) next();
      });
  }

  /** Resolves when every request handed to `price` has been priced. */
  async settled(): Promise<void> {
    await this.loading;
  }

  private costOf(request: PricedRequest): Cost | undefined {
    const provider = this.providerOf(request.provider!);
    if (!this.table || !provider) return undefined;
    return estimateCost(this.table, {
      model: request.model,
      baseUrl: provider.baseUrl,
      usage: request.usage,
      usageConvention: provider.kind === "openai" || provider.kind === "generic" ? "openai" : "anthropic",
      apiEquivalent: oauthForwarded(request.decisions),
    });
  }
}
