#!/usr/bin/env bash
# The mcpauthz interop suite: real third-party software against this project.
#   1. oidc-provider (a certified OpenID provider) as an authorization server
#      and as the enterprise IdP issuing ID-JAGs  -> go test ./interop/oidcprovider
#   2. the official TypeScript MCP SDK clients (v2 and v1) against the
#      quickstart server                                 -> interop/node/ts-client.mjs
#      and the v2 client's OAuth provider (authorization code + PKCE) with a
#      real Chromium as the user's browser               -> interop/node/ts-authcode.mjs
#   3. the official MCP conformance suite's client scenarios for our Go client
#                                                        -> interop/run-conformance.sh
#   4. the official MCP conformance suite's SERVER scenarios against the
#      go-sdk conformance server, bare and behind the Guard (stateful,
#      stateless, stateless 2026-07-28): identical scores check by check
#                                                        -> go test ./interop/conformanceparity
#   5. the conformance suite's authorization-server scenarios against the
#      quickstart's AS (authorization code via the broker) -> interop/run-as-conformance.sh
#   6. the TypeScript SDK v1 server behind "mcpauthz proxy", driven by the
#      TypeScript SDK v1 client                          -> interop/run-proxy.sh
# Every step must run; a missing prerequisite is a failure, never a skip.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export MCPAUTHZ_INTEROP=1
tmp="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

command -v node >/dev/null || { echo "interop: node is required" >&2; exit 1; }
echo "== interop: npm ci (interop/node)"
(cd interop/node && npm ci --no-audit --no-fund --loglevel=error)

echo "== interop 1: oidc-provider as authorization server and as enterprise IdP"
go test -race -count=1 -v -run . ./interop/oidcprovider/ 2>&1 | tee "$tmp/op.log" | grep -E '^(=== RUN|--- |PASS|FAIL|ok|\s+\S+_test.go)' || true
grep -q '^ok' "$tmp/op.log" || { echo "interop 1 failed" >&2; cat "$tmp/op.log" >&2; exit 1; }

echo "== interop 2: TypeScript MCP SDK clients against the quickstart server"
go build -o "$tmp/quickstart" ./examples/quickstart
"$tmp/quickstart" serve -addr 127.0.0.1:0 -dir "$tmp" -q >"$tmp/serve.out" 2>"$tmp/serve.err" &
pids+=($!)
for _ in $(seq 1 100); do grep -q '^ready' "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$tmp/serve.out" || { echo "quickstart serve did not start" >&2; cat "$tmp/serve.err" >&2; exit 1; }
mcp="$(awk '/MCP server/{print $3}' "$tmp/serve.out")"
base="${mcp%/mcp}"
key="$tmp/ci-bot-jwt.key.pem"
ctx() { # client_id secret allowed denied [extra jq args]
  jq -nc --arg base "$base" --arg id "$1" --arg secret "$2" --arg ok "$3" --arg no "$4" --rawfile key "$key" \
    '{client_id:$id, client_secret:$secret, private_key_pem:$key, alg:"ES256", as_issuer:($base+"/as"),
      idp_issuer:($base+"/idp"), idp_client_id:"quickstart-agent", idp_client_secret:"quickstart-agent-secret",
      user:"alice", password:"demo-password", allowed_tool:$ok, denied_tool:$no}'
}
passed=0; failed=0
runts() { # mode context
  if MCPAUTHZ_TS_CONTEXT="$2" timeout 90 node interop/node/ts-client.mjs "$1" "$mcp"; then passed=$((passed+1)); else failed=$((failed+1)); fi
}
runts v2-ema "$(ctx quickstart-agent quickstart-agent-secret echo delete_repo)"
runts v2-cc  "$(ctx ci-bot ci-bot-demo-secret echo list_tickets)"
runts v2-jwt "$(ctx ci-bot-jwt '' echo list_tickets)"
runts v1-cc  "$(ctx ci-bot ci-bot-demo-secret echo list_tickets)"
runts v1-jwt "$(ctx ci-bot-jwt '' echo list_tickets)"
# TS SDK v2's OAuth provider, authorization code + PKCE through the broker,
# with a real headless Chromium (interop/browser's browser-login) as dave's browser.
(cd interop/browser && go build -o "$tmp/browser-login" ./cmd/browser-login)
# Once with the pre-registered public client, once registering itself (RFC 7591).
for reg in preregistered dynamic; do
  authctx="$(jq -nc --arg b "$tmp/browser-login" --arg iss "$base/as" --arg reg "$reg" \
    '{browser_login:$b, as_issuer:$iss, user:"dave", client_id:"mcp-client", registration:$reg,
      expected_tools:["delete_repo","deploy","echo","list_tickets"], allowed_tool:"delete_repo", denied_tool:"drop_database"}')"
  if MCPAUTHZ_TS_CONTEXT="$authctx" timeout 120 node interop/node/ts-authcode.mjs "$mcp"; then passed=$((passed+1)); else failed=$((failed+1)); fi
done
echo "interop 2 (TypeScript SDK clients): $passed passed, $failed failed"
[ "$failed" -eq 0 ] || exit 1

echo "== interop 3: MCP conformance client scenarios (our Go client)"
bash interop/run-conformance.sh

echo "== interop 4: conformance server suite, bare vs behind the Guard (parity)"
go test -count=1 -v -run . ./interop/conformanceparity/ 2>&1 | tee "$tmp/parity.log" | grep -E '^(=== RUN|--- |PASS|FAIL|ok)|Total:|differs|scenarios,' || true
grep -q '^ok' "$tmp/parity.log" || { echo "interop 4 failed" >&2; cat "$tmp/parity.log" >&2; exit 1; }

echo "== interop 5: MCP conformance authorization-server scenarios (quickstart AS, broker)"
bash interop/run-as-conformance.sh

echo "== interop 6: TypeScript SDK v1 server behind mcpauthz proxy"
bash interop/run-proxy.sh

echo "interop: all suites passed"
