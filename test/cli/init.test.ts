/**
 * `llm-relay init` (DESIGN §2) with the built binary: writes a commented starter config that
 * loads and validates as is (found by the search `start` does), refuses to overwrite without
 * `--force`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanEnv, runCli } from "../helpers/cli.js";

const root = mkdtempSync(path.join(tmpdir(), "llm-relay-init-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const env = cleanEnv(root);

let n = 0;
function project(): string {
  const dir = path.join(root, `project-${++n}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe("init", () => {
  it("writes llm-relay.config.mjs that `config` then finds and validates, equal to the defaults", async () => {
    const dir = project();
    const init = await runCli(["init"], { env, cwd: dir });
    expect(init.stderr).toBe("");
    expect(init.code).toBe(0);
    const file = path.join(dir, "llm-relay.config.mjs");
    expect(init.stdout).toContain(`wrote ${file}`);

    const text = readFileSync(file, "utf8");
    // Resolvable without the package installed next to it (npx): a JSDoc type, no import.
    expect(text).not.toMatch(/^\s*import\b|require\(/m);
    expect(text).toContain("/** @type {import('llm-relay-cli').RelayConfig} */");
    // Commented examples of each part of the config.
    for (const part of ["providers:", "routes:", "timeouts:", "limits:", "// openrouter:", 'apiKey: { env: "OPENROUTER_API_KEY" }', "// { model:"]) {
      expect(text).toContain(part);
    }

    // Found by the search from a subfolder (as `start` would), valid, and the same as no file at all.
    const sub = path.join(dir, "src");
    mkdirSync(sub);
    const shown = await runCli(["config", "--json"], { env, cwd: sub });
    expect(shown.stderr).toBe("");
    expect(shown.code).toBe(0);
    const view = JSON.parse(shown.stdout);
    expect(view.source).toMatchObject({ file, via: "search" });
    const none = JSON.parse((await runCli(["config", "--json"], { env, cwd: project() })).stdout);
    expect(none.source.via).toBe("default");
    for (const key of ["host", "port", "providers", "routes", "timeouts", "limits", "token"]) expect(view[key]).toEqual(none[key]);
  });

  it("the written file also loads through config -c", async () => {
    const dir = project();
    expect((await runCli(["init"], { env, cwd: dir })).code).toBe(0);
    const shown = await runCli(["config", "-c", "llm-relay.config.mjs"], { env, cwd: dir });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^config\s+.*llm-relay\.config\.mjs \(--config\)$/m);
    expect(shown.stdout).toMatch(/^listen\s+127\.0\.0\.1:8742$/m);
  });

  it("refuses to overwrite an existing file: exit 1, clear message, file untouched", async () => {
    const dir = project();
    const file = path.join(dir, "llm-relay.config.mjs");
    writeFileSync(file, "export default { port: 9999 };\n");
    const result = await runCli(["init"], { env, cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(`llm-relay: ${file} already exists; not overwriting it (use --force to replace it)\n`);
    expect(readFileSync(file, "utf8")).toBe("export default { port: 9999 };\n");
  });

  it("--force overwrites it with the starter", async () => {
    const dir = project();
    const file = path.join(dir, "llm-relay.config.mjs");
    writeFileSync(file, "export default { port: 9999 };\n");
    const result = await runCli(["init", "--force"], { env, cwd: dir });
    expect(result.code).toBe(0);
    expect(readFileSync(file, "utf8")).toContain("@type {import('llm-relay-cli').RelayConfig}");
    const shown = JSON.parse((await runCli(["config", "--json"], { env, cwd: dir })).stdout);
    expect(shown.port).toBe(8742);
  });

  it("warns when another config file in the folder would be found first", async () => {
    const dir = project();
    writeFileSync(path.join(dir, ".llm-relayrc.json"), "{}");
    const result = await runCli(["init"], { env, cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/warning: .*\.llm-relayrc\.json is found first/);
  });
});
