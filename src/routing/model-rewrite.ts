/**
 * Model rewrite (DESIGN §10): a provider's `models` map renames the request's model to the name
 * that provider knows it by. Pure. The rewrite changes only the bytes of the top-level `"model"`
 * string token, found by the sniffer with its byte span; every other byte of the body is replayed
 * as the client sent it, and `content-length` follows the new size.
 */
import type { ByteSpan } from "./model-sniffer.js";

/** One entry of a provider's `models`, in key order: a glob on the request's model → the upstream name. */
export interface ModelMapping {
  glob: string;
  pattern: RegExp;
  upstream: string;
}

/** What the plan says to do to the body's model; the relay splices, logs print, tests assert it. */
export interface ModelRewrite {
  /** The client's model. */
  from: string;
  /** The name sent upstream. */
  to: string;
  /** The `models` key that matched. */
  glob: string;
  provider: string;
  /** The value's string token in the client's body, quotes included (undefined for a dry run from `--model`). */
  span?: ByteSpan | undefined;
  /** `to` as a JSON string token in UTF-8: what replaces the span. */
  bytes: Buffer;
}

/** The first mapping in key order whose glob matches; `"*"` catches all, no match leaves the model. */
export function chooseModelRewrite(
  model: string | undefined,
  models: readonly ModelMapping[],
  provider: string,
  span?: ByteSpan,
): ModelRewrite | undefined {
  if (model === undefined) return undefined;
  const mapping = models.find((m) => m.pattern.test(model));
  if (!mapping || mapping.upstream === model) return undefined;
  return { from: model, to: mapping.upstream, glob: mapping.glob, provider, span, bytes: encodeJsonString(mapping.upstream) };
}

/**
 * A string as a JSON token in UTF-8 (RFC 8259 §7): quotes, backslashes and control characters
 * escaped, a lone surrogate as `\uXXXX` (well-formed JSON.stringify), everything else as its
 * UTF-8 bytes.
 */
export function encodeJsonString(value: string): Buffer {
  return Buffer.from(JSON.stringify(value), "utf8");
}

/** The body length once the rewrite is applied; `span` absent: the client wrote the shortest form. */
export function rewrittenLength(length: number, rewrite: ModelRewrite): number {
  const old = rewrite.span ? rewrite.span.end - rewrite.span.start : encodeJsonString(rewrite.from).length;
  return length - old + rewrite.bytes.length;
}

/**
 * `head` (the body's first bytes, holding the whole span) with the model token replaced.
 *
 * @example
 * spliceModel(Buffer.from('{"model":"a","x":1}'), { span: { start: 9, end: 12 }, bytes: Buffer.from('"b"') })
 * // → {"model":"b","x":1}
 */
export function spliceModel(head: Buffer, rewrite: Pick<ModelRewrite, "span" | "bytes">): Buffer {
  const span = rewrite.span;
  if (!span || span.end > head.length) throw new RangeError("the model's span is not inside the bytes read");
  return Buffer.concat([head.subarray(0, span.start), rewrite.bytes, head.subarray(span.end)]);
}

/** The reason text of the body decision, e.g. `models["claude-*haiku*"] of local`. */
export function modelRewriteSource(rewrite: ModelRewrite): string {
  return `models[${JSON.stringify(rewrite.glob)}] of ${rewrite.provider}`;
}

/** `model rewrite claude-haiku-4-5 → qwen3-coder:30b (models["claude-*haiku*"] of local)`. */
export function describeModelRewrite(rewrite: ModelRewrite): string {
  return `model rewrite ${rewrite.from} → ${rewrite.to} (${modelRewriteSource(rewrite)})`;
}
