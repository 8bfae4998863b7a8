package coretest

import (
	"math/big"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// exactMedianCIRank is medianCIRank computed with exact rationals.
func exactMedianCIRank(n int) int {
	total := new(big.Int).Lsh(big.NewInt(1), uint(n))
	limit := new(big.Rat).SetFrac64(25, 1000)
	cum := new(big.Int)
	k := 0
	for i := 0; i <= n; i++ {
		cum.Add(cum, new(big.Int).Binomial(int64(n), int64(i)))
		if new(big.Rat).SetFrac(cum, total).Cmp(limit) > 0 {
			break
		}
		k = i + 1
	}
	return k
}

func TestMedianCIRank(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ n, k int }{{1, 0}, {5, 0}, {6, 1}, {10, 2}, {20, 6}, {40, 14}, {100, 40}} {
		if got := medianCIRank(c.n); got != c.k {
			t.Errorf("medianCIRank(%d) = %d, want %d", c.n, got, c.k)
		}
	}
	for _, n := range []int{2, 3, 7, 11, 17, 24, 33, 64, 80, 150, 200, 500} {
		if got, want := medianCIRank(n), exactMedianCIRank(n); got != want {
			t.Errorf("medianCIRank(%d) = %d, exact %d", n, got, want)
		}
	}
}

func TestSummarize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []float64
		want ratioSummary
	}{
		{"empty", nil, ratioSummary{}},
		{"odd, no CI", []float64{0.9, 1.1, 1.0}, ratioSummary{median: 1.0, lo95: 0.9, hi95: 1.1, min: 0.9, max: 1.1}},
		{"even, no CI", []float64{4, 1, 3, 2}, ratioSummary{median: 2.5, lo95: 1, hi95: 4, min: 1, max: 4}},
		// n = 10: ranks 2 and 9
		{"n=10", []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, ratioSummary{median: 5.5, lo95: 2, hi95: 9, min: 1, max: 10}},
	}
	for _, tc := range tests {
		if got := summarize(tc.in); got != tc.want {
			t.Errorf("%s: summarize = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestQuadOrder checks the ABBA schedule: in every quad both sides have
// two slices with the same mean position, and over two quads each side
// takes each position once.
func TestQuadOrder(t *testing.T) {
	t.Parallel()
	var first [2]int
	for i := range 8 {
		o := quadOrder(i)
		var count, pos [2]int
		for p, s := range o {
			count[s]++
			pos[s] += p
		}
		if count != [2]int{2, 2} || pos[0] != pos[1] {
			t.Errorf("quad %d: %v is not ABBA", i, o)
		}
		first[o[0]]++
	}
	if first[0] != first[1] {
		t.Errorf("first slices per side %v, want equal", first)
	}
}

// TestThroughputLoopback runs the harness briefly (10 ms slices, about a
// second) against two real loopback servers, the bare Terminal and the
// same behind Guard.Serve, and checks that it completes, that both sides
// were driven, and that the reported figures are consistent. It asserts
// nothing about speed.
func TestThroughputLoopback(t *testing.T) {
	t.Parallel()
	e := NewBenchEnv(t)
	var nb, ng atomic.Int64
	bareH := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { nb.Add(1); Terminal(w, r) })
	guardedH := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.Guard.Serve(w, r, func(w http.ResponseWriter, r *http.Request) { ng.Add(1); Terminal(w, r) })
	})
	res := testing.Benchmark(func(b *testing.B) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
		defer client.CloseIdleConnections()
		Throughput(b, 2, 10*time.Millisecond,
			LoopbackClient(b, client, serveLoopback(b, bareH)+"/mcp", e.Token),
			LoopbackClient(b, client, serveLoopback(b, guardedH)+"/mcp", e.Token))
	})
	if res.N == 0 {
		t.Fatal("the benchmark failed (a request was not answered 200)")
	}
	if nb.Load() == 0 || ng.Load() == 0 {
		t.Fatalf("requests: bare %d, guarded %d", nb.Load(), ng.Load())
	}
	x := res.Extra
	if x["quads"] < 1 || x["quads"] != float64(res.N) {
		t.Errorf("quads %v, N %d", x["quads"], res.N)
	}
	if !(x["guarded/bare-min"] <= x["guarded/bare-lo95"] && x["guarded/bare-lo95"] <= x["guarded/bare-median"] &&
		x["guarded/bare-median"] <= x["guarded/bare-hi95"] && x["guarded/bare-hi95"] <= x["guarded/bare-max"]) {
		t.Errorf("inconsistent ratios: %v", x)
	}
	if x["guarded/bare-min"] <= 0 || x["bare-req/s"] <= 0 || x["guarded-req/s"] <= 0 {
		t.Errorf("figures: %v", x)
	}
	if v, ok := x["cpu-equiv-median"]; processCPU() >= 0 && (!ok || v <= 0) {
		t.Errorf("cpu-equiv-median %v (reported %v)", v, ok)
	}
}

// BenchmarkThroughputNull is the harness's control: the same trivial
// server on both sides (two instances), so every deviation of the ratio
// from 1 is the harness's own noise or bias. On a loaded machine its
// 95 % interval should still contain 1.
//
//	go test -run XXX -bench ThroughputNull -benchtime 800x -count 2 ./coretest
func BenchmarkThroughputNull(b *testing.B) {
	for _, h := range []struct {
		name string
		h    http.Handler
	}{{"trivial", http.HandlerFunc(Terminal)}, {"sdk", BenchSDKHandler()}} {
		b.Run(h.name, func(b *testing.B) {
			e := &BenchEnv{Token: "unused"}
			ThroughputHTTP(b, e, h.h, h.h)
		})
	}
}

// TestThroughputLine: the logged summary carries every figure it names,
// and says when the CPU ratio or the load average is unknown.
func TestThroughputLine(t *testing.T) {
	t.Parallel()
	q := quadRatios{tput: []float64{0.9, 0.95, 1.0}, cpu: []float64{0.8, 0.85, 0.9}, bare: []float64{1000, 1100, 1200}, guarded: []float64{950, 1000, 1050}}
	got := throughputLine(summarize(q.tput), q, 100, "1.00 2.00 3.00", "4.00 5.00 6.00")
	want := "guarded/bare 0.950 [0.900, 1.000] range 0.900-1.000, cpu-equiv 0.850 [0.800, 0.900], 3 quads, bare 1100 req/s, guarded 1000 req/s, GOGC 100, load 1.00 2.00 3.00 -> 4.00 5.00 6.00"
	if got != want {
		t.Errorf("line\n%s\nwant\n%s", got, want)
	}
	q.cpu = q.cpu[:1]
	if got := throughputLine(summarize(q.tput), q, 50, "n/a", "n/a"); !strings.Contains(got, "cpu-equiv n/a") || !strings.Contains(got, "GOGC 50, load n/a -> n/a") {
		t.Errorf("line %s", got)
	}
	if l := loadAvg(); l != "n/a" && len(strings.Fields(l)) != 3 {
		t.Errorf("loadAvg() = %q", l)
	}
}
