/**
 * The relay in-process on 127.0.0.1:0 for integration tests, with every request record kept.
 */
import { startRelay, type RelayConfig, type RelayHandle, type RequestRecord } from "../../src/index.js";

export interface TestRelay extends RelayHandle {
  records: RequestRecord[];
  /** Resolves when `count` records have been reported. */
  waitForRecords(count: number, timeoutMs?: number): Promise<RequestRecord[]>;
}

/**
 * Providers `anthropic` (trusted with OAuth) and `openai` (trusted with the client's OpenAI key)
 * both pointed at the mock upstream, standing in for the official origins.
 */
export function mockedDefaults(upstreamUrl: string): RelayConfig {
  return {
    providers: {
      anthropic: { kind: "anthropic", baseUrl: upstreamUrl, oauth: "forward" },
      openai: { kind: "openai", baseUrl: upstreamUrl, clientKeys: "forward" },
    },
  };
}

export async function startTestRelay(
  config: RelayConfig,
  options: { token?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<TestRelay> {
  const records: RequestRecord[] = [];
  const relay = await startRelay({
    config,
    port: 0,
    host: "127.0.0.1",
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
    onRequest: (record) => records.push(record),
  });
  return Object.assign(relay, {
    records,
    async waitForRecords(count: number, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (records.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} request records, got ${records.length}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return records;
    },
  });
}
