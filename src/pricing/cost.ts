/**
 * What a request would cost at the vendor's API prices (DESIGN §11), from the price table of
 * `@pydantic/genai-prices`, which ships its data in the package: it fetches nothing unless
 * `updatePrices` is called, and this module never calls it, so prices work offline.
 *
 * The vendor is found from the provider's base URL (the library matches each vendor's API URL),
 * never from the model name alone: a `claude-*` model served by a local model server or a
 * third-party gateway is not billed at Anthropic's prices, so it gets no cost. Unknown model or
 * vendor: no cost, never a guess.
 *
 * The table is ~800 kB of JavaScript (~0.2 s to load), so it is loaded once, off the start-up
 * path (`loadPriceTable`), and `estimateCost` is a pure function of the loaded table.
 *
 * @example
 * const table = await loadPriceTable();
 * estimateCost(table, { model: "claude-sonnet-4-5", baseUrl: "https://api.anthropic.com",
 *   usage: { inputTokens: 1200, outputTokens: 300 }, usageConvention: "anthropic", apiEquivalent: false });
 * // → { usd: 0.0081, apiEquivalent: false, priceRef: "anthropic claude-sonnet-4-5" }
 */
import type { calcPrice, findProvider } from "@pydantic/genai-prices";

/** Token counts as the relay reads them from a response (see relay/usage-tap.ts). */
export interface TokenUsage {
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  cacheReadTokens?: number | undefined;
  cacheCreationTokens?: number | undefined;
}

export interface Cost {
  usd: number;
  /** A subscription OAuth token paid: the figure is what the API would have charged. */
  apiEquivalent: boolean;
  /** Which price entry was used, e.g. `anthropic claude-sonnet-4-5`. */
  priceRef: string;
}

export type PriceTable = typeof calcPrice;

/**
 * How the vendor counts input: Anthropic's `input_tokens` excludes cache reads and writes,
 * OpenAI's `prompt_tokens` includes its cached tokens.
 */
export type UsageConvention = "anthropic" | "openai";

export interface CostInput {
  /** The model the provider was asked for (the upstream name when rewritten). */
  model?: string | undefined;
  /** The provider's base URL: which vendor bills. */
  baseUrl: string;
  usage?: TokenUsage | undefined;
  usageConvention: UsageConvention;
  apiEquivalent: boolean;
}

let loading: Promise<PriceTable> | undefined;

/** The bundled price table, loaded once. */
export function loadPriceTable(): Promise<PriceTable> {
  return (loading ??= import("@pydantic/genai-prices").then((m) => cachedLookups(m.calcPrice, m.findProvider)));
}

type Provider = NonNullable<ReturnType<typeof findProvider>>;

/** (base URL, model) pairs remembered at most; a run sees a handful. */
const LOOKUP_CACHE_LIMIT = 256;

/**
 * `calcPrice` with its lookups remembered. Finding the vendor (a regex per provider, compiled on
 * each call) and the model (a match over every model of the vendor, after copying them all) cost
 * 15–75 µs a request, twice (inspector and terminal totals), while the answer for a (base URL,
 * model) pair never changes: the table is the bundled one, never updated at run time. So the
 * first request of a pair does the full lookup, and later ones price with a provider narrowed to
 * the model found, which `calcPrice` resolves in one match. Same results (unit-tested against the
 * plain function); the price still depends on the usage and the date, computed on every call.
 */
export function cachedLookups(calc: typeof calcPrice, find: typeof findProvider): PriceTable {
  const vendors = new Map<string, Provider | null>();
  const narrowed = new Map<string, Provider | null | "full">();
  return ((usage, modelId, options) => {
    const url = options?.providerApiUrl;
    if (options === undefined || url === undefined || options.provider !== undefined || options.providerId !== undefined) return calc(usage, modelId, options);
    let vendor = vendors.get(url);
    if (vendor === undefined) {
      if (vendors.size >= LOOKUP_CACHE_LIMIT) vendors.clear();
      vendor = find({ providerApiUrl: url }) ?? null;
      vendors.set(url, vendor);
    }
    if (vendor === null) return null; // what calcPrice answers when no vendor serves the URL
    const key = `${vendor.id}\u0000${modelId}`;
    const known = narrowed.get(key);
    if (known === null) return null;
    if (known === "full") return calc(usage, modelId, options);
    if (known !== undefined) {
      const { providerApiUrl: _found, ...rest } = options;
      return calc(usage, modelId, { ...rest, provider: known });
    }
    const result = calc(usage, modelId, options);
    // The model object in the result is a copy; the vendor's own entry is narrowed to (a model
    // found through a fallback vendor is not in its list: those keep the full lookup).
    const own = result === null ? undefined : vendor.models.find((m) => m.id === result.model.id);
    if (narrowed.size >= LOOKUP_CACHE_LIMIT) narrowed.clear();
    if (result === null || own === undefined) narrowed.set(key, result === null ? null : "full");
    else {
      const { fallback_model_providers: _fallbacks, ...alone } = vendor;
      narrowed.set(key, { ...alone, models: [own] });
    }
    return result;
  }) as PriceTable;
}

/** Input tokens in all (uncached + cache reads + cache writes), as the price table wants them. */
export function totalInputTokens(usage: TokenUsage, convention: UsageConvention): number {
  const input = usage.inputTokens ?? 0;
  if (convention === "openai") return input;
  return input + (usage.cacheReadTokens ?? 0) + (usage.cacheCreationTokens ?? 0);
}

/** The cost of one request, or undefined when the vendor or model has no known price. Pure. */
export function estimateCost(table: PriceTable, input: CostInput): Cost | undefined {
  const { model, usage } = input;
  if (model === undefined || model === "" || usage === undefined) return undefined;
  if (usage.inputTokens === undefined && usage.outputTokens === undefined) return undefined;
  let result: ReturnType<PriceTable>;
  try {
    result = table(
      {
        input_tokens: totalInputTokens(usage, input.usageConvention),
        output_tokens: usage.outputTokens ?? 0,
        cache_read_tokens: usage.cacheReadTokens ?? 0,
        // OpenAI reports no cache writes (they are not billed apart).
        cache_write_tokens: input.usageConvention === "anthropic" ? (usage.cacheCreationTokens ?? 0) : 0,
      },
      model,
      { providerApiUrl: input.baseUrl },
    );
  } catch {
    // The library refuses inconsistent usage (cache counts above the total): no figure, not a wrong one.
    return undefined;
  }
  if (!result || !Number.isFinite(result.total_price)) return undefined;
  return {
    usd: result.total_price,
    apiEquivalent: input.apiEquivalent,
    priceRef: `${result.provider.id} ${result.model.id}`,
  };
}

/** `$0.0123` with enough digits for small requests; `(API-equivalent)` when a subscription paid. */
export function formatUsd(usd: number): string {
  if (usd === 0) return "$0";
  if (usd < 0.01) return `$${usd.toPrecision(2)}`;
  return `$${usd.toFixed(usd < 10 ? 3 : 2)}`;
}
