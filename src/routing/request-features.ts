/**
 * What a route's `when` can ask of a request (DESIGN §10), read from the parsed JSON body. Pure.
 * The relay parses the body (from a copy of the bytes it relays unchanged) only when some route
 * has `when`; `explain --body` calls the same functions on a file.
 */
import { estimateTokenCount } from "tokenx";
import type { ResolvedWhen as RouteWhen } from "../config/resolve.js";

/** The request's features, as `explain` prints them; `inputTokens` only when asked for. */
export interface RequestFeatures {
  thinking: boolean;
  /** Every tool's `name` and `type`, in order, without repeats. */
  tools: string[];
  image: boolean;
  stream: boolean;
  inputTokens?: number;
}

type Json = Record<string, unknown>;

/**
 * The body parsed for `when`, from a copy (the bytes relayed stay the client's); undefined when
 * it is not JSON. A UTF-8 BOM is ignored, as RFC 8259 §8.1 lets parsers do.
 */
export function parseJsonBody(bytes: Uint8Array): unknown {
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * Extended thinking is on when `thinking` is an object whose type is not `disabled`: Claude Code
 * 2.0 sends `{ type: "enabled", budget_tokens }`, 2.1 sends `{ type: "adaptive" }`.
 */
export function thinkingRequested(body: unknown): boolean {
  if (!isObject(body) || !isObject(body.thinking)) return false;
  return body.thinking.type !== "disabled";
}

/** Every tool's `name` and `type` (server tools such as `web_search_20250305` carry both). */
export function toolNames(body: unknown): string[] {
  if (!isObject(body) || !Array.isArray(body.tools)) return [];
  const names = new Set<string>();
  for (const tool of body.tools) {
    if (!isObject(tool)) continue;
    if (typeof tool.name === "string") names.add(tool.name);
    if (typeof tool.type === "string") names.add(tool.type);
  }
  return [...names];
}

/** An image block anywhere in `messages`, tool_result contents included. */
export function hasImage(body: unknown): boolean {
  if (!isObject(body) || !Array.isArray(body.messages)) return false;
  const inBlocks = (blocks: unknown): boolean =>
    Array.isArray(blocks) &&
    blocks.some((block) => isObject(block) && (block.type === "image" || (block.type === "tool_result" && inBlocks(block.content))));
  return body.messages.some((message) => isObject(message) && inBlocks(message.content));
}

export function streamRequested(body: unknown): boolean {
  return isObject(body) && body.stream === true;
}

/**
 * A local estimate of the prompt's input tokens (no network): tokenx's heuristic over the text
 * of `system`, every message block (text, thinking, tool inputs and results) and the tool
 * definitions as JSON, plus a fixed allowance per image. The README states the measured error.
 */
export function estimateInputTokens(body: unknown): number {
  if (!isObject(body)) return 0;
  const parts: string[] = [];
  let images = 0;
  const addContent = (content: unknown): void => {
    if (typeof content === "string") parts.push(content);
    else if (Array.isArray(content)) for (const block of content) addBlock(block);
  };
  const addBlock = (block: unknown): void => {
    if (!isObject(block)) return;
    switch (block.type) {
      case "text":
        if (typeof block.text === "string") parts.push(block.text);
        return;
      case "thinking":
        if (typeof block.thinking === "string") parts.push(block.thinking);
        return;
      case "image":
        images++;
        return;
      case "tool_use":
      case "server_tool_use":
        parts.push(typeof block.name === "string" ? block.name : "", JSON.stringify(block.input ?? {}));
        return;
      case "tool_result":
        addContent(block.content);
        return;
      default:
        // Documents, search results and other block kinds: their JSON is the best cheap guess.
        if (block.type !== "redacted_thinking") parts.push(JSON.stringify(block));
    }
  };
  addContent(body.system);
  if (Array.isArray(body.messages)) for (const message of body.messages) if (isObject(message)) addContent(message.content);
  if (Array.isArray(body.tools) && body.tools.length > 0) parts.push(JSON.stringify(body.tools));
  const messages = Array.isArray(body.messages) ? body.messages.length : 0;
  return estimateTokenCount(parts.join("\n")) + messages * TOKENS_PER_MESSAGE + images * TOKENS_PER_IMAGE;
}

/** Role markers and turn framing the API adds per message. */
const TOKENS_PER_MESSAGE = 4;
/** Anthropic bills an image at about (width × height) / 750 tokens; ~1,600 for a typical 1092×1092 one. */
const TOKENS_PER_IMAGE = 1600;

/** Every feature `when` reads; the token estimate only when `withEstimate` (it reads every text). */
export function requestFeatures(body: unknown, withEstimate: boolean): RequestFeatures {
  const features: RequestFeatures = {
    thinking: thinkingRequested(body),
    tools: toolNames(body),
    image: hasImage(body),
    stream: streamRequested(body),
  };
  if (withEstimate) features.inputTokens = estimateInputTokens(body);
  return features;
}

/**
 * Whether every key of `when` holds for this body. A body that is not a JSON object (or was not
 * parsed) meets no `when`. `estimate` memoises the token count across routes of one request.
 */
export function whenHolds(when: RouteWhen, body: unknown, estimate: () => number): boolean {
  if (!isObject(body)) return false;
  if (when.thinking !== undefined && thinkingRequested(body) !== when.thinking) return false;
  if (when.stream !== undefined && streamRequested(body) !== when.stream) return false;
  if (when.image !== undefined && hasImage(body) !== when.image) return false;
  if (when.toolsPattern !== undefined && !toolNames(body).some((name) => when.toolsPattern!.test(name))) return false;
  if (when.minInputTokens !== undefined && estimate() < when.minInputTokens) return false;
  return true;
}

/** `thinking: true, tools: "web_search*"`: the `when` as written, for logs and `explain`. */
export function describeWhen(when: RouteWhen): string {
  const parts: string[] = [];
  if (when.thinking !== undefined) parts.push(`thinking: ${when.thinking}`);
  if (when.tools !== undefined) parts.push(`tools: ${JSON.stringify(when.tools)}`);
  if (when.image !== undefined) parts.push(`image: ${when.image}`);
  if (when.minInputTokens !== undefined) parts.push(`minInputTokens: ${when.minInputTokens}`);
  if (when.stream !== undefined) parts.push(`stream: ${when.stream}`);
  return parts.join(", ");
}
