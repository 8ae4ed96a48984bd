/**
 * DESIGN §8 through the built binary: an approval is bound to the file's real path and its
 * content hash, so approving a config in one project folder approves nothing in another folder
 * holding the same bytes; `trust --list` shows approvals and how each file compares now,
 * `trust --revoke FILE` drops one; approvals from the version-1 store (hash alone) are stale.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile, appendFile, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runCli, startCli } from "../helpers/cli.js";
import { findLeaks, OPENROUTER_KEY } from "../fixtures/tokens.js";

let home: string;
const env = () => cleanEnv(home, { GW_KEY: OPENROUTER_KEY });
const storeFile = () => path.join(home, ".local", "state", "llm-relay", "trusted.json");

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "llm-relay-trust-"));
});
afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

const CODE_CONFIG = (pkg: string) =>
  `import { defineConfig } from "${pkg}";\nexport default defineConfig({ providers: { anthropic: { kind: "anthropic", baseUrl: "https://api.anthropic.com" } } });\n`;

/** A fake package whose module, when it runs, leaves `ran-<pkg>` in the project folder. */
async function fakePackage(project: string, pkg: string): Promise<void> {
  const dir = path.join(project, "node_modules", pkg);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "package.json"), JSON.stringify({ name: pkg, type: "module", main: "index.js" }));
  await writeFile(
    path.join(dir, "index.js"),
    `import { writeFileSync } from "node:fs";\nwriteFileSync(new URL("../../ran-${pkg}", import.meta.url), "ran");\nexport const defineConfig = (config) => config;\n`,
  );
}

/** A project folder with a code config importing `pkg`, and that package faked. */
async function codeProject(name: string, pkg: string): Promise<{ dir: string; file: string; marker: string }> {
  const dir = path.join(home, name);
  await mkdir(dir, { recursive: true });
  await fakePackage(dir, "llm-relay-cli");
  await fakePackage(dir, "llm-relay");
  const file = path.join(dir, "llm-relay.config.mjs");
  await writeFile(file, CODE_CONFIG(pkg));
  return { dir, file, marker: path.join(dir, `ran-${pkg}`) };
}

const OFFSITE = JSON.stringify({ providers: { gw: { kind: "anthropic", baseUrl: "https://gw.example/api", apiKey: { env: "GW_KEY" } } } });

async function dataProject(name: string, content = OFFSITE): Promise<{ dir: string; file: string }> {
  const dir = path.join(home, name);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, ".llm-relayrc.json");
  await writeFile(file, content);
  return { dir, file };
}

async function startsAndServes(cwd: string): Promise<void> {
  const cli = startCli(["start", "--port", "0"], { env: env(), cwd });
  try {
    const [, url] = await cli.waitFor(/listening\s+(http:\/\/\S+)/);
    const res = await fetch(`${url}/_relay/health`);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
  } finally {
    cli.child.kill("SIGTERM");
    await cli.exited;
  }
}

// Each case spawns the binary several times: generous on a loaded machine.
describe("an approval is bound to the file's path and content", { timeout: 120_000 }, () => {
  it.each(["llm-relay-cli", "llm-relay"])(
    "approving a code config (importing %s) in folder A approves nothing in folder B with the same bytes",
    async (pkg) => {
      const a = await codeProject(`code-a-${pkg}`, pkg);
      const b = await codeProject(`code-b-${pkg}`, pkg);
      const trusted = await runCli(["trust"], { env: env(), cwd: a.dir });
      expect(trusted.code).toBe(0);
      expect(trusted.stdout).toContain(`trusted ${a.file}`);
      expect(existsSync(a.marker)).toBe(false);

      for (const command of [["config"], ["start", "--port", "0"], ["explain"], ["doctor"]]) {
        const refused = await runCli(command, { env: env(), cwd: b.dir });
        expect(refused.code, command.join(" ")).toBe(1);
        expect(refused.stdout + refused.stderr).toContain(`refusing to load ${b.file}`);
        expect(refused.stdout + refused.stderr).not.toMatch(/\bapproved \(/);
        expect(existsSync(b.marker), command.join(" ")).toBe(false);
      }

      // The approved folder itself loads (and so runs its code).
      const shown = await runCli(["config"], { env: env(), cwd: a.dir });
      expect(shown.code).toBe(0);
      expect(existsSync(a.marker)).toBe(true);
      expect(existsSync(b.marker)).toBe(false);
    },
  );

  it("a data config approved in folder A is not approved in folder B; `config` in B says NOT approved", async () => {
    const a = await dataProject("data-a");
    const b = await dataProject("data-b");
    expect((await runCli(["trust"], { env: env(), cwd: a.dir })).code).toBe(0);

    const shownA = await runCli(["config"], { env: env(), cwd: a.dir });
    expect(shownA.stdout).toContain("approved (llm-relay trust)");
    const shownB = await runCli(["config"], { env: env(), cwd: b.dir });
    expect(shownB.code).toBe(0);
    expect(shownB.stdout).toContain("NOT approved");
    expect(shownB.stdout).not.toContain("approved (llm-relay trust)");
    const jsonB = await runCli(["config", "--json"], { env: env(), cwd: b.dir });
    expect(JSON.parse(jsonB.stdout).trust.status).toBe("untrusted");

    const refused = await runCli(["start", "--port", "0"], { env: env(), cwd: b.dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`refusing to use ${b.file}`);
    const doctor = await runCli(["doctor"], { env: env(), cwd: b.dir });
    expect(doctor.stdout + doctor.stderr).toMatch(/config trust.*not approved/);
    await startsAndServes(a.dir);
  });

  it("a moved (renamed) approved file is no longer approved", async () => {
    const a = await dataProject("data-moved");
    expect((await runCli(["trust"], { env: env(), cwd: a.dir })).code).toBe(0);
    const moved = path.join(a.dir, ".llm-relayrc.yaml");
    await writeFile(moved, await readFile(a.file));
    await unlink(a.file);
    const refused = await runCli(["start", "--port", "0"], { env: env(), cwd: a.dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`refusing to use ${moved}`);
  });

  it("approval follows symlinks to the real file: a link found by search is approved when its target is", async () => {
    const real = await dataProject("data-real");
    const linked = path.join(home, "data-linked");
    await mkdir(linked, { recursive: true });
    await symlink(real.file, path.join(linked, ".llm-relayrc.json"));
    // Approving through the link records the real path.
    const trusted = await runCli(["trust", path.join(linked, ".llm-relayrc.json")], { env: env(), cwd: home });
    expect(trusted.code).toBe(0);
    expect(trusted.stdout).toContain(`trusted ${real.file}`);
    const store = JSON.parse(await readFile(storeFile(), "utf8"));
    expect(store.files.map((e: { path: string }) => e.path)).toContain(real.file);
    expect(store.files.map((e: { path: string }) => e.path)).not.toContain(path.join(linked, ".llm-relayrc.json"));
    await startsAndServes(real.dir);
    await startsAndServes(linked);
  });

  it("a version-1 store entry (hash alone) is not honoured, and `--list` shows it as stale", async () => {
    const p = await dataProject("data-v1");
    const sha256 = createHash("sha256").update(await readFile(p.file)).digest("hex");
    const saved = await readFile(storeFile(), "utf8").catch(() => undefined);
    await mkdir(path.dirname(storeFile()), { recursive: true });
    await writeFile(storeFile(), JSON.stringify({ version: 1, files: { [p.file]: { sha256, approvedAt: "2026-01-02T03:04:05.000Z" } } }));
    try {
      const refused = await runCli(["start", "--port", "0"], { env: env(), cwd: p.dir });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`refusing to use ${p.file}`);
      const listed = await runCli(["trust", "--list"], { env: env(), cwd: home });
      expect(listed.code).toBe(0);
      expect(listed.stdout).toMatch(new RegExp(`stale-v1-entry\\s+${sha256.slice(0, 12)}\\s+2026-01-02 03:04:05\\s+${p.file}`));
      // Approving again replaces the stale entry.
      expect((await runCli(["trust"], { env: env(), cwd: p.dir })).code).toBe(0);
      const relisted = await runCli(["trust", "--list"], { env: env(), cwd: home });
      expect(relisted.stdout).not.toContain("stale-v1-entry");
      expect(relisted.stdout).toMatch(new RegExp(`ok\\s+${sha256.slice(0, 12)}\\s+\\S+ \\S+\\s+${p.file}`));
      await startsAndServes(p.dir);
    } finally {
      if (saved === undefined) await rm(storeFile(), { force: true });
      else await writeFile(storeFile(), saved);
    }
  });
});

// Each case spawns the binary several times: generous on a loaded machine.
describe("trust --list and --revoke", { timeout: 120_000 }, () => {
  it("lists each approval with its hash prefix, date and state (ok / changed / missing), and revokes one", async () => {
    const listHome = await mkdtemp(path.join(tmpdir(), "llm-relay-trust-list-"));
    const e = cleanEnv(listHome, { GW_KEY: OPENROUTER_KEY });
    try {
      const empty = await runCli(["trust", "--list"], { env: e, cwd: listHome });
      expect(empty.code).toBe(0);
      expect(empty.stdout).toContain("no approved configs");

      const kept = await dataProject("list-kept");
      const edited = await dataProject("list-edited");
      const gone = await dataProject("list-gone");
      for (const p of [kept, edited, gone]) expect((await runCli(["trust"], { env: e, cwd: p.dir })).code).toBe(0);
      const hashOf = async (f: string) => createHash("sha256").update(await readFile(f)).digest("hex").slice(0, 12);
      const keptHash = await hashOf(kept.file);
      await appendFile(edited.file, "\n");
      await unlink(gone.file);

      const listed = await runCli(["trust", "--list"], { env: e, cwd: listHome });
      expect(listed.code).toBe(0);
      const line = (file: string) => listed.stdout.split("\n").find((l) => l.includes(file)) ?? "";
      expect(line(kept.file)).toMatch(new RegExp(`^\\s+ok\\s+${keptHash}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+`));
      expect(line(edited.file)).toMatch(/^\s+changed\s+[0-9a-f]{12}\s/);
      expect(line(gone.file)).toMatch(/^\s+missing\s+[0-9a-f]{12}\s/);
      expect(listed.stdout).not.toMatch(/[0-9a-f]{40}/);
      expect(findLeaks(listed.stdout + listed.stderr)).toEqual([]);

      // Revoke by a relative path, resolved from the working folder like approval.
      const revoked = await runCli(["trust", "--revoke", ".llm-relayrc.json"], { env: e, cwd: kept.dir });
      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toContain(`revoked approval of ${kept.file}`);
      const refused = await runCli(["start", "--port", "0"], { env: e, cwd: kept.dir });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`refusing to use ${kept.file}`);
      expect((await runCli(["trust", "--list"], { env: e, cwd: listHome })).stdout).not.toContain(kept.file);

      // A file that is gone can still be revoked by the path it was approved at.
      expect((await runCli(["trust", "--revoke", gone.file], { env: e, cwd: listHome })).code).toBe(0);

      // Revoking what is not approved (again, or never) is a clear error.
      for (const target of [kept.file, path.join(listHome, "never.json")]) {
        const again = await runCli(["trust", "--revoke", target], { env: e, cwd: listHome });
        expect(again.code).toBe(1);
        expect(again.stderr).toContain(`${target} is not approved`);
        expect(again.stderr).toContain("llm-relay trust --list");
        expect(again.stderr).not.toMatch(/\n\s+at /);
      }
    } finally {
      await rm(listHome, { recursive: true, force: true });
    }
  });

  it("revoking through a symlink drops the real file's approval", async () => {
    const real = await dataProject("revoke-real");
    const link = path.join(home, "revoke-link.json");
    await symlink(real.file, link);
    expect((await runCli(["trust", real.file], { env: env(), cwd: home })).code).toBe(0);
    const revoked = await runCli(["trust", "--revoke", link], { env: env(), cwd: home });
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`revoked approval of ${real.file}`);
    expect((await runCli(["start", "--port", "0"], { env: env(), cwd: real.dir })).code).toBe(1);
  });

  it.each([
    [["trust", "some.json", "--list"]],
    [["trust", "--list", "--revoke", "x.json"]],
    [["trust", "--revoke"]],
  ])("%j is a usage error", async (args) => {
    const res = await runCli(args, { env: env(), cwd: home });
    expect(res.code).toBe(1);
    expect(res.stderr.length).toBeGreaterThan(0);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});
