#!/usr/bin/env bash
# "mcpauthz proxy" in front of an MCP server written in another language:
# the official TypeScript SDK v1 server (interop/node/ts-server.mjs,
# stateful Streamable HTTP) behind the real mcpauthz binary, driven by the
# TypeScript SDK v1 client (interop/node/proxy-client.mjs): a filtered
# tools/list, an allowed call, a denied call, the forwarded principal with
# spoofed headers stripped, a progress notification streamed before the
# result, and a clean exit (status 0) on SIGTERM within 5 s while the
# client's GET event stream is open (drain deadline 30 s).
#
# Usage: interop/run-proxy.sh   (after "npm ci" in interop/node)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
tmp="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
waitfor() { # file pattern what
  for _ in $(seq 1 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  echo "interop proxy: $3 did not start" >&2; cat "$1" "$1.err" >&2 2>/dev/null || true; return 1
}

# The server, the signing key and the binary start side by side.
node "$here/node/ts-server.mjs" >"$tmp/ts.out" 2>"$tmp/ts.out.err" &
ts_pid=$!
pids+=($ts_pid)
node "$here/node/proxy-client.mjs" keys "$tmp/signer.json" >"$tmp/jwks.json" &
keys_pid=$!
(cd "$root" && go build -o "$tmp/mcpauthz" ./cmd/mcpauthz)
wait "$keys_pid"
jwks="$(cat "$tmp/jwks.json")"
waitfor "$tmp/ts.out" '^listening' "the TypeScript server"
upstream="$(awk '/^listening/{print $2}' "$tmp/ts.out")"

issuer="https://idp.interop.example"
resource="https://mcp.interop.example/mcp"
cat >"$tmp/policy.csv" <<'CSV'
p, *, server, connect, allow
p, *, *, list, allow
p, *, tool:echo, call, allow
p, *, tool:whoami, call, allow
p, *, tool:release, call, allow
p, group:engineering, tool:slow_progress, call, allow
CSV
cat >"$tmp/guard.yaml" <<YAML
resource: $resource
issuers:
  - issuer: $issuer
    jwks: '$jwks'
model: quickstart
policy:
  files: [policy.csv]
proxy:
  forward_principal: true
  shutdown_timeout: 30s
YAML
"$tmp/mcpauthz" proxy -config "$tmp/guard.yaml" -upstream "$upstream" -listen 127.0.0.1:0 >"$tmp/proxy.out" 2>"$tmp/proxy.out.err" &
proxy_pid=$!
pids+=($proxy_pid)
waitfor "$tmp/proxy.out" 'serving' "mcpauthz proxy"
url="$(awk '/serving/{print $4}' "$tmp/proxy.out")"
echo "mcpauthz proxy $url -> TypeScript SDK v1 server $upstream"

rc=0
# The client sends SIGTERM to the proxy itself, while connected.
timeout 60 node "$here/node/proxy-client.mjs" run "$url" "$tmp/signer.json" "$issuer" "$resource" "$proxy_pid" || rc=$?
proxy_rc=0
wait "$proxy_pid" || proxy_rc=$?
echo "mcpauthz proxy exit status after SIGTERM: $proxy_rc"
[ "$proxy_rc" -eq 0 ] || { echo "mcpauthz proxy did not exit cleanly" >&2; cat "$tmp/proxy.out.err" >&2; rc=1; }
grep -q 'GET event stream opened' "$tmp/ts.out.err" || { echo "the client never opened its GET event stream" >&2; rc=1; }
if grep -q 'deploy executed' "$tmp/ts.out.err"; then echo "the denied tool ran upstream" >&2; rc=1; fi
kill -TERM "$ts_pid" 2>/dev/null || true
[ "$rc" -eq 0 ] || { echo "--- proxy log" >&2; cat "$tmp/proxy.out.err" >&2; echo "--- server log" >&2; cat "$tmp/ts.out.err" >&2; }
exit "$rc"
