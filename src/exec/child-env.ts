/**
 * The environment `exec` gives its child (DESIGN §7): the parent's, with the base URLs pointed
 * at this session's relay and loopback exempted from proxies. Pure: the caller passes the
 * parent environment and the platform in.
 */
import { redact } from "../policy/redact.js";

/** Variables exec sets; everything else passes through as the parent has it. */
export const RELAY_URL_VARIABLES = ["ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "LLM_RELAY_URL"] as const;

/** Loopback names the child must reach directly, never through an `HTTP(S)_PROXY`. */
const LOOPBACK_NO_PROXY = ["127.0.0.1", "localhost"];

export interface ChildEnvironment {
  env: NodeJS.ProcessEnv;
  /** One line per parent setting the child will not see (the values redacted). */
  warnings: string[];
}

/**
 * Windows variable names are case-insensitive: find the spelling the parent used, so the child
 * does not get two copies of one variable.
 */
function keyOf(env: NodeJS.ProcessEnv, name: string, platform: NodeJS.Platform): string | undefined {
  if (Object.hasOwn(env, name)) return name;
  if (platform !== "win32") return undefined;
  const upper = name.toUpperCase();
  return Object.keys(env).find((key) => key.toUpperCase() === upper);
}

function withLoopback(list: string | undefined): string {
  const entries = (list ?? "").split(",").map((entry) => entry.trim()).filter(Boolean);
  const missing = LOOPBACK_NO_PROXY.filter((host) => !entries.includes(host));
  return [...entries, ...missing].join(",");
}

/**
 * @param relayBase the session's base URL, `http://127.0.0.1:<port>/_t/<token>`
 * @example childEnvironment(process.env, "http://127.0.0.1:40123/_t/abc…", process.platform)
 */
export function childEnvironment(parent: NodeJS.ProcessEnv, relayBase: string, platform: NodeJS.Platform): ChildEnvironment {
  const env: NodeJS.ProcessEnv = { ...parent };
  const warnings: string[] = [];
  const set = (name: string, value: string) => {
    const existing = keyOf(env, name, platform);
    if (existing !== undefined && existing !== name) delete env[existing];
    env[name] = value;
  };

  const values: Record<(typeof RELAY_URL_VARIABLES)[number], string> = {
    ANTHROPIC_BASE_URL: relayBase,
    // The SDKs append `/chat/completions` etc. to a base that ends in `/v1`.
    OPENAI_BASE_URL: `${relayBase}/v1`,
    LLM_RELAY_URL: relayBase,
  };
  for (const name of ["ANTHROPIC_BASE_URL", "OPENAI_BASE_URL"] as const) {
    const key = keyOf(parent, name, platform);
    const old = key === undefined ? undefined : parent[key];
    if (old !== undefined && old !== "") {
      warnings.push(`${name} is set (${redact(old)}); the command gets this session's relay URL instead`);
    }
  }
  for (const name of RELAY_URL_VARIABLES) set(name, values[name]);

  // Tools read either spelling (curl and undici prefer the lowercase one): give both the same
  // entries, starting from whichever the parent set, so neither hides the other's hosts.
  const upperKey = keyOf(parent, "NO_PROXY", platform);
  const upper = upperKey === undefined ? undefined : parent[upperKey];
  const lower = platform === "win32" ? undefined : parent.no_proxy;
  set("NO_PROXY", withLoopback(upper ?? lower));
  // On Windows both spellings are one variable.
  if (platform !== "win32") env.no_proxy = withLoopback(lower ?? upper);

  return { env, warnings };
}
