/**
 * The header policy (DESIGN §5): for one request and the provider it is routed to, which
 * headers leave, with what value, and why. Pure. Its decisions drive the relay, the logs,
 * `explain` and the tests alike.
 */
import type { ResolvedProvider } from "../config/resolve.js";
import { classifyCredential, CREDENTIAL_HEADERS, type Credential, type CredentialKind } from "./credentials.js";
import { connectionListed, HOP_BY_HOP, type HeaderMap } from "./hop-by-hop.js";
import { withholdKeyReason, withholdOAuthReason, withholdTokensReason, type TokenDenial } from "./reach.js";
import { mayHoldKnown, mayHoldSecret, NO_SECRETS, redact, redactCredentialValue, secretsIn, tokenSecrets, type KnownSecrets } from "./redact.js";

export { withholdOAuthReason } from "./reach.js";

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
  /** Secrets known by value (relay token, configured keys), redacted wherever they appear; defaults to the relay token. */
  secrets?: KnownSecrets | undefined;
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

/** Names whose values are secrets even when we cannot classify them: shown redacted whole. */
const SECRET_NAME = /auth|key|token|secret|password|session|cookie|signature/i;

/** Header names repeat across requests; remember which are secret-bearing (bounded). */
const secretNameCache = new Map<string, boolean>();

/** Named like a secret, known not to be one: shown (shape redaction still applies to the value). */
const PUBLIC_NAMES = new Set([
  // Claude Code's conversation id (a UUID), which the inspector groups sessions by.
  "x-claude-code-session-id",
]);

function secretName(name: string): boolean {
  let secret = secretNameCache.get(name);
  if (secret === undefined) {
    secret = SECRET_NAME.test(name) && !PUBLIC_NAMES.has(name.toLowerCase());
    if (secretNameCache.size >= 512) secretNameCache.clear();
    secretNameCache.set(name, secret);
  }
  return secret;
}

/**
 * A header value as logs may show it: redacted whole when its name says it is secret, else every
 * secret inside it (by shape or known value, in any encoding) redacted where it sits.
 */
export function printableHeaderValue(name: string, value: string, secrets: KnownSecrets = NO_SECRETS): string {
  return secretName(name) ? redactCredentialValue(value) : redact(value, secrets);
}


/** Whether a value holds an Anthropic OAuth token anywhere, in any encoding. */
function carriesOAuth(value: string): boolean {
  return value.includes(OAUTH_TOKEN_PREFIX) || secretsIn(value).some((token) => token.startsWith(OAUTH_TOKEN_PREFIX));
}

function headerString(value: HeaderMap[string]): string {
  if (Array.isArray(value)) return value.join(", ");
  return String(value);
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
  const secrets = input.secrets ?? tokenSecrets(relayToken);
  const onlyToken = tokenSecrets(relayToken);
  // The relay token percent-encoded or in base64 is still the relay token.
  const carriesRelayToken = (value: string) =>
    relayToken !== undefined && mayHoldKnown(value, onlyToken) && secretsIn(value, onlyToken).includes(relayToken);
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
  let viaWithheld = false;
  let denied: TokenDenial | undefined;

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
  // `plain`: the caller knows `value` holds no secret by shape or known value (the hot path).
  const decide = (header: string, action: DecisionAction, value: string, reason: string, fresh = false, plain = false) => {
    const shown = plain && !secretName(header) ? value : printableHeaderValue(header, value, secrets);
    const decision: Decision = { header, action, reason, value: shown };
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
    const plain = !mayHoldSecret(value, secrets);
    // A secret as a header's name (a key pasted where the name goes): not relayed anywhere, and
    // shown by its redacted name, like a value.
    const shownName = mayHoldSecret(name, secrets) ? redact(name, secrets) : name;
    if (shownName !== name) {
      decide(shownName, "strip", value, "the header's name holds a secret", true);
    } else if (HOP_BY_HOP.has(name)) {
      decide(name, "strip", value, "hop-by-hop header (RFC 9110 §7.6.1)", true);
    } else if (listed.has(name)) {
      decide(name, "strip", value, "named in Connection, so hop-by-hop (RFC 9110 §7.6.1)", true);
    } else if (name === "host") {
      // The HTTP client sets Host from the origin; the decision records it, nothing is sent.
      ordered.push({ header: name, action: "set", value: provider.host, reason: `upstream origin ${provider.origin}` });
      sent.push(undefined);
    } else if (name.startsWith("x-llm-relay-")) {
      decide(name, "strip", value, "the relay's own header", true);
    } else if (relayToken && (value.includes(relayToken) || (!plain && carriesRelayToken(value)))) {
      decide(name, "strip", value, "carries the relay token", true);
    } else if (name === "cookie") {
      decide(name, "strip", value, "cookies are never relayed to an API", true);
    } else if (provider.headersRemove.has(name)) {
      decide(name, "strip", value, `headers.remove of provider ${provider.name}`, true);
    } else if (!plain && !CREDENTIAL_HEADERS.has(name) && (denied = withholdTokensReason(secretsIn(value), provider)) !== undefined) {
      // Wherever a vendor token sits (a custom header, anthropic-beta, a URL, quoted, encoded), it stays home.
      if (denied.oauth) oauthWithheld = true;
      if (name === "via") viaWithheld = true;
      decide(name, "withhold", value, denied.reason, true);
    } else if (CREDENTIAL_HEADERS.has(name) && value.includes(",")) {
      // A repeated header arrives joined with ", " (RFC 9110 §5.3); a token68 has no comma
      // (§11.2), so this is several credentials at once. Which one a server would use is
      // anyone's guess, and one of them may be a token this provider must not see: send none.
      if (carriesOAuth(value)) repeatedOAuth = true;
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
      decide(name, "forward", value, "passed through", true, plain);
    }
  }

  // Credentials (§5 steps 3 and 4).
  let oauthForwarded = false;
  if (repeatedOAuth) oauthWithheld = true;
  if (provider.apiKey) {
    for (const { name, value } of credentials) {
      if (carriesOAuth(value)) oauthWithheld = true;
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
      } else if (credential.kind === "unknown") {
        // An odd shape (`Bearer "sk-ant-oat…"`, `Bearer Bearer …`, encoded) still carries what it carries.
        const denied = withholdTokensReason(secretsIn(value), provider);
        if (denied !== undefined) {
          if (denied.oauth) oauthWithheld = true;
          decide(name, "withhold", value, denied.reason);
        } else if (name !== "authorization" && carriesOAuth(value)) {
          // §5: an OAuth token never travels in x-api-key (or any other credential header), whatever its shape.
          decide(name, "strip", value, "carries an Anthropic OAuth token, which only travels as authorization: Bearer");
        } else {
          decide(name, "forward", value, `unrecognised token goes to the routed provider ${provider.name}`);
        }
      } else {
        const denied = withholdKeyReason(credential.kind, provider);
        if (denied === undefined) decide(name, "forward", value, `${credential.kind} to its vendor`);
        else decide(name, "withhold", value, denied);
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
      // The refused values are the client's text: redacted like the header's value.
      changes.push(`betas.allow of ${provider.name} (${allowed}): removed ${redact(refused.join(", "), secrets)}`);
    }
  }
  const removed = nextBetas.filter((b) => provider.betasRemove.has(b));
  if (removed.length > 0) {
    nextBetas = nextBetas.filter((b) => !provider.betasRemove.has(b));
    changes.push(`betas.remove of provider ${provider.name}: ${redact(removed.join(", "), secrets)}`);
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
    const incoming = headers.via === undefined || viaWithheld ? undefined : headerString(headers.via);
    decide("via", incoming === undefined ? "set" : "rewrite", appendVia(incoming, input.via), "marks the hop so a relay loop is detected (RFC 9110 §7.6.3)");
  } else if (headers.via !== undefined && !viaWithheld) {
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
