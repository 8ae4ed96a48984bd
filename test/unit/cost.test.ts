/**
 * Cost (src/pricing/cost.ts): the bundled @pydantic/genai-prices table, priced by the vendor at
 * the provider's base URL; cache reads and writes at the vendor's rates; unknown → no cost.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { estimateCost, formatUsd, loadPriceTable, totalInputTokens, type PriceTable } from "../../src/pricing/cost.js";

let table: PriceTable;
beforeAll(async () => {
  table = await loadPriceTable();
});

const ANTHROPIC = "https://api.anthropic.com";
const OPENAI = "https://api.openai.com";

describe("estimateCost", () => {
  it.each([
    // Sonnet 4.5: $3 in, $15 out, $0.30 cache read, $3.75 cache write per million tokens.
    ["Sonnet, plain", "claude-sonnet-4-5", ANTHROPIC, { inputTokens: 1_000, outputTokens: 1_000 }, "anthropic", 0.003 + 0.015, "anthropic claude-sonnet-4-5"],
    ["Sonnet, cache read and write at their own rates", "claude-sonnet-4-5-20250929", ANTHROPIC, { inputTokens: 1_000, cacheReadTokens: 10_000, cacheCreationTokens: 2_000, outputTokens: 0 }, "anthropic", 0.003 + 0.003 + 0.0075, "anthropic claude-sonnet-4-5"],
    ["Haiku 4.5", "claude-haiku-4-5", ANTHROPIC, { inputTokens: 1_000_000, outputTokens: 0 }, "anthropic", 1, "anthropic claude-haiku-4-5"],
    // gpt-4o: $2.5 in, $1.25 cached, $10 out; OpenAI's prompt count includes the cached tokens.
    ["gpt-4o with cached prompt tokens", "gpt-4o", OPENAI, { inputTokens: 2_000, cacheReadTokens: 1_000, outputTokens: 1_000 }, "openai", 0.0025 + 0.00125 + 0.01, "openai gpt-4o"],
  ] as const)("%s", (_name, model, baseUrl, usage, convention, usd, priceRef) => {
    const cost = estimateCost(table, { model, baseUrl, usage, usageConvention: convention, apiEquivalent: false });
    expect(cost?.usd).toBeCloseTo(usd, 9);
    expect(cost?.priceRef).toBe(priceRef);
  });

  it.each([
    ["an unknown model", "claude-made-up-9", ANTHROPIC],
    ["a Claude model served by a local server", "claude-sonnet-4-5", "http://127.0.0.1:11434"],
    ["a Claude model at a vendor that does not sell it", "claude-sonnet-4-5", OPENAI],
    ["no model", undefined, ANTHROPIC],
  ])("no cost for %s, never a guess", (_name, model, baseUrl) => {
    expect(estimateCost(table, { model, baseUrl, usage: { inputTokens: 10, outputTokens: 10 }, usageConvention: "anthropic", apiEquivalent: false })).toBeUndefined();
  });

  it("no cost without usage", () => {
    expect(estimateCost(table, { model: "claude-sonnet-4-5", baseUrl: ANTHROPIC, usage: undefined, usageConvention: "anthropic", apiEquivalent: false })).toBeUndefined();
    expect(estimateCost(table, { model: "claude-sonnet-4-5", baseUrl: ANTHROPIC, usage: {}, usageConvention: "anthropic", apiEquivalent: false })).toBeUndefined();
  });

  it("marks what a subscription paid as API-equivalent", () => {
    const cost = estimateCost(table, { model: "claude-sonnet-4-5", baseUrl: ANTHROPIC, usage: { inputTokens: 1, outputTokens: 1 }, usageConvention: "anthropic", apiEquivalent: true });
    expect(cost?.apiEquivalent).toBe(true);
  });
});

describe("totalInputTokens", () => {
  it.each([
    [{ inputTokens: 10, cacheReadTokens: 90, cacheCreationTokens: 5 }, "anthropic", 105],
    [{ inputTokens: 100, cacheReadTokens: 90 }, "openai", 100],
    [{}, "anthropic", 0],
  ] as const)("%o (%s) → %d", (usage, convention, total) => {
    expect(totalInputTokens(usage, convention)).toBe(total);
  });
});

describe("formatUsd", () => {
  it.each([
    [0, "$0"],
    [0.0001234, "$0.00012"],
    [0.0123, "$0.012"],
    [1.23456, "$1.235"],
    [123.456, "$123.46"],
  ])("%d → %s", (usd, text) => {
    expect(formatUsd(usd)).toBe(text);
  });
});

describe("loadPriceTable's remembered lookups", () => {
  // The plain library function beside the cached one the relay prices with: same answer for
  // every (vendor URL, model, usage), on the first call of a pair and every later one.
  const urls = [ANTHROPIC, OPENAI, "https://openrouter.ai/api/v1", "https://generativelanguage.googleapis.com", "http://127.0.0.1:11434", "https://api.deepseek.com"];
  const models = ["claude-sonnet-4-5", "claude-sonnet-4-5-20250929", "Claude-Haiku-4-5 ", "claude-3-5-sonnet-20241022", "gpt-4o", "gpt-4o-mini", "o3", "gemini-2.5-pro", "deepseek-chat", "anthropic/claude-sonnet-4.5", "claude-made-up-9", ""];

  it("prices exactly as the library's own calcPrice does, cached or not", async () => {
    const { calcPrice } = await import("@pydantic/genai-prices");
    const cached = await loadPriceTable();
    const call = (price: PriceTable, usage: Parameters<PriceTable>[0], model: string, url: string) => {
      try {
        const result = price(usage, model, { providerApiUrl: url });
        return result === null ? null : { total: result.total_price, input: result.input_price, output: result.output_price, provider: result.provider.id, model: result.model.id, price: result.model_price };
      } catch (error) {
        return { threw: (error as Error).message };
      }
    };
    fc.assert(
      fc.property(
        fc.constantFrom(...urls),
        fc.constantFrom(...models),
        fc.record({ input_tokens: fc.nat(3_000_000), output_tokens: fc.nat(100_000), cache_read_tokens: fc.nat(2_000_000), cache_write_tokens: fc.nat(100_000) }),
        (url, model, usage) => {
          const plain = call(calcPrice, usage, model, url);
          expect(call(cached, usage, model, url)).toEqual(plain);
          expect(call(cached, usage, model, url)).toEqual(plain);
        },
      ),
      { numRuns: 400 },
    );
  });
});
