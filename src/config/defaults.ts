/**
 * The embedded default: what serves when no config file is found, so `llm-relay start` works
 * with zero setup. Also the values every resolved config falls back to.
 */
import type { ProviderConfig } from "./schema.js";

export const OFFICIAL_ANTHROPIC_ORIGIN = "https://api.anthropic.com";
export const OFFICIAL_OPENAI_ORIGIN = "https://api.openai.com";
export const OFFICIAL_GEMINI_ORIGIN = "https://generativelanguage.googleapis.com";
export const OPENROUTER_ORIGIN = "https://openrouter.ai";

/** Origins that credentials may reach without the user approving a project config (§8). */
export const OFFICIAL_ORIGINS: ReadonlySet<string> = new Set([
  OFFICIAL_ANTHROPIC_ORIGIN,
  OFFICIAL_OPENAI_ORIGIN,
  OFFICIAL_GEMINI_ORIGIN,
]);

/**
 * Each vendor's own API origin (§5): a client's key for that vendor may reach it without the user
 * saying so (`clientKeys` defaults to `forward` there and nowhere else).
 */
export const VENDOR_ORIGINS: ReadonlySet<string> = new Set([
  OFFICIAL_ANTHROPIC_ORIGIN,
  OFFICIAL_OPENAI_ORIGIN,
  OPENROUTER_ORIGIN,
  OFFICIAL_GEMINI_ORIGIN,
]);

export const DEFAULT_PORT = 8742;
export const DEFAULT_HOST = "127.0.0.1";

export const BUILTIN_PROVIDERS: Readonly<Record<string, ProviderConfig>> = {
  anthropic: { preset: "anthropic" },
  openai: { preset: "openai" },
};

export const DEFAULT_TIMEOUTS = {
  connectMs: 10_000,
  headersMs: 600_000,
  idleMs: 300_000,
  clientHeadersMs: 30_000,
  clientBodyMs: 300_000,
  shutdownMs: 10_000,
} as const;

export const DEFAULT_LIMITS = {
  maxBodyBytes: 32 * 1024 * 1024,
} as const;

/** The inspector's capture bounds (DESIGN §11). */
export const DEFAULT_INSPECT = {
  maxBytes: 64 * 1024 * 1024,
  maxBodyBytes: 4 * 1024 * 1024,
} as const;
