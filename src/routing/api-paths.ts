/**
 * Which API a path belongs to: the built-in routing rules (DESIGN §3 step 3) and the shape of
 * errors the relay makes when no provider is known yet (§6).
 */

/** Paths of the OpenAI API (prefixes on a segment boundary). */
export const OPENAI_PATHS: readonly string[] = [
  "/v1/chat/completions",
  "/v1/completions",
  "/v1/responses",
  "/v1/embeddings",
  "/v1/models",
  "/v1/moderations",
  "/v1/images",
  "/v1/audio",
  "/v1/files",
  "/v1/uploads",
  "/v1/batches",
  "/v1/fine_tuning",
  "/v1/assistants",
  "/v1/threads",
  "/v1/vector_stores",
  "/v1/realtime",
  "/v1/conversations",
];

/** Paths of the Anthropic API. `/v1/models` and `/v1/files` exist in both: the SDKs' `anthropic-version` header tells them apart. */
export const ANTHROPIC_PATHS: readonly string[] = [
  "/v1/messages",
  "/v1/complete",
  "/v1/models",
  "/v1/files",
  "/v1/organizations",
  "/v1/skills",
];

/** `prefix` matches `path` itself or anything below it, never a longer sibling (`/v1/chat` ≠ `/v1/chatter`). */
export function pathHasPrefix(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || prefix.endsWith("/") || path.charCodeAt(prefix.length) === 47 /* / */;
}

export function isOpenAIPath(path: string): boolean {
  return OPENAI_PATHS.some((p) => pathHasPrefix(path, p));
}

/**
 * For the shape of an error before any provider is known: an OpenAI path, possibly below one
 * unknown first segment (`/olama/v1/chat/completions`, a typo in a provider prefix), is an
 * OpenAI client's request, and its SDK should get an OpenAI-shaped error.
 */
export function looksLikeOpenAIRequest(path: string): boolean {
  if (isOpenAIPath(path)) return true;
  const secondSlash = path.indexOf("/", 1);
  return secondSlash !== -1 && isOpenAIPath(path.slice(secondSlash));
}

export function isAnthropicPath(path: string): boolean {
  return ANTHROPIC_PATHS.some((p) => pathHasPrefix(path, p));
}
