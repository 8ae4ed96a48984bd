/**
 * The config file's schema (DESIGN §3), as zod schemas: the single description of what a valid
 * config is, used for validation messages and for the types of `defineConfig`.
 */
import { z } from "zod";
import { PRESET_NAMES } from "../providers/presets.js";

export const PROVIDER_KINDS = ["anthropic", "openai", "gemini", "generic"] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

export const AUTH_HEADERS = ["x-api-key", "bearer", "x-goog-api-key"] as const;
export type AuthPlacement = (typeof AUTH_HEADERS)[number];

/** RFC 9110 §5.1 field-name token. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * A header value from config. CR, LF and NUL would let a config smuggle extra header lines
 * (RFC 9110 §5.5); the message never echoes the value, which may be a secret.
 */
const headerValue = z
  .string()
  .refine((v) => !/[\r\n\0]/.test(v), { message: "must not contain CR, LF or NUL characters (value not shown)" });

const headerName = z.string().regex(HEADER_NAME, { message: "must be an HTTP header name" });

/** A secret given literally or, better, by the environment variable that holds it. */
const secretRef = z.union(
  [
    headerValue.min(1, { message: "must not be empty" }),
    z.strictObject({ env: z.string().min(1, { message: "must name an environment variable" }) }),
  ],
  { error: 'expected a string or { env: "VARIABLE_NAME" }' },
);
export type SecretRef = z.infer<typeof secretRef>;

const baseUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be an absolute http(s) URL, e.g. https://api.anthropic.com" });
    return;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    ctx.addIssue({ code: "custom", message: `must use http: or https:, not ${url.protocol}` });
  }
  if (url.username || url.password) {
    ctx.addIssue({ code: "custom", message: "must not contain credentials (user:pass@); use apiKey" });
  }
  if (url.search || url.hash) {
    ctx.addIssue({ code: "custom", message: "must not contain a query or fragment" });
  }
});

const stringList = z.array(z.string().min(1));

export const providerSchema = z
  .strictObject({
    /** A built-in provider preset (src/providers/presets.ts) whose fields this one starts from. */
    preset: z.enum(PRESET_NAMES, { error: `unknown preset; the presets are ${PRESET_NAMES.join(", ")} (llm-relay providers lists them)` }).optional(),
    kind: z.enum(PROVIDER_KINDS).optional(),
    baseUrl: baseUrl.optional(),
    apiKey: secretRef.optional(),
    auth: z.enum(AUTH_HEADERS).optional(),
    oauth: z.enum(["forward", "strip"]).optional(),
    /** Whether the client's own vendor API keys (§4) may reach this provider (§5). */
    clientKeys: z.enum(["forward", "strip"]).optional(),
    headers: z
      .strictObject({
        set: z.record(headerName, headerValue).optional(),
        remove: z.array(headerName).optional(),
      })
      .optional(),
    betas: z.strictObject({ allow: stringList.optional(), remove: stringList.optional() }).optional(),
    query: z.strictObject({ remove: stringList.optional() }).optional(),
    /** Model-name globs → the name this provider knows the model by; first match in key order wins. */
    models: z.record(z.string().min(1), z.string().min(1)).optional(),
    /** False: the relay answers `count_tokens` itself with a 404 instead of forwarding it. */
    countTokens: z.boolean().optional(),
  })
  .superRefine((p, ctx) => {
    if (p.preset !== undefined) return;
    const hint = `required unless the provider names a preset (${PRESET_NAMES.join(", ")})`;
    if (p.kind === undefined) ctx.addIssue({ code: "custom", path: ["kind"], message: hint });
    if (p.baseUrl === undefined) ctx.addIssue({ code: "custom", path: ["baseUrl"], message: hint });
  });
export type ProviderConfig = z.infer<typeof providerSchema>;

/** Conditions read from the JSON body (DESIGN §10); the relay parses a copy only when some route has them. */
const whenSchema = z
  .strictObject({
    /** A `thinking` object whose type is not `disabled`. */
    thinking: z.boolean().optional(),
    /** Glob on some tool's `name` or `type`, e.g. "web_search*". */
    tools: z.string().min(1).optional(),
    /** An image block anywhere in `messages`, tool results included. */
    image: z.boolean().optional(),
    /** A local estimate of the input tokens (`explain --body` prints it). */
    minInputTokens: z.number().int().nonnegative().optional(),
    stream: z.boolean().optional(),
  })
  .refine((w) => Object.keys(w).length > 0, { message: "needs at least one of thinking, tools, image, minInputTokens or stream" });

export const routeSchema = z
  .strictObject({
    model: z.string().min(1).optional(),
    path: z.string().startsWith("/", { message: 'must start with "/"' }).optional(),
    header: z.record(headerName, z.string()).optional(),
    when: whenSchema.optional(),
    provider: z.string().min(1),
  })
  .refine((r) => r.model !== undefined || r.path !== undefined || r.header !== undefined || r.when !== undefined, {
    message: "needs at least one of model, path, header or when",
  });
export type RouteConfig = z.infer<typeof routeSchema>;

/**
 * A provider's name is also its path prefix (`/openrouter/v1/messages`, DESIGN §3 step 1), so a
 * name that is an API version segment would capture every request (`/v1/messages` → provider "v1").
 */
const API_VERSION_SEGMENT = /^v\d+(?:(?:alpha|beta)\d*)?$/i;
const providerName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/i, { message: "provider names are letters, digits, - and _" })
  .refine((name) => !API_VERSION_SEGMENT.test(name), {
    message: "a provider name is its path prefix, and this one is an API version segment (/v1/…): it would capture every request; pick another name",
  });

const port = z.number().int().min(0).max(65535);
const ms = z.number().int().positive();

export const configSchema = z.strictObject({
  port: port.optional(),
  host: z.string().min(1).optional(),
  token: secretRef.optional(),
  providers: z.record(providerName, providerSchema).optional(),
  routes: z.array(routeSchema).optional(),
  defaultProvider: z.string().min(1).optional(),
  timeouts: z
    .strictObject({
      connectMs: ms.optional(),
      headersMs: ms.optional(),
      idleMs: ms.optional(),
      /** How long a client may take to send its request headers (slowloris guard). */
      clientHeadersMs: ms.optional(),
      /** How long a client may take to send its whole request body. */
      clientBodyMs: ms.optional(),
      /** On SIGINT/SIGTERM, how long in-flight requests may run before the relay closes them. */
      shutdownMs: ms.optional(),
    })
    .optional(),
  limits: z.strictObject({ maxBodyBytes: z.number().int().positive().optional() }).optional(),
  /** The inspector page and its in-memory capture (§11); `false` turns both off. */
  inspect: z
    .union([
      z.literal(false),
      z.strictObject({
        /** Bytes of captured bodies kept in all; the oldest requests' bodies go first. */
        maxBytes: z.number().int().positive().optional(),
        /** Bytes kept of each body; the rest is marked truncated. */
        maxBodyBytes: z.number().int().positive().optional(),
      }),
    ])
    .optional(),
});

/** The config a user writes (input of `defineConfig`). */
export type RelayConfig = z.infer<typeof configSchema>;
