/**
 * How each kind of config file is read (DESIGN §3). cosmiconfig finds the file; these turn its
 * text into a config object:
 *
 * - JSON: `JSON.parse`, with a syntax error given as line and column (never the file's text,
 *   which may hold a key).
 * - `.ts`/`.mts`/`.cts`: jiti, which ships with the relay, so nothing is installed next to the
 *   config (cosmiconfig's own TypeScript loader needs a `typescript` package resolvable from the
 *   relay's install, and fails with TypeScript 7).
 * - `.js`/`.mjs`/`.cjs`: Node's `import()`, or jiti when the file imports the relay's own package
 *   and the project has no `node_modules` holding it (run through npx or a global install).
 *
 * In both code paths `import { defineConfig } from "llm-relay-cli"` resolves to this very
 * package. Whether a code config may be loaded at all is decided before these run (load.ts, §8).
 */
import { realpath } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The package's npm name: what a config imports `defineConfig` from. */
export const PACKAGE_NAME = "llm-relay-cli";

/** The package's root folder (one up from both src/config and dist/config). */
const PACKAGE_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A problem with the file's content, reported as `cannot load config FILE: <message>`. */
export class ConfigFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigFileError";
  }
}

/** Zero-based offset in `text` → one-based line and column. Pure. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split(/\r\n|\r|\n/);
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

/**
 * V8's JSON messages: `Unexpected token } in JSON at position 20` (Node 20),
 * `Expected ',' or '}' after property value in JSON at position 9 (line 1 column 10)` (Node 22),
 * `Unexpected token 'n', "{ nope" is not valid JSON` (quotes the text: dropped). Pure.
 */
export function describeJsonError(message: string, text: string): string {
  const position = /at position (\d+)/.exec(message);
  const what = message
    .replace(/, ".*" is not valid JSON$/s, "")
    .replace(/ in JSON at position \d+.*$/s, "")
    .replace(/^Unexpected token '(.)'$/, "unexpected character '$1'")
    .replace(/^Unexpected token (\S)$/, "unexpected character '$1'")
    .replace(/^Unexpected end of JSON input$/, "the file ends in the middle of a value")
    .trim();
  if (position === null) {
    return what === "" ? "invalid JSON" : `invalid JSON: ${what}`;
  }
  const { line, column } = lineAndColumn(text, Number(position[1]));
  return `invalid JSON at line ${line}, column ${column}: ${what}`;
}

export function loadJson(_file: string, content: string): unknown {
  const text = content.charCodeAt(0) === 0xfeff ? content.slice(1) : content;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigFileError(describeJsonError((error as Error).message, text));
  }
}

/** `Cannot find package 'llm-relay-cli' imported from …` / `Cannot find module 'llm-relay-cli'`. */
function missesOwnPackage(error: unknown): boolean {
  const message = (error as Error)?.message ?? "";
  return new RegExp(`Cannot find (?:package|module) '${PACKAGE_NAME}(?:/[^']*)?'`).test(message);
}

async function importWithJiti(file: string): Promise<Record<string, unknown>> {
  const { createJiti } = await import("jiti");
  const jiti = createJiti(import.meta.url, {
    alias: { [PACKAGE_NAME]: PACKAGE_ROOT },
    // No transpile cache on disk (a shared temp folder is not ours to trust), and a fresh
    // evaluation on every load: the file is small, and an edit must take effect.
    fsCache: false,
    moduleCache: false,
    interopDefault: false,
  });
  return (await jiti.import(file)) as Record<string, unknown>;
}

/** The config a module exports: its default export (`module.exports` for CommonJS). */
function exportedConfig(file: string, mod: Record<string, unknown> | null | undefined): unknown {
  const commonJs = /\.c[jt]s$/.test(file);
  if (mod !== null && typeof mod === "object" && "default" in mod) return mod.default;
  if (commonJs && mod !== null && typeof mod === "object") return mod;
  throw new ConfigFileError(
    "it has no default export: write `export default defineConfig({ … })` (or `module.exports = { … }` in CommonJS)",
  );
}

/** Loader for `.ts`, `.mts`, `.cts`. */
export async function loadTypeScript(file: string): Promise<unknown> {
  return exportedConfig(file, await importWithJiti(file));
}

/** Loader for `.js`, `.mjs`, `.cjs`. */
export async function loadJavaScript(file: string): Promise<unknown> {
  const href = pathToFileURL(await realpath(file)).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(href)) as Record<string, unknown>;
  } catch (error) {
    // Module resolution fails before any of the file runs, so loading it again cannot run it twice.
    if (!missesOwnPackage(error)) throw error;
    mod = await importWithJiti(file);
  }
  return exportedConfig(file, mod);
}

export const CODE_LOADERS = {
  ".js": loadJavaScript,
  ".mjs": loadJavaScript,
  ".cjs": loadJavaScript,
  ".ts": loadTypeScript,
  ".mts": loadTypeScript,
  ".cts": loadTypeScript,
} as const;

/** Extensions of config files that are code (run when loaded). */
export const CODE_EXTENSIONS: readonly string[] = Object.keys(CODE_LOADERS);

export function isCodeFile(file: string): boolean {
  return CODE_EXTENSIONS.includes(path.extname(file));
}
