/**
 * Friction in the first hour (issue 11, item 17): a port held by another llm-relay says so (and
 * which version), for `start` and `exec` alike; `npm start` rebuilds only when a source changed.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanEnv, ROOT, runCli, startCli } from "../helpers/cli.js";
import { VERSION } from "../../src/version.js";

const home = mkdtempSync(path.join(tmpdir(), "llm-relay-port-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("a port another llm-relay holds", () => {
  it("start and exec say another llm-relay (and its version) is listening there; exit 1", async () => {
    const first = startCli(["start", "--port", "0"], { env: cleanEnv(home), cwd: home });
    try {
      const [, port] = await first.waitFor(/listening\s+http:\/\/127\.0\.0\.1:(\d+)/);
      const expected =
        `llm-relay: port ${port} on 127.0.0.1 is already in use: another llm-relay (version ${VERSION}) is already listening there.\n` +
        `  Use it (export ANTHROPIC_BASE_URL=http://127.0.0.1:${port}), stop it, or choose another port with --port\n`;
      const second = await runCli(["start", "--port", port!], { env: cleanEnv(home), cwd: home });
      expect([second.code, second.stderr]).toEqual([1, expected]);
      const exec = await runCli(["exec", "--port", port!, "--", process.execPath, "-e", "0"], { env: cleanEnv(home), cwd: home });
      expect([exec.code, exec.stderr]).toEqual([1, expected]);
    } finally {
      first.child.kill("SIGKILL");
      await first.exited;
    }
  });
});

describe("npm start builds only when sources changed", () => {
  /** A copy of the script in a fake project whose "tsc" only leaves a mark. */
  function fakeProject(): { root: string; run(): boolean } {
    const root = mkdtempSync(path.join(home, "proj-"));
    mkdirSync(path.join(root, "scripts"));
    copyFileSync(path.join(ROOT, "scripts", "build-if-stale.mjs"), path.join(root, "scripts", "build-if-stale.mjs"));
    mkdirSync(path.join(root, "src", "cli"), { recursive: true });
    writeFileSync(path.join(root, "src", "cli", "main.ts"), "export {};\n");
    for (const f of ["tsconfig.json", "tsconfig.build.json", "package.json"]) writeFileSync(path.join(root, f), "{}\n");
    mkdirSync(path.join(root, "node_modules", "typescript", "bin"), { recursive: true });
    const mark = path.join(root, "tsc-ran");
    writeFileSync(
      path.join(root, "node_modules", "typescript", "bin", "tsc"),
      `const fs = require("node:fs"); const p = require("node:path");\n` +
        `fs.writeFileSync(${JSON.stringify(mark)}, "x"); fs.mkdirSync(p.join(${JSON.stringify(root)}, "dist", "cli"), { recursive: true });\n` +
        `fs.writeFileSync(p.join(${JSON.stringify(root)}, "dist", "cli", "main.js"), "");\n`,
    );
    return {
      root,
      run() {
        rmSync(mark, { force: true });
        const result = spawnSync(process.execPath, [path.join(root, "scripts", "build-if-stale.mjs")], { encoding: "utf8" });
        expect(result.status, result.stderr).toBe(0);
        return existsSync(mark);
      },
    };
  }

  it("builds when there is no build, not again when nothing changed, and again after an edit", () => {
    const project = fakeProject();
    expect(project.run()).toBe(true);
    const past = new Date(Date.now() - 60_000);
    for (const f of ["src/cli/main.ts", "tsconfig.json", "tsconfig.build.json", "package.json"]) utimesSync(path.join(project.root, f), past, past);
    expect(project.run()).toBe(false);
    writeFileSync(path.join(project.root, "src", "cli", "main.ts"), "export const edited = 1;\n");
    expect(project.run()).toBe(true);
    expect(project.run()).toBe(false);
  });

  it("package.json's start script uses it, so npm ci && npm start still builds on a fresh clone", () => {
    const pkg = JSON.parse(readPkg()) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe("node scripts/build-if-stale.mjs && node bin/llm-relay.js start");
    expect(pkg.scripts.prepare).toBe("npm run build");
  });
});

function readPkg(): string {
  return readFileSync(path.join(ROOT, "package.json"), "utf8");
}
