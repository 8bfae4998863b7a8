#!/usr/bin/env bash
# Runs the project's benchmarks with -count 6 and summarises them with
# benchstat. Ratios are what matter: every suite measures its own baseline
# (raw signature verification, the bare framework, Casbin's Enforce) in the
# same run. Usage: scripts/bench.sh [out-dir] [package-filter-regexp]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/bench-results}"
filter="${2:-.}"
count="${BENCH_COUNT:-6}"
mkdir -p "$out"
command -v benchstat >/dev/null || go install golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
bench() { # module-dir package name
  local dir="$1" pkg="$2" name="$3"
  [[ "$name" =~ $filter ]] || return 0
  echo "== $name ($pkg)"
  (cd "$root/$dir" && go test -run '^$' -bench . -benchmem -count "$count" "$pkg") > "$out/$name.txt"
  benchstat "$out/$name.txt" | tee "$out/$name.benchstat.txt"
}
bench . ./internal/jose jose
bench . ./internal/b64 b64
bench . ./core/verifier verifier
bench . ./core/inspect inspect
bench bench . bench-thirdparty
bench . ./core/casbinauthz casbin
bench . ./core/mapper mapper
bench . ./adapters/nethttp nethttp
bench adapters/chi . chi
bench adapters/gin . gin
bench adapters/fiber . fiber
echo "results in $out"
