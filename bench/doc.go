// Package bench holds benchmarks whose baselines are third-party libraries
// (buger/jsonparser, ...). It is its own module so that the root go.mod
// never requires them. Run: cd bench && go test -run '^$' -bench . -count 6
package bench
