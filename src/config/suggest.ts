/**
 * "Did you mean" for config keys the schema does not know (`provders` → `providers`,
 * `baseURL` → `baseUrl`). Pure: the schema is walked as data, the distance is leven's.
 */
import leven from "leven";
import type { z } from "zod";

/** The parts of zod 4's internal definition a key lookup needs (`schema._zod.def`). */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  valueType?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  in?: z.ZodType;
}

function defOf(schema: z.ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** The object schemas a value at this level may be (a union may offer several). */
function objectsAt(schema: z.ZodType): z.ZodType[] {
  const def = defOf(schema);
  switch (def.type) {
    case "object":
      return [schema];
    case "optional":
    case "nullable":
    case "default":
    case "readonly":
    case "catch":
      return def.innerType ? objectsAt(def.innerType) : [];
    case "pipe":
      return def.in ? objectsAt(def.in) : [];
    case "union":
      return (def.options ?? []).flatMap(objectsAt);
    default:
      return [];
  }
}

/** One step down: a property of an object, a record's value, an array's element. */
function childAt(schema: z.ZodType, segment: PropertyKey): z.ZodType[] {
  const def = defOf(schema);
  switch (def.type) {
    case "object": {
      const child = typeof segment === "string" ? def.shape?.[segment] : undefined;
      return child ? [child] : [];
    }
    case "record":
      return def.valueType ? [def.valueType] : [];
    case "array":
      return def.element ? [def.element] : [];
    case "optional":
    case "nullable":
    case "default":
    case "readonly":
    case "catch":
      return def.innerType ? childAt(def.innerType, segment) : [];
    case "pipe":
      return def.in ? childAt(def.in, segment) : [];
    case "union":
      return (def.options ?? []).flatMap((option) => childAt(option, segment));
    default:
      return [];
  }
}

/**
 * The keys an object at `path` may have, in schema order.
 * @example knownKeysAt(configSchema, ["providers", "x"]) // ["preset", "kind", "baseUrl", …]
 */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let level = [schema];
  for (const segment of path) level = level.flatMap((s) => childAt(s, segment));
  const keys = level.flatMap(objectsAt).flatMap((s) => Object.keys(defOf(s).shape ?? {}));
  return [...new Set(keys)];
}

/**
 * The known key `input` most likely meant, or undefined when none is close: a case-insensitive
 * match wins, then the smallest edit distance, at most 2 and at most a third of the key's length
 * (rounded up), so `port` is not offered for `host`-like typos of unrelated short keys.
 */
export function closestKey(input: string, known: readonly string[]): string | undefined {
  const lower = input.toLowerCase();
  const sameCase = known.find((k) => k.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  const limit = Math.min(2, Math.ceil(input.length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const key of known) {
    const distance = leven(lower, key.toLowerCase(), { maxDistance: bestDistance });
    if (distance < bestDistance) {
      best = key;
      bestDistance = distance;
    }
  }
  return best;
}

/** `unknown key "provders" (did you mean "providers"?)`, or the keys that level knows. */
export function unknownKeyMessage(key: string, known: readonly string[]): string {
  // JSON quoting: a key is the user's text, and a control character in it must not reach the terminal raw.
  const quoted = JSON.stringify(key);
  const guess = closestKey(key, known);
  if (guess !== undefined) return `unknown key ${quoted} (did you mean "${guess}"?)`;
  return known.length > 0 ? `unknown key ${quoted}; the keys here are ${known.join(", ")}` : `unknown key ${quoted}`;
}
