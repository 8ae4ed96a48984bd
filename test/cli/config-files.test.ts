/**
 * Config files as a user writes them, through the built binary (issue 11, items 2, 6, 11):
 * `.ts` configs load with nothing installed, `defineConfig` imports from "llm-relay-cli" in a
 * folder with no node_modules, and a file that holds no config, or a broken one, is an error
 * naming the file (line and column for JSON) that never quotes its content.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runCli } from "../helpers/cli.js";
import { OPENROUTER_KEY } from "../fixtures/tokens.js";

let home: string;
let seq = 0;

beforeAll(() => {
  // Under the OS temp folder: no node_modules anywhere above, as in a fresh project.
  home = mkdtempSync(path.join(tmpdir(), "llm-relay-cfgfiles-"));
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

/** A fresh project folder holding `name` with `content`. */
function project(name: string, content: string): { dir: string; file: string } {
  const dir = path.join(home, `p${++seq}`);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return { dir, file };
}

const config = (args: string[], cwd: string) => runCli(["config", ...args], { env: cleanEnv(home), cwd });

describe("code configs load with nothing installed in the project", () => {
  it.each([
    ["llm-relay.config.ts", 'import { defineConfig } from "llm-relay-cli";\nconst port: number = 9101;\nexport default defineConfig({ port });\n'],
    ["relay.mts", 'import { defineConfig, type RelayConfig } from "llm-relay-cli";\nconst c: RelayConfig = { port: 9102 };\nexport default defineConfig(c);\n'],
    ["relay.cts", 'const port: number = 9103;\nmodule.exports = { port };\n'],
    ["llm-relay.config.mjs", 'import { defineConfig } from "llm-relay-cli";\nexport default defineConfig({ port: 9104 });\n'],
  ])("%s", async (name, content) => {
    const { dir } = project(name, content);
    const result = await config(["-c", name, "--json"], dir);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const view = JSON.parse(result.stdout) as { port: number; source: { file: string } };
    expect(view.source.file).toBe(path.join(dir, name));
    expect(view.port).toBe(Number(/9\d{3}/.exec(content)![0]));
  });

  it("a config importing the other project's npm name is told which name to use", async () => {
    const { dir, file } = project("relay.mjs", 'import { defineConfig } from "llm-relay";\nexport default defineConfig({});\n');
    const result = await config(["-c", "relay.mjs"], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `llm-relay: cannot load config ${file}: it imports "llm-relay", which is not this relay's package; import from "llm-relay-cli" instead\n`,
    );
  });
});

describe("a file that holds no config is an error naming it", () => {
  it.each([
    ["relay.mjs", "export const port = 9105;\n"],
    ["relay.ts", "export const port: number = 9106;\n"],
  ])("no default export (%s)", async (name, content) => {
    const { dir, file } = project(name, content);
    const result = await config(["-c", name], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `llm-relay: cannot load config ${file}: it has no default export: write \`export default defineConfig({ … })\` (or \`module.exports = { … }\` in CommonJS)\n`,
    );
  });

  it.each(["relay.json", "relay.yaml", "relay.mjs"])("an empty %s named with --config", async (name) => {
    const { dir, file } = project(name, "  \n");
    const result = await config(["-c", name], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `llm-relay: config file ${file} is empty: write the settings in it (\`llm-relay init\` writes a starter) or remove it\n`,
    );
  });

  it("an empty file found by the search, for start as well as config", async () => {
    const { dir, file } = project(".llm-relayrc.json", "");
    const expected = `llm-relay: config file ${file} is empty: write the settings in it (\`llm-relay init\` writes a starter) or remove it\n`;
    const viaConfig = await config([], dir);
    expect([viaConfig.code, viaConfig.stderr]).toEqual([1, expected]);
    const viaStart = await runCli(["start", "--port", "0"], { env: cleanEnv(home), cwd: dir });
    expect([viaStart.code, viaStart.stderr]).toEqual([1, expected]);
  });
});

describe("a broken file: where, never what", () => {
  it("JSON: line and column, and the key in it is not quoted", async () => {
    const { dir, file } = project("relay.json", `{\n  "port": 9107,\n  "token": "${OPENROUTER_KEY}",\n}\n`);
    const result = await config(["-c", "relay.json"], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`llm-relay: cannot load config ${file}: invalid JSON at line 4, column 1: Expected double-quoted property name\n`);
  });

  it("TypeScript: line and column of the syntax error", async () => {
    const { dir, file } = project("relay.ts", `const port: number = 1 +;\nexport default { token: "${OPENROUTER_KEY}", port };\n`);
    const result = await config(["-c", "relay.ts"], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`llm-relay: cannot load config ${file}: syntax error at line 1, column 25: Unexpected token\n`);
  });

  it("JavaScript: how to find the syntax error, without quoting the line", async () => {
    const { dir, file } = project("relay.mjs", `export default { token: "${OPENROUTER_KEY}",, };\n`);
    const result = await config(["-c", "relay.mjs"], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`llm-relay: cannot load config ${file}: it has a syntax error (run \`node --check ${file}\` to see where)\n`);
  });
});
