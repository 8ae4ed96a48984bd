#!/usr/bin/env bash
# Proves the package is publishable: `npm pack` holds the build, and `npx <tarball> start` serves
# from an empty folder with no config (the embedded default). The tarball is named by a relative
# path: npx runs an absolute path as a command instead of installing it.
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
# npx runs the relay as a child of its own: start it in a session of its own and end the whole group.
trap '[ -n "${relay_pid:-}" ] && kill -- "-$relay_pid" 2>/dev/null; rm -rf "$work"' EXIT

tarball=$(npm pack --silent --pack-destination "$work" | tail -n 1)
tar -tzf "$work/$tarball" >"$work/files.txt"
grep -q "package/dist/cli/main.js" "$work/files.txt" || { echo "pack-smoke: dist/ missing from $tarball"; exit 1; }

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
mkdir -p "$work/empty" "$work/home"
cd "$work/empty"
HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" npm_config_yes=true \
  setsid npx --prefer-offline "../$tarball" start --port "$port" >"$work/out.log" 2>&1 &
relay_pid=$!

for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/_relay/health" >"$work/health.json" 2>/dev/null; then
    grep -q '"ok":true' "$work/health.json" && grep -q "embedded default" "$work/out.log" && {
      echo "pack-smoke: npx $tarball start served /_relay/health on port $port with the embedded default"
      exit 0
    }
  fi
  sleep 0.5
done
echo "pack-smoke: relay from $tarball did not become healthy"; cat "$work/out.log"; exit 1
