#!/usr/bin/env bash
# Proves the package is publishable, the way a user meets it:
# 1. `npm pack` holds the build, and `npx ./llm-relay-cli-<version>.tgz start` serves from an empty
#    folder with no config (the embedded default). The tarball is named by a relative path: npx
#    runs an absolute path as a command instead of installing it.
# 2. Installed globally from the tarball, `llm-relay config` and `start` load a `.ts` config that
#    imports `defineConfig` from "llm-relay-cli" and uses TypeScript-only syntax, in a folder with
#    no node_modules and no typescript anywhere near it.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
# npx runs the relay as a child of its own: start it in a session of its own and end the whole group.
trap '[ -n "${relay_pid:-}" ] && kill -- "-$relay_pid" 2>/dev/null; rm -rf "$work"' EXIT

tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
case "$tarball" in llm-relay-cli-*.tgz) ;; *) echo "pack-smoke: unexpected tarball name $tarball (the package is llm-relay-cli)"; exit 1 ;; esac
tar -tzf "$work/$tarball" >"$work/files.txt"
grep -q "package/dist/cli/main.js" "$work/files.txt" || { echo "pack-smoke: dist/ missing from $tarball"; exit 1; }

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
mkdir -p "$work/empty" "$work/home"
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_STATE_HOME="$work/home/.local/state"

# Waits until the relay on $1 answers its health check and $2 (a log) contains $3.
wait_healthy() {
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$1/_relay/health" >"$work/health.json" 2>/dev/null; then
      grep -q '"ok":true' "$work/health.json" && grep -q "$3" "$2" && return 0
    fi
    sleep 0.5
  done
  return 1
}
stop_relay() { kill -- "-$relay_pid" 2>/dev/null || true; wait "$relay_pid" 2>/dev/null || true; relay_pid=; }

# --- 1. npx ./llm-relay-cli-<version>.tgz start, from an empty folder ----------------------------
port=$(free_port)
cp "$work/$tarball" "$work/empty/"
cd "$work/empty"
npm_config_yes=true setsid npx --prefer-offline "./$tarball" start --port "$port" >"$work/npx.log" 2>&1 &
relay_pid=$!
if ! wait_healthy "$port" "$work/npx.log" "embedded default"; then
  echo "pack-smoke: npx ./$tarball start did not become healthy"; cat "$work/npx.log"; exit 1
fi
echo "pack-smoke: npx ./$tarball start served /_relay/health on port $port with the embedded default"
stop_relay

# --- 2. a global install, and a .ts config using defineConfig from "llm-relay-cli" ----------------
prefix="$work/global"
npm install --silent --prefer-offline --no-audit --no-fund -g --prefix "$prefix" "./$tarball" >"$work/install.log" 2>&1 ||
  { echo "pack-smoke: npm install -g ./$tarball failed"; cat "$work/install.log"; exit 1; }
mkdir -p "$work/ts-project"
cd "$work/ts-project"
port=$(free_port)
cat >cfg.ts <<TS
import { defineConfig, type RelayConfig } from "llm-relay-cli";

const port: number = $port;
const routes: RelayConfig["routes"] = [{ path: "/v1/chat/completions", provider: "openai" }];
export default defineConfig({ port, routes, defaultProvider: "anthropic" });
TS
"$prefix/bin/llm-relay" config -c cfg.ts >"$work/config.log" 2>&1 ||
  { echo "pack-smoke: llm-relay config -c cfg.ts failed"; cat "$work/config.log"; exit 1; }
grep -q "127.0.0.1:$port" "$work/config.log" && grep -q "otherwise → anthropic" "$work/config.log" ||
  { echo "pack-smoke: config -c cfg.ts did not show the .ts config's settings"; cat "$work/config.log"; exit 1; }
echo "pack-smoke: global install: llm-relay config -c cfg.ts loaded the TypeScript config (port $port)"
setsid "$prefix/bin/llm-relay" start -c cfg.ts >"$work/start.log" 2>&1 &
relay_pid=$!
if ! wait_healthy "$port" "$work/start.log" "cfg.ts (--config)"; then
  echo "pack-smoke: llm-relay start -c cfg.ts did not become healthy"; cat "$work/start.log"; exit 1
fi
echo "pack-smoke: global install: llm-relay start -c cfg.ts served /_relay/health on port $port"
stop_relay
