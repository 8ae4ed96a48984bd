/**
 * The relay in-process with its inspector on (as `start` wires it), for the inspector's tests:
 * the capture store, the page token, and a client for the inspector's API.
 */
import { resolveConfig } from "../../src/config/resolve.js";
import type { RelayConfig } from "../../src/config/schema.js";
import { createInspector, inspectorToken, type Inspector } from "../../src/inspect/index.js";
import type { RequestRecord } from "../../src/log/record.js";
import type { PriceTable } from "../../src/pricing/cost.js";
import { startRelay, type RelayHandle } from "../../src/relay/server.js";
import type { Dispatcher } from "undici";
import { send, type ClientResponse } from "./client.js";

export interface InspectedRelay {
  relay: RelayHandle;
  inspector: Inspector;
  /** The page token (`start`'s `?token=`). */
  token: string;
  records: RequestRecord[];
  /** GET an inspector path (e.g. `api/requests`) with the page token in `x-llm-relay-token`. */
  api(path: string, headers?: Record<string, string>): Promise<ClientResponse>;
  close(): Promise<void>;
}

export async function startInspectedRelay(
  config: RelayConfig,
  options: { relayToken?: string; env?: NodeJS.ProcessEnv; dispatcher?: Dispatcher; prices?: () => Promise<PriceTable> } = {},
): Promise<InspectedRelay> {
  const resolved = resolveConfig(config, { source: { via: "inline" }, env: options.env ?? {} });
  const token = inspectorToken();
  let url = "";
  const inspector = createInspector({
    config: resolved,
    relayToken: options.relayToken,
    inspectorToken: token,
    relayUrl: () => url,
    ...(options.prices ? { prices: options.prices } : {}),
  });
  const records: RequestRecord[] = [];
  const relay = await startRelay({
    config: resolved,
    host: "127.0.0.1",
    port: 0,
    token: options.relayToken,
    onRecord: (record) => records.push(record),
    observer: inspector.observer,
    reservedPaths: inspector.reservedPaths,
    secrets: [token],
    dispatcher: options.dispatcher,
  });
  url = relay.url;
  return {
    relay,
    inspector,
    token,
    records,
    async api(path, headers = {}) {
      await inspector.store.settled();
      return send(`${relay.url}/_relay/${path}`, { headers: { "x-llm-relay-token": token, ...headers } });
    },
    async close() {
      inspector.close();
      await relay.close({ graceMs: 0 });
    },
  };
}
