/**
 * Every `$ llm-relay explain …` in the README is a command a reader can paste, and prints what the
 * README shows: each is taken from its fenced block, run with the built binary, and its output
 * compared with the lines under it. Only what varies between machines is normalised (the folder
 * it ran in). A command with `-c .llm-relayrc.json` runs next to the nearest config block above
 * it marked `<!-- tested-config: NAME -->`; `--body FILE` reads the bodies in docs/examples/.
 */
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findLeaks } from "../fixtures/tokens.js";
import { cleanEnv, ROOT, runCli } from "../helpers/cli.js";

const README = await readFile(path.join(ROOT, "README.md"), "utf8");
const EXAMPLES = path.join(ROOT, "docs", "examples");

interface Example {
  /** The command as the README prints it (continuation lines joined). */
  command: string;
  env: Record<string, string>;
  args: string[];
  expected: string;
  /** The config block the command's `-c .llm-relayrc.json` means, if any. */
  config?: string;
}

/** Splits a shell command line as sh would for the quoting the README uses ('…', "…", \ escapes). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end === -1) throw new Error(`unclosed ' in: ${line}`);
      word = (word ?? "") + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let j = i + 1;
      let text = "";
      for (; j < line.length && line[j] !== '"'; j++) text += line[j] === "\\" && /["\\$`]/.test(line[j + 1] ?? "") ? line[++j] : line[j];
      if (j >= line.length) throw new Error(`unclosed " in: ${line}`);
      word = (word ?? "") + text;
      i = j;
    } else if (c === "\\") {
      word = (word ?? "") + (line[++i] ?? "");
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? "") + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The `<!-- tested-config: NAME -->` JSON block nearest above `offset`. */
function configAbove(offset: number): string | undefined {
  const marker = README.lastIndexOf("<!-- tested-config: ", offset);
  if (marker === -1) return undefined;
  return /```json\n([\s\S]*?)\n```/.exec(README.slice(marker))?.[1];
}

function explainExamples(): Example[] {
  const examples: Example[] = [];
  for (const fence of README.matchAll(/^```[a-z]*\n([\s\S]*?)^```$/gm)) {
    const lines = fence[1]!.replace(/\n$/, "").split("\n");
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]!.startsWith("$ ")) continue;
      let command = lines[i]!.slice(2);
      while (command.endsWith("\\") && i + 1 < lines.length) command = `${command.slice(0, -1)} ${lines[++i]!.trim()}`;
      const output: string[] = [];
      while (i + 1 < lines.length && !lines[i + 1]!.startsWith("$ ")) output.push(lines[++i]!);
      while (output.at(-1) === "") output.pop();
      const words = shellWords(command);
      const env: Record<string, string> = {};
      while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
        const [name, ...value] = words.shift()!.split("=");
        env[name!] = value.join("=");
      }
      if (words[0] !== "llm-relay" || words[1] !== "explain") continue;
      const args = words.slice(1);
      const usesConfig = args.some((a, k) => (a === "-c" || a === "--config") && args[k + 1] === ".llm-relayrc.json");
      examples.push({ command, env, args, expected: output.join("\n"), ...(usesConfig ? { config: configAbove(fence.index!) } : {}) });
    }
  }
  return examples;
}

const examples = explainExamples();
const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe("README explain examples", () => {
  it("there are examples to check, and every one is a complete command (no … standing for a token)", () => {
    expect(examples.length).toBeGreaterThanOrEqual(4);
    for (const { command } of examples) expect(command).not.toContain("…");
  });

  it("reads the quoting the README uses as sh does", () => {
    expect(shellWords(`explain --path '/v1/m?beta=true' -H "a: \\"b\\"" x\\ y`)).toEqual(["explain", "--path", "/v1/m?beta=true", "-H", 'a: "b"', "x y"]);
  });

  it.each(examples.map((e) => [e.command.slice(0, 90), e] as const))("$ %s…", async (_title, example) => {
    const dir = await mkdtemp(path.join(tmpdir(), "llm-relay-readme-explain-"));
    dirs.push(dir);
    for (const file of await readdir(EXAMPLES)) await copyFile(path.join(EXAMPLES, file), path.join(dir, file));
    if (example.config !== undefined) await writeFile(path.join(dir, ".llm-relayrc.json"), example.config);
    else expect(example.args).not.toContain("-c");

    const result = await runCli(example.args, { env: cleanEnv(dir, example.env), cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout.trimEnd().replaceAll(`${dir}${path.sep}`, "")).toBe(example.expected);
    // Every secret the command carries is shown redacted only.
    const secrets = [...example.command.matchAll(/\b(?:sk-[\w-]{20,})/g)].map((m) => m[0]);
    expect(secrets.length).toBeGreaterThan(0);
    expect(findLeaks(result.stdout + result.stderr, secrets)).toEqual([]);
  });
});
