/**
 * The route decision as data (DESIGN §10): which rule chose the provider. Made by
 * routing/route.ts, carried by the request record to the logs, `--json`, `explain` and the
 * inspector. Types only, here so every floor above config can name them.
 */

/** A config route's conditions as written (header values redacted where secret). */
export interface RouteConditions {
  model?: string;
  path?: string;
  header?: Record<string, string>;
  when?: { thinking?: boolean; tools?: string; image?: boolean; minInputTokens?: number; stream?: boolean };
}

/** Which rule chose the provider, in the order of DESIGN §3. */
export type RouteRule =
  | { rule: "path-prefix"; segment: string }
  | { rule: "routes"; index: number; conditions: RouteConditions }
  | { rule: "built-in"; name: "anthropic-version header" | "OpenAI API path" | "Anthropic API path" }
  | { rule: "defaultProvider" };
