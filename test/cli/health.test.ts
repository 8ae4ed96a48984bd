/**
 * `/_relay/health` (what exec's readiness check and monitors read) names the providers that are
 * unavailable because their apiKey variable is unset (§3), with the variable and never a value;
 * a provider whose variable is set is not listed. The built binary, `start`.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, startCli } from "../helpers/cli.js";
import { findLeaks, OPENROUTER_KEY } from "../fixtures/tokens.js";

let home: string;
beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "llm-relay-health-"));
});
afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

describe("/_relay/health", () => {
  it("lists the unavailable providers with the variable each needs", async () => {
    const file = path.join(home, "relay.json");
    await writeFile(
      file,
      JSON.stringify({
        providers: {
          deepseek: { preset: "deepseek" },
          gateway: { kind: "anthropic", baseUrl: "http://127.0.0.1:9", apiKey: { env: "GATEWAY_KEY" } },
          router: { kind: "anthropic", baseUrl: "http://127.0.0.1:9", apiKey: { env: "ROUTER_KEY" } },
        },
      }),
    );
    const cli = startCli(["start", "--port", "0", "-c", file], { env: cleanEnv(home, { ROUTER_KEY: OPENROUTER_KEY }) });
    try {
      const [, url] = await cli.waitFor(/listening\s+(http:\/\/\S+)/);
      const res = await fetch(`${url}/_relay/health`);
      expect(res.status).toBe(200);
      const text = await res.text();
      const health = JSON.parse(text) as { ok: boolean; providers: string[]; unavailable: Array<{ provider: string; env: string }> };
      expect(health.ok).toBe(true);
      expect(health.providers).toEqual(expect.arrayContaining(["anthropic", "openai", "deepseek", "gateway", "router"]));
      expect(health.unavailable).toEqual([
        { provider: "deepseek", env: "DEEPSEEK_API_KEY" },
        { provider: "gateway", env: "GATEWAY_KEY" },
      ]);
      expect(findLeaks(text, [OPENROUTER_KEY])).toEqual([]);
    } finally {
      cli.child.kill("SIGTERM");
      await cli.exited;
    }
  });
});
