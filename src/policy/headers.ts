/**
 * The header policy (DESIGN §5): for one request and the provider it is routed to, which
 * headers leave, with what value, and why. Pure. Its decisions drive the relay, the logs,
 * `explain` and the tests alike.
 */
import type { ResolvedProvider } from "../config/resolve.js";
import { OPENROUTER_ORIGIN } from "../config/defaults.js";
import { classifyCredential, CREDENTIAL_HEADERS, type Credential, type CredentialKind } from "./credentials.js";
import { connectionListed, HOP_BY_HOP, type HeaderMap } from "./hop-by-hop.js";
import { redactCredentialValue } from "./redact.js";

export type DecisionAction = "forward" | "strip" | "withhold" | "set" | "rewrite";

/** One header's fate. `value` is what left (or would have), already redacted where secret. */
export interface Decision {
  header: string;
  action: DecisionAction;
  reason: string;
  value: string;
}

export interface HeaderPolicyInput {
  /** Incoming headers as Node parses them: lower-case names, duplicates joined. */
  headers: HeaderMap;
  provider: ResolvedProvider;
  /** The relay's session/config token, stripped wherever it appears. */
  relayToken?: string | undefined;
  /** This relay's `Via` entry (RFC 9110 §7.6.3), used to detect loops. */
  via?: string | undefined;
  /** The body leaves changed (a model rewrite): its new length and why. */
  bodyLength?: { length: number; reason: string } | undefined;
}

export interface HeaderPlan {
  /** Headers to send upstream (no `host`: the HTTP client sets it from the origin). */
  headers: Record<string, string>;
  decisions: Decision[];
  /** Whether a subscription OAuth token was sent upstream. */
  oauthForwarded: boolean;
}

/** Every Anthropic subscription token starts so (DESIGN §4). */
const OAUTH_TOKEN_PREFIX = "sk-ant-oat";

/** The beta flag Anthropic requires alongside an OAuth bearer token. */
export const OAUTH_BETA = "oauth-2025-04-20";

/** Names whose values are secrets even when we cannot classify them. */
const SECRET_NAME = /auth|key|token|secret|password|session|cookie|signature/i;
/** A vendor-prefixed token anywhere in a value (`token=sk-ant-…` in a custom header counts). */
const SECRET_VALUE = /(?:^|[\s=:,;"'])(?:sk-|ya29\.|AIza)/i;

/** Header names repeat across requests; remember which are secret-bearing (bounded). */
const secretNameCache = new Map<string, boolean>();

function secretName(name: string): boolean {
  let secret = secretNameCache.get(name);
  if (secret === undefined) {
    secret = SECRET_NAME.test(name);
    if (secretNameCache.size >= 512) secretNameCache.clear();
    secretNameCache.set(name, secret);
  }
  return secret;
}

/** A header value as logs may show it: redacted when its name or content says it is secret. */
export function printableHeaderValue(name: string, value: string, relayToken?: string): string {
  if (secretName(name) || SECRET_VALUE.test(value) || (relayToken && value.includes(relayToken))) {
    return redactCredentialValue(value);
  }
  return value;
}

function headerString(value: HeaderMap[string]): string {
  if (Array.isArray(value)) return value.join(", ");
  return String(value);
}

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

/** Where an OAuth token may go; the reason it may not. */
export function withholdOAuthReason(provider: ResolvedProvider): string | undefined {
  if (provider.kind !== "anthropic") {
    return `Anthropic OAuth token only goes to anthropic-kind providers; ${provider.name} is ${provider.kind}-kind`;
  }
  if (provider.oauth !== "forward") {
    return `Anthropic OAuth token is not trusted to ${provider.origin} (set oauth: "forward" on ${provider.name} to allow)`;
  }
  return undefined;
}

function splitBetas(value: string): string[] {
  return value
    .split(",")
    .map((b) => b.trim())
    .filter((b) => b !== "");
}

function appendVia(existing: string | undefined, entry: string): string {
  return existing ? `${existing}, ${entry}` : entry;
}

/**
 * Decide every header for one request routed to `provider`.
 *
 * @example
 * decideHeaders({ headers: { authorization: "Bearer sk-ant-oat01-…" }, provider: anthropic })
 * // → authorization forwarded, anthropic-beta set to "oauth-2025-04-20"
 */
export function decideHeaders(input: HeaderPolicyInput): HeaderPlan {
  const { headers, provider, relayToken } = input;
  // Decisions in the order the client sent its headers (a header decided later keeps a reserved
  // slot); headers this relay adds follow. `sent[i]` is what leaves for decision i, if anything.
  const ordered: Array<Decision | undefined> = [];
  const sent: Array<string | undefined> = [];
  const listed = connectionListed(headers.connection as string | undefined);
  const credentials: Array<{ name: string; value: string; credential: Credential }> = [];
  let betaValue: string | undefined;
  let repeatedOAuth = false;
  // Why this provider may not see a subscription token (undefined: it may).
  const oauthDenied = withholdOAuthReason(provider);
  let oauthWithheld = false;

  const reserved: Array<string | undefined> = [];
  const slotOf = (header: string): number => {
    for (let i = 0; i < ordered.length; i++) if ((ordered[i]?.header ?? reserved[i]) === header) return i;
    return -1;
  };
  const reserve = (header: string) => {
    ordered.push(undefined);
    sent.push(undefined);
    reserved[ordered.length - 1] = header;
  };
  const decide = (header: string, action: DecisionAction, value: string, reason: string, fresh = false) => {
    const decision: Decision = { header, action, reason, value: printableHeaderValue(header, value, relayToken) };
    const leaves = action === "forward" || action === "set" || action === "rewrite" ? value : undefined;
    const at = fresh ? -1 : slotOf(header);
    if (at === -1) {
      ordered.push(decision);
      sent.push(leaves);
    } else {
      // One decision per header: when the relay's value replaces one already decided (the
      // client's), the reason keeps what became of that one.
      const replaced = ordered[at];
      if (replaced !== undefined && action === "set") {
        decision.reason += `; replaces the client's value (${replaced.action}: ${replaced.value})`;
      }
      ordered[at] = decision;
      sent[at] = leaves;
    }
  };

  for (const name in headers) {
    const raw = headers[name];
    if (raw === undefined) continue;
    const value = headerString(raw);
    if (HOP_BY_HOP.has(name)) {
      decide(name, "strip", value, "hop-by-hop header (RFC 9110 §7.6.1)", true);
    } else if (listed.has(name)) {
      decide(name, "strip", value, "named in Connection, so hop-by-hop (RFC 9110 §7.6.1)", true);
    } else if (name === "host") {
      // The HTTP client sets Host from the origin; the decision records it, nothing is sent.
      ordered.push({ header: name, action: "set", value: provider.host, reason: `upstream origin ${provider.origin}` });
      sent.push(undefined);
    } else if (name.startsWith("x-llm-relay-")) {
      decide(name, "strip", value, "the relay's own header", true);
    } else if (relayToken && value.includes(relayToken)) {
      decide(name, "strip", value, "carries the relay token", true);
    } else if (name === "cookie") {
      decide(name, "strip", value, "cookies are never relayed to an API", true);
    } else if (provider.headersRemove.has(name)) {
      decide(name, "strip", value, `headers.remove of provider ${provider.name}`, true);
    } else if (CREDENTIAL_HEADERS.has(name) && value.includes(",")) {
      // A repeated header arrives joined with ", " (RFC 9110 §5.3); a token68 has no comma
      // (§11.2), so this is several credentials at once. Which one a server would use is
      // anyone's guess, and one of them may be a token this provider must not see: send none.
      if (value.split(",").some((part) => classifyCredential(part, relayToken).kind === "anthropic-oauth")) repeatedOAuth = true;
      decide(name, "strip", value, "repeated credential header; a credential must be a single value", true);
    } else if (CREDENTIAL_HEADERS.has(name)) {
      credentials.push({ name, value, credential: classifyCredential(value, relayToken) });
      reserve(name);
    } else if (name === "anthropic-beta") {
      betaValue = value;
      reserve(name);
    } else if (name === "via") {
      // Decided below, where this relay appends itself.
      reserve(name);
    } else if (name === "content-length") {
      if (input.bodyLength) decide(name, "rewrite", String(input.bodyLength.length), input.bodyLength.reason, true);
      else decide(name, "forward", value, "body relayed unchanged", true);
    } else {
      if (oauthDenied !== undefined && value.includes(OAUTH_TOKEN_PREFIX)) {
        // Wherever it sits (a custom header, a quoted or doubled scheme), the token stays home.
        oauthWithheld = true;
        decide(name, "withhold", value, `carries an Anthropic OAuth token: ${oauthDenied}`, true);
      } else {
        decide(name, "forward", value, "passed through", true);
      }
    }
  }

  // Credentials (§5 steps 3 and 4).
  let oauthForwarded = false;
  if (repeatedOAuth) oauthWithheld = true;
  if (provider.apiKey) {
    for (const { name, value } of credentials) {
      if (value.includes(OAUTH_TOKEN_PREFIX)) oauthWithheld = true;
      decide(name, "strip", value, `provider ${provider.name} uses its configured apiKey`);
    }
    const key = provider.apiKey.reveal();
    const [header, value] =
      provider.auth === "bearer" ? ["authorization", `Bearer ${key}`] : [provider.auth, key];
    decide(header, "set", value, `apiKey of provider ${provider.name} (${provider.apiKey.origin})`);
  } else {
    const oauth = credentials.find((c) => c.name === "authorization" && c.credential.kind === "anthropic-oauth")
      ?? credentials.find((c) => c.credential.kind === "anthropic-oauth");
    const oauthBlocked = oauth ? oauthDenied : undefined;
    for (const entry of credentials) {
      const { name, value, credential } = entry;
      if (credential.kind === "relay-token") {
        decide(name, "strip", value, "the relay's own token");
      } else if (credential.kind === "none") {
        decide(name, "strip", value, "empty credential");
      } else if (credential.kind === "anthropic-oauth") {
        if (oauthBlocked !== undefined) {
          oauthWithheld = true;
          decide(name, "withhold", value, oauthBlocked);
        } else if (entry !== oauth) {
          decide(name, "strip", value, "a second OAuth token; only the first is sent");
        } else if (name === "authorization") {
          const canonical = `Bearer ${credential.token}`;
          if (value === canonical) decide(name, "forward", value, "Anthropic OAuth token to its trusted origin");
          else decide(name, "rewrite", canonical, "Anthropic OAuth token, scheme normalised to Bearer");
          oauthForwarded = true;
        } else {
          decide(name, "strip", value, "Anthropic OAuth token misplaced here; moved to authorization: Bearer");
          oauthForwarded = true;
        }
      } else if (oauth !== undefined && oauthBlocked === undefined) {
        decide(name, "strip", value, "an OAuth token is forwarded; never both it and another credential");
      } else if (credential.kind === "unknown" && oauthDenied !== undefined && value.includes(OAUTH_TOKEN_PREFIX)) {
        // An odd shape (`Bearer "sk-ant-oat…"`, `Bearer Bearer …`) is still a subscription token.
        oauthWithheld = true;
        decide(name, "withhold", value, `carries an Anthropic OAuth token: ${oauthDenied}`);
      } else if (credential.kind === "unknown") {
        decide(name, "forward", value, `unrecognised token goes to the routed provider ${provider.name}`);
      } else if (VENDOR_OF[credential.kind]?.(provider)) {
        decide(name, "forward", value, `${credential.kind} to its vendor`);
      } else {
        decide(name, "withhold", value, `${credential.kind} is only sent to ${VENDOR_NAME[credential.kind]}`);
      }
    }
    if (oauthForwarded && oauth && oauth.name !== "authorization") {
      decide("authorization", "set", `Bearer ${oauth.credential.token}`, `Anthropic OAuth token moved from ${oauth.name}`);
    }
  }

  // anthropic-beta: the OAuth flag follows the token; then the provider's betas.remove.
  const betas = betaValue === undefined ? [] : splitBetas(betaValue);
  let nextBetas = betas;
  const changes: string[] = [];
  if (oauthForwarded && !betas.includes(OAUTH_BETA)) {
    nextBetas = [...nextBetas, OAUTH_BETA];
    changes.push(`added ${OAUTH_BETA} for the OAuth token`);
  }
  if (oauthWithheld && betas.includes(OAUTH_BETA)) {
    nextBetas = nextBetas.filter((b) => b !== OAUTH_BETA);
    changes.push(`removed ${OAUTH_BETA}: the OAuth token was not sent`);
  }
  // betas.allow: only the values this provider is known to accept pass; the OAuth flag follows
  // the token (§5) whether or not it is listed.
  const allow = provider.betasAllow;
  if (allow !== undefined) {
    const refused = nextBetas.filter((b) => !allow.has(b) && !(oauthForwarded && b === OAUTH_BETA));
    if (refused.length > 0) {
      nextBetas = nextBetas.filter((b) => !refused.includes(b));
      const allowed = allow.size === 0 ? "allows none" : `allows ${[...allow].join(", ")}`;
      changes.push(`betas.allow of ${provider.name} (${allowed}): removed ${refused.join(", ")}`);
    }
  }
  const removed = nextBetas.filter((b) => provider.betasRemove.has(b));
  if (removed.length > 0) {
    nextBetas = nextBetas.filter((b) => !provider.betasRemove.has(b));
    changes.push(`betas.remove of provider ${provider.name}: ${removed.join(", ")}`);
  }
  if (changes.length === 0) {
    if (betaValue !== undefined) decide("anthropic-beta", "forward", betaValue, "passed through");
  } else {
    const merged = [...new Set(nextBetas)].join(",");
    const reason = changes.join("; ");
    if (merged === "") decide("anthropic-beta", "strip", betaValue ?? "", reason);
    else decide("anthropic-beta", betaValue === undefined ? "set" : "rewrite", merged, reason);
  }

  // Provider headers.set (§5 step 5) win over whatever the client sent.
  for (const [name, value] of provider.headersSet) {
    decide(name, "set", value, `headers.set of provider ${provider.name}`);
  }

  if (input.via) {
    const incoming = headers.via === undefined ? undefined : headerString(headers.via);
    decide("via", incoming === undefined ? "set" : "rewrite", appendVia(incoming, input.via), "marks the hop so a relay loop is detected (RFC 9110 §7.6.3)");
  } else if (headers.via !== undefined) {
    decide("via", "forward", headerString(headers.via), "passed through");
  }


  const decisions: Decision[] = [];
  const out: Record<string, string> = {};
  for (let i = 0; i < ordered.length; i++) {
    const decision = ordered[i];
    if (decision === undefined) continue; // a reserved slot left undecided: `via` when none is added
    decisions.push(decision);
    const value = sent[i];
    if (value !== undefined) out[decision.header] = value;
  }
  return { headers: out, decisions, oauthForwarded };
}
