/**
 * Where each credential kind may go (DESIGN §5): the OAuth token only to an anthropic-kind
 * provider trusted with it (`oauth`), a vendor API key only to a provider of its vendor that
 * accepts client keys (`clientKeys`). Pure. The header policy and the target policy (a token in
 * the path or query) ask the same questions, so a secret is kept from a provider wherever it sits.
 */
import {
  OFFICIAL_ANTHROPIC_ORIGIN,
  OFFICIAL_GEMINI_ORIGIN,
  OFFICIAL_OPENAI_ORIGIN,
  OPENROUTER_ORIGIN,
  VENDOR_ORIGINS,
} from "../config/defaults.js";
import type { ResolvedProvider } from "../config/resolve.js";
import { classifyCredential, type CredentialKind } from "./credentials.js";

const VENDOR_OF: Partial<Record<CredentialKind, (p: ResolvedProvider) => boolean>> = {
  "anthropic-api-key": (p) => p.kind === "anthropic",
  "openai-key": (p) => p.kind === "openai",
  "openrouter-key": (p) => p.origin === OPENROUTER_ORIGIN,
  "google-oauth": (p) => p.kind === "gemini",
  "google-api-key": (p) => p.kind === "gemini",
};

const VENDOR_NAME: Partial<Record<CredentialKind, string>> = {
  "anthropic-api-key": "anthropic-kind providers",
  "openai-key": "openai-kind providers",
  "openrouter-key": OPENROUTER_ORIGIN,
  "google-oauth": "gemini-kind providers",
  "google-api-key": "gemini-kind providers",
};

/** Each vendor key's own origin: on another vendor's origin, a key of this kind is never at home. */
const VENDOR_HOME: Partial<Record<CredentialKind, string>> = {
  "anthropic-api-key": OFFICIAL_ANTHROPIC_ORIGIN,
  "openai-key": OFFICIAL_OPENAI_ORIGIN,
  "openrouter-key": OPENROUTER_ORIGIN,
  "google-oauth": OFFICIAL_GEMINI_ORIGIN,
  "google-api-key": OFFICIAL_GEMINI_ORIGIN,
};

/** Why an Anthropic OAuth token may not go to `provider` (undefined: it may). */
export function withholdOAuthReason(provider: ResolvedProvider): string | undefined {
  if (provider.kind !== "anthropic") {
    return `Anthropic OAuth token only goes to anthropic-kind providers; ${provider.name} is ${provider.kind}-kind`;
  }
  if (provider.oauth !== "forward") {
    return `Anthropic OAuth token is not trusted to ${provider.origin} (set oauth: "forward" on ${provider.name} to allow)`;
  }
  return undefined;
}

/** Why a client's vendor key of `kind` may not go to `provider` (undefined: it may, or `kind` is no vendor's key). */
export function withholdKeyReason(kind: CredentialKind, provider: ResolvedProvider): string | undefined {
  const ofVendor = VENDOR_OF[kind];
  if (ofVendor === undefined) return undefined;
  if (!ofVendor(provider)) return `${kind} is only sent to ${VENDOR_NAME[kind]}`;
  // OpenRouter speaks the anthropic kind, but an Anthropic key is no OpenRouter key.
  if (VENDOR_ORIGINS.has(provider.origin) && provider.origin !== VENDOR_HOME[kind]) {
    return `${kind} is only sent to its own vendor; ${provider.origin} is another vendor's API`;
  }
  if (provider.clientKeys !== "forward") {
    return `${kind} is not trusted to ${provider.origin} (set clientKeys: "forward" on ${provider.name} to allow)`;
  }
  return undefined;
}

/** Why a value carrying these tokens (found by `secretsIn`) may not go to `provider`. */
export interface TokenDenial {
  reason: string;
  /** An Anthropic OAuth token is among them (its beta must go too). */
  oauth: boolean;
}

export function withholdTokensReason(tokens: readonly string[], provider: ResolvedProvider): TokenDenial | undefined {
  if (tokens.length === 0) return undefined;
  const kinds = tokens.map((token) => classifyCredential(token).kind);
  if (kinds.includes("anthropic-oauth")) {
    const denied = withholdOAuthReason(provider);
    if (denied !== undefined) return { reason: `carries an Anthropic OAuth token: ${denied}`, oauth: true };
  }
  for (const kind of kinds) {
    const denied = withholdKeyReason(kind, provider);
    if (denied !== undefined) return { reason: `carries a client key: ${denied}`, oauth: false };
  }
  return undefined;
}
