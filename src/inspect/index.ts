/**
 * The inspector (DESIGN §11), put together for `start` and `exec`: a capture store that
 * observes the relay, the live feed, and the handler for `/_relay/…`. The relay is given the
 * observer and the handler; it never learns what they are.
 */
import { randomBytes } from "node:crypto";
import type { ResolvedConfig } from "../config/resolve.js";
import type { RelayObserver, ReservedPathHandler } from "../relay/observer.js";
import { VERSION } from "../version.js";
import { EventFeed } from "./events.js";
import * as assets from "./page/assets.js";
import { createInspectorHandler } from "./serve.js";
import { CaptureStore } from "./store.js";
import type { PriceTable } from "../pricing/cost.js";

export interface InspectorSetup {
  config: ResolvedConfig;
  /** The relay's token (configured or exec's session token): it opens the inspector too. */
  relayToken?: string | undefined;
  /** The inspector's own secret (`start` makes one per run). */
  inspectorToken?: string | undefined;
  /** The relay's URL, known once it listens. */
  relayUrl: () => string;
  prices?: () => Promise<PriceTable>;
  /** A record's path as the page shows it (`exec`: without its session's `/_t/<token>` prefix). */
  showPath?: (path: string) => string;
}

export interface Inspector {
  store: CaptureStore;
  observer: RelayObserver;
  reservedPaths: ReservedPathHandler;
  /** End the live streams (before the relay closes). */
  close(): void;
}

/** A fresh inspector token: 192 random bits, URL-safe. */
export function inspectorToken(): string {
  return randomBytes(24).toString("base64url");
}

export function createInspector(setup: InspectorSetup): Inspector {
  const { config } = setup;
  const secrets = [setup.relayToken, setup.inspectorToken, config.token?.reveal()];
  for (const provider of config.providers.values()) secrets.push(provider.apiKey?.reveal());
  const store = new CaptureStore({
    maxBytes: config.inspect.maxBytes,
    maxBodyBytes: config.inspect.maxBodyBytes,
    secrets: secrets.filter((s): s is string => s !== undefined),
    runSession: `run-${randomBytes(4).toString("hex")}`,
    baseUrlOf: (name) => config.providers.get(name)?.baseUrl,
    prices: setup.prices,
    showPath: setup.showPath,
  });
  const feed = new EventFeed(store);
  const reservedPaths = createInspectorHandler({
    store,
    feed,
    assets,
    inspectorToken: setup.inspectorToken,
    relayVersion: VERSION,
    relayUrl: setup.relayUrl,
  });
  return { store, observer: store, reservedPaths, close: () => feed.closeAll() };
}
