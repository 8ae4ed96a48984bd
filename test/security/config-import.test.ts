/**
 * DESIGN §8, through the built binary: no command runs project code before approval, `trust`
 * included, so a data config's `$import` (cosmiconfig loads the named file, code included) is
 * refused by every command and whichever way the file was chosen — found by search, `--config`,
 * `LLM_RELAY_CONFIG`, or the user config folder — without the imported file ever running.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, runCli } from "../helpers/cli.js";

let home: string;
let seq = 0;

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), "llm-relay-import-"));
});
afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

type Via = "search" | "--config" | "LLM_RELAY_CONFIG" | "user folder";

/** A fresh HOME holding a data config that `$import`s a helpers.cjs which leaves a marker when it runs. */
async function setup(via: Via, format: "json" | "yaml") {
  const root = path.join(home, `case${++seq}`);
  const project = path.join(root, "project");
  const dir = via === "user folder" ? path.join(root, ".config", "llm-relay") : via === "search" ? project : path.join(root, "chosen");
  await mkdir(project, { recursive: true });
  await mkdir(dir, { recursive: true });
  const marker = path.join(root, "helpers-ran");
  const childMarker = path.join(root, "child-ran");
  await writeFile(path.join(dir, "helpers.cjs"), `require("node:fs").writeFileSync(${JSON.stringify(marker)}, "x");\nmodule.exports = { port: 9030 };\n`);
  const base = via === "user folder" ? "config" : ".llm-relayrc";
  const file = path.join(dir, `${base}.${format}`);
  await writeFile(file, format === "json" ? JSON.stringify({ $import: "./helpers.cjs" }) : "$import: ./helpers.cjs\n");
  const env = cleanEnv(root, via === "LLM_RELAY_CONFIG" ? { LLM_RELAY_CONFIG: file } : {});
  const configArgs = via === "--config" ? ["--config", file] : [];
  return { project, file, marker, childMarker, env, configArgs };
}

const COMMANDS: Array<[string, (s: Awaited<ReturnType<typeof setup>>, via: Via) => string[] | undefined]> = [
  ["trust", (s, via) => (via === "search" ? ["trust"] : ["trust", s.file])],
  ["config", (s) => ["config", ...s.configArgs]],
  ["start", (s) => ["start", "--port", "0", ...s.configArgs]],
  ["explain", (s) => ["explain", ...s.configArgs]],
  // doctor has no --config: it checks what the other commands would find.
  ["doctor", (s, via) => (via === "--config" ? undefined : ["doctor"])],
  ["exec", (s) => ["exec", ...s.configArgs, "--", process.execPath, "-e", `require("node:fs").writeFileSync(${JSON.stringify(s.childMarker)}, "x")`]],
];

const VIAS: Via[] = ["search", "--config", "LLM_RELAY_CONFIG", "user folder"];
const CASES = COMMANDS.flatMap(([name, args]) =>
  VIAS.filter((via) => !(name === "doctor" && via === "--config")).flatMap((via) => (["json", "yaml"] as const).map((format) => [name, via, format, args] as const)),
);

// Each case spawns the binary several times: generous on a loaded machine.
describe("a data config's $import is refused by every command, without running the imported file", { timeout: 120_000 }, () => {
  it.each(CASES)("%s, config found by %s (%s)", async (_name, via, format, argsFor) => {
    const s = await setup(via, format);
    const args = argsFor(s, via)!;
    const res = await runCli(args, { env: s.env, cwd: s.project });
    const out = res.stdout + res.stderr;
    expect(res.code, out).toBe(1);
    expect(out).toContain(`refusing to load ${s.file}: it uses $import`);
    expect(out).not.toMatch(/\n\s+at /);
    expect(existsSync(s.marker)).toBe(false);
    expect(existsSync(s.childMarker)).toBe(false);
    if (args[0] === "trust") expect(existsSync(path.join(s.env.XDG_STATE_HOME!, "llm-relay", "trusted.json"))).toBe(false);
  });
});
