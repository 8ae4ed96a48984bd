/**
 * The npm name `llm-relay` is someone else's package (issue 11, item 1): no text we ship may tell a
 * user to run `npx llm-relay …` or import from "llm-relay". Checked in the README, package.json,
 * every source file, the file `init` writes and the help of every command, as the user reads them.
 */
import { readdirSync, readFileSync } from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, ROOT, runCli } from "../helpers/cli.js";

/** `npx llm-relay` not followed by `-cli`, and the other package's name as a module specifier. */
const WRONG_NAME = /npx\s+(?:-\S+\s+)*llm-relay(?!-cli)\b|(?:from\s+|import\(\s*|require\(\s*)["']llm-relay["']/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : [full];
  });
}

/** The offending lines of `text`, for a readable failure. */
function wrongLines(text: string): string[] {
  return text.split("\n").filter((line) => WRONG_NAME.test(line));
}

let home: string;
beforeAll(() => {
  home = mkdtempSync(path.join(tmpdir(), "llm-relay-name-"));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("the package is named llm-relay-cli everywhere a user reads it", () => {
  it("the pattern catches the wrong forms and lets the right ones pass", () => {
    for (const wrong of ["npx llm-relay start", "run `npx llm-relay`", "npx --yes llm-relay config", 'import { defineConfig } from "llm-relay";', "import('llm-relay')"]) {
      expect(WRONG_NAME.test(wrong), wrong).toBe(true);
    }
    for (const right of ["npx llm-relay-cli start", "npx --yes llm-relay-cli", 'from "llm-relay-cli"', "import('llm-relay-cli').RelayConfig", "llm-relay start"]) {
      expect(WRONG_NAME.test(right), right).toBe(false);
    }
  });

  it("package.json publishes llm-relay-cli with the llm-relay binary", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { name: string; bin: Record<string, string> };
    expect(pkg.name).toBe("llm-relay-cli");
    expect(Object.keys(pkg.bin)).toEqual(["llm-relay"]);
    expect(wrongLines(JSON.stringify(pkg, null, 2))).toEqual([]);
  });

  it("README.md and every file under src/", () => {
    const files = [path.join(ROOT, "README.md"), ...sourceFiles(path.join(ROOT, "src"))];
    const found = files.flatMap((file) => wrongLines(readFileSync(file, "utf8")).map((line) => `${path.relative(ROOT, file)}: ${line.trim()}`));
    expect(found).toEqual([]);
  });

  it("the config file init writes", async () => {
    const result = await runCli(["init"], { env: cleanEnv(home), cwd: home });
    expect(result.code).toBe(0);
    const written = readFileSync(path.join(home, "llm-relay.config.mjs"), "utf8");
    expect(written).toContain("npx llm-relay-cli config");
    expect(wrongLines(written)).toEqual([]);
    expect(wrongLines(result.stdout + result.stderr)).toEqual([]);
  });

  it("the help of the program and of every command", async () => {
    const top = await runCli(["--help"], { env: cleanEnv(home), cwd: home });
    expect(top.code).toBe(0);
    const commands = [...top.stdout.matchAll(/^ {2}(\w+)\b/gm)].map((m) => m[1]!).filter((c) => c !== "help");
    expect(commands).toEqual(expect.arrayContaining(["start", "exec", "config", "init", "doctor", "trust", "explain"]));
    const helps = await Promise.all(commands.map((c) => runCli([c, "--help"], { env: cleanEnv(home), cwd: home })));
    for (const [i, help] of helps.entries()) {
      expect(help.code, commands[i]).toBe(0);
      expect(wrongLines(help.stdout + help.stderr), commands[i]).toEqual([]);
    }
    expect(wrongLines(top.stdout)).toEqual([]);
  });
});
