#!/usr/bin/env bash
# Soak test of session memory (issue 11 P8): the quickstart server on
# loopback, clients that create MCP sessions and abandon them (1 in 10 is
# ended with DELETE), access tokens rotating between five principals
# (two machine clients, three EMA users) and re-minted every ROTATE
# seconds. The server's RSS is sampled every SAMPLE seconds; the run fails
# if it ever exceeds LIMIT_MB.
#
# Usage: scripts/soak.sh [duration-seconds]     (default 600 = 10 minutes)
# Environment (all optional):
#   WORKERS=4            concurrent client loops
#   SESSION_TIMEOUT=15s  go-sdk SessionTimeout = Guard SessionTTL of the server
#   ROTATE=60            seconds between token refreshes
#   SAMPLE=5             seconds between RSS samples
#   LIMIT_MB=100         RSS ceiling
#   OUT=dir              where rss.csv and status counts go (default: a temp dir, kept)
# Needs go and jq (the load generator is scripts/soakload). Everything listens on 127.0.0.1; every loop is
# bounded by the deadline and every request by a 10 s timeout.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
duration="${1:-600}"
workers="${WORKERS:-4}"
session_timeout="${SESSION_TIMEOUT:-15s}"
rotate="${ROTATE:-60}"
sample="${SAMPLE:-5}"
limit_mb="${LIMIT_MB:-100}"
out="${OUT:-$(mktemp -d -t mcpauthz-soak-XXXXXX)}"
mkdir -p "$out"
for c in go jq; do command -v "$c" >/dev/null || { echo "soak: $c is required" >&2; exit 1; }; done

tmp="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

echo "== building the quickstart"
(cd "$root" && go build -o "$tmp/quickstart" ./examples/quickstart)
"$tmp/quickstart" serve -addr 127.0.0.1:0 -dir "$tmp" -q -session-timeout "$session_timeout" >"$tmp/serve.out" 2>"$tmp/serve.err" &
server=$!
pids+=("$server")
for _ in $(seq 1 100); do grep -q '^ready' "$tmp/serve.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$tmp/serve.out" || { echo "quickstart did not start" >&2; cat "$tmp/serve.err" >&2; exit 1; }
mcp="$(awk '/MCP server/{print $3}' "$tmp/serve.out")"
echo "server pid $server at $mcp; ${duration}s, $workers workers, session timeout $session_timeout, results in $out"

principals=("-client ci-bot" "-client ci-bot-jwt" "-user alice" "-user bob" "-user carol")
mint() { # index -> writes $tmp/token.N atomically
  local i="$1"
  # shellcheck disable=SC2086 # the principal is two words on purpose
  if "$tmp/quickstart" token -server "$mcp" ${principals[$i]} -key "$tmp/ci-bot-jwt.key.pem" >"$tmp/token.$i.new" 2>>"$tmp/token.err"; then
    mv "$tmp/token.$i.new" "$tmp/token.$i"
  fi
}
for i in "${!principals[@]}"; do mint "$i"; [ -s "$tmp/token.$i" ] || { echo "could not mint a token for ${principals[$i]}" >&2; cat "$tmp/token.err" >&2; exit 1; }; done

deadline=$(( $(date +%s) + duration ))
( while [ "$(date +%s)" -lt "$deadline" ]; do sleep "$rotate"; for i in "${!principals[@]}"; do mint "$i"; done; done ) &
pids+=($!)

(cd "$root" && go build -o "$tmp/soakload" ./scripts/soakload)
"$tmp/soakload" -mcp "$mcp" -tokens "$tmp" -principals "${#principals[@]}" -duration "${duration}s" -workers "$workers" >"$out/status.json" &
load=$!
pids+=("$load")

echo "t_seconds,rss_kb" >"$out/rss.csv"
start=$(date +%s)
peak=0
while [ "$(date +%s)" -lt "$deadline" ]; do
  rss="$(awk '/^VmRSS:/{print $2}' "/proc/$server/status")"
  echo "$(( $(date +%s) - start )),$rss" >>"$out/rss.csv"
  [ "$rss" -gt "$peak" ] && peak="$rss"
  sleep "$sample"
done
wait "$load" || { echo "soak: load generator failed" >&2; exit 1; }
rss="$(awk '/^VmRSS:/{print $2}' "/proc/$server/status")"
echo "$(( $(date +%s) - start )),$rss" >>"$out/rss.csv"
[ "$rss" -gt "$peak" ] && peak="$rss"

sessions="$(jq '."initialize 200" // 0' "$out/status.json")"
first="$(sed -n 2p "$out/rss.csv" | cut -d, -f2)"
half="$(awk -F, -v d="$duration" 'NR>1 && $1<d/2 {if($2>m)m=$2} END{print m+0}' "$out/rss.csv")"
second="$(awk -F, -v d="$duration" 'NR>1 && $1>=d/2 {if($2>m)m=$2} END{print m+0}' "$out/rss.csv")"
echo "== soak: ${duration}s, $sessions sessions created; HTTP status counts:"
jq -c . "$out/status.json"
echo "RSS: first ${first} kB, peak first half ${half} kB, peak second half ${second} kB, final ${rss} kB, peak ${peak} kB (limit ${limit_mb} MB)"
echo "samples: $out/rss.csv"
if [ "$peak" -gt $((limit_mb * 1024)) ]; then
  echo "soak: FAIL: RSS peak ${peak} kB above ${limit_mb} MB" >&2
  exit 1
fi
echo "soak: PASS"
