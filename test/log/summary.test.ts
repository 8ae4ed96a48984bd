/**
 * The shutdown summary (DESIGN §9): requests by provider and status, and token totals — the
 * table on its own, then as `start` prints it on SIGINT after real requests.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RequestRecord } from "../../src/log/record.js";
import { Summary } from "../../src/log/summary.js";
import { send } from "../helpers/client.js";
import { cleanEnv, startCli } from "../helpers/cli.js";
import { sendJson, startMockUpstream } from "../helpers/mock-upstream.js";

function record(provider: string | undefined, status: number, usage?: RequestRecord["usage"], error?: string): RequestRecord {
  return {
    type: "request",
    time: new Date(0).toISOString(),
    id: 1,
    method: "POST",
    path: "/v1/messages",
    ...(provider !== undefined ? { provider } : {}),
    status,
    stream: false,
    durationMs: 1,
    ...(usage ? { usage } : {}),
    ...(error ? { error } : {}),
  };
}

describe("Summary", () => {
  it("says so when there were no requests", () => {
    expect(new Summary().table()).toBe("no requests");
    expect(new Summary().line()).toBe("0 requests, 0 errors");
  });

  it("groups by provider in order of first request, statuses sorted, tokens summed, with a total row", () => {
    const summary = new Summary();
    summary.add(record("anthropic", 200, { inputTokens: 10, outputTokens: 2, cacheReadTokens: 100 }));
    summary.add(record("openai", 429));
    summary.add(record("anthropic", 200, { inputTokens: 5, outputTokens: 1, cacheCreationTokens: 7 }));
    summary.add(record("anthropic", 502, undefined, "upstream unreachable"));
    summary.add(record(undefined, 404));
    const rows = summary.table().split("\n");
    expect(rows).toHaveLength(5);
    expect(rows[0]).toMatch(/^provider\s+requests\s+status\s+errors\s+in\s+out\s+cache-read\s+cache-write$/);
    expect(rows[1]).toMatch(/^anthropic\s+3\s+200×2 502×1\s+1\s+15\s+3\s+100\s+7$/);
    expect(rows[2]).toMatch(/^openai\s+1\s+429×1\s+1\s+0\s+0\s+0\s+0$/);
    expect(rows[3]).toMatch(/^\(none\)\s+1\s+404×1\s+1\s+0\s+0\s+0\s+0$/);
    expect(rows[4]).toMatch(/^total\s+5\s+200×2 404×1 429×1 502×1\s+3\s+15\s+3\s+100\s+7$/);
    // Columns line up: every row's "in" column starts at the same offset.
    const inAt = rows[0]!.indexOf(" in ") + 1;
    for (const row of rows.slice(1)) expect(row[inAt - 1]).toBe(" ");
    expect(summary.line()).toBe("5 requests, 3 errors, 15 in / 3 out tokens, 100 cache-read / 7 cache-write");
  });

  it("has a total row with a single provider too", () => {
    const summary = new Summary();
    summary.add(record("anthropic", 200, { inputTokens: 1, outputTokens: 1 }));
    const rows = summary.table().split("\n");
    expect(rows).toHaveLength(3);
    expect(rows[2]).toMatch(/^total\s+1\s+200×1\s+0\s+1\s+1\s+0\s+0$/);
  });

  it("a stream cut mid-way keeps its 200 and counts as an error, in the table and the line alike", () => {
    const summary = new Summary();
    summary.add(record("anthropic", 200, { inputTokens: 3 }, "connection to https://api.anthropic.com failed (UND_ERR_SOCKET)"));
    summary.add(record("anthropic", 200, { inputTokens: 4 }));
    expect(summary.table().split("\n")[1]).toMatch(/^anthropic\s+2\s+200×2\s+1\s+7\s+0\s+0\s+0$/);
    expect(summary.line()).toBe("2 requests, 1 error, 7 in / 0 out tokens");
  });

  it("adds a cost column and the line's cost once some request was priced; unpriced ones are counted", () => {
    const summary = new Summary();
    summary.add(record("anthropic", 200, { inputTokens: 1000, outputTokens: 100 }));
    summary.add(record("anthropic", 200, { inputTokens: 1000, outputTokens: 100 }));
    summary.add(record("local", 200, { inputTokens: 5, outputTokens: 5 }));
    expect(summary.table()).not.toContain("cost");
    summary.addCost("anthropic", { usd: 0.0045, apiEquivalent: true, priceRef: "anthropic claude-sonnet-4-5" });
    summary.addCost("anthropic", { usd: 0.0045, apiEquivalent: true, priceRef: "anthropic claude-sonnet-4-5" });
    summary.addCost("local", undefined);
    const [head, anthropic, local, total] = summary.table().split("\n");
    expect(head).toMatch(/cache-write\s+cost$/);
    expect(anthropic).toMatch(/\$0\.0090 API-equivalent$/);
    expect(local).toMatch(/\s-$/);
    expect(total).toMatch(/\$0\.0090 API-equivalent \(\+1 unpriced\)$/);
    expect(summary.line()).toBe("3 requests, 0 errors, 2005 in / 205 out tokens, $0.0090 API-equivalent (+1 unpriced)");
  });
});

describe("start prints the summary on shutdown (built binary)", () => {
  const home = mkdtempSync(path.join(tmpdir(), "llm-relay-summary-"));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it("after requests to two providers, on SIGINT, with exit 0", async () => {
    const upstream = await startMockUpstream((req, res) => {
      if (req.url === "/v1/chat/completions") sendJson(res, 429, { error: { message: "slow down", type: "rate_limit" } });
      else sendJson(res, 200, { type: "message", usage: { input_tokens: 12, output_tokens: 3, cache_read_input_tokens: 40 } });
    });
    const configFile = path.join(home, "relay.json");
    writeFileSync(
      configFile,
      JSON.stringify({ providers: { anthropic: { kind: "anthropic", baseUrl: upstream.url }, openai: { kind: "openai", baseUrl: upstream.url } } }),
    );
    const cli = startCli(["start", "-p", "0", "-c", configFile], { env: cleanEnv(home), cwd: home });
    try {
      const [, url] = await cli.waitFor(/(http:\/\/127\.0\.0\.1:\d+)/);
      const json = { "content-type": "application/json" };
      for (let i = 0; i < 2; i++) expect((await send(`${url}/v1/messages`, { body: '{"model":"c"}', headers: json })).status).toBe(200);
      expect((await send(`${url}/v1/chat/completions`, { body: '{"model":"g"}', headers: json })).status).toBe(429);
      await cli.waitFor(/POST \/v1\/chat\/completions.* 429/);
      cli.child.kill("SIGINT");
      const result = await cli.exited;
      expect(result.code).toBe(0);
      const table = result.stderr.slice(result.stderr.indexOf("provider"));
      expect(table).toMatch(/^anthropic\s+2\s+200×2\s+0\s+24\s+6\s+80\s+0$/m);
      expect(table).toMatch(/^openai\s+1\s+429×1\s+1\s+0\s+0\s+0\s+0$/m);
      expect(table).toMatch(/^total\s+3\s+200×2 429×1\s+1\s+24\s+6\s+80\s+0$/m);
    } finally {
      if (cli.child.exitCode === null) cli.child.kill("SIGKILL");
      await upstream.close();
    }
  });
});
