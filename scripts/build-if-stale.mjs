#!/usr/bin/env node
// `npm start` builds only when the sources changed since the last build: a full `tsc` run takes
// 4-7 s on a loaded machine, starting the built relay 0.25 s. Stale means: no build yet, or a file
// under src/ (or a tsconfig, or package.json) newer than dist/cli/main.js, which every `tsc` run
// rewrites (`npm run build`, `npm ci`'s prepare and `npm test` included).
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function mtime(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(full) : (mtime(full) ?? 0));
  }
  return latest;
}

const built = mtime(path.join(root, "dist", "cli", "main.js"));
const configs = ["tsconfig.json", "tsconfig.build.json", "package.json"].map((f) => mtime(path.join(root, f)) ?? 0);
const inputs = Math.max(newest(path.join(root, "src")), ...configs);
if (built === undefined || inputs > built) {
  execFileSync(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", path.join(root, "tsconfig.build.json")], {
    stdio: "inherit",
  });
}
