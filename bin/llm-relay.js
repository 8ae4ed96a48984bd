#!/usr/bin/env node
// `--version` answers without loading the CLI (commander and the rest): it is what scripts and
// version managers call most, and start-up is most of its cost.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  const { readFileSync } = await import("node:fs");
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  process.stdout.write(`${pkg.version}\n`);
} else {
  await import("../dist/cli/main.js");
}
