package coretest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// This file is the loopback throughput harness of issue 11 P7 (guarded ÷
// bare requests per second, with a trivial handler and with a go-sdk
// server), shared by every adapter's BenchmarkThroughput.

// LoopbackClient returns a function that sends one benchmark POST to url
// with token over a kept-alive loopback connection of client and marks b
// failed unless the answer is 200. It may be called concurrently.
func LoopbackClient(b testing.TB, client *http.Client, url, token string) func() {
	return func() {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(benchBody))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err) // not Fatal: the load generator calls it from its own goroutines
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("status %d", resp.StatusCode)
		}
	}
}

// ThroughputSlice is the duration of one slice of [Throughput] as
// [ThroughputHTTP] and [ThroughputURLs] run it. On the project's 2-core VM
// the spread of the quads' ratios does not shrink with longer slices (the
// standard deviation of the log ratio was 0.25, 0.22 and 0.23 per quad at
// 12, 25 and 100 ms slices, go-sdk server): the noise comes from load
// that varies over periods longer than a quad, which the ABBA order
// cancels only in part. So shorter slices give more quads, and a narrower
// interval for the median, in the same time: at 25 ms a quad takes 0.1 s,
// 800 quads 80 s, and the 95 % interval of the median is about ±0.02
// wide. Each slice still holds tens of go-sdk requests and hundreds of
// trivial ones. The price is the drain at the end of every slice (the
// requests under way finish and count; about one request's latency with
// fewer than all workers busy), which dilutes the difference between the
// sides by the drain's share of the slice, a few per cent of it.
const ThroughputSlice = 25 * time.Millisecond

// ThroughputWorkers is the number of concurrent kept-alive clients of
// [ThroughputHTTP] and [ThroughputURLs], on each side.
const ThroughputWorkers = 4

// throughputWarmup is the number of quads [Throughput] runs and discards
// before it measures (connections, caches, the heap reaching its
// steady-state size).
const throughputWarmup = 2

// Throughput is P7: the same Go load generator (workers concurrent
// goroutines, each calling bare or guarded in a closed loop) drives the
// bare and the guarded server, both running in this process, in short
// slices of equal duration, and it reports the guarded ÷ bare throughput
// ratio.
//
// What is measured is the same on both sides: the same request (BenchBody,
// the same token and headers), the same client code and number of
// connections, the same process and therefore the same GOGC (reported as
// the gogc metric; set it with the GOGC environment variable) and the same
// two cores. The load generator's own CPU is spent in this process on both
// sides alike: it is part of what each side's throughput pays, per request,
// identically.
//
// The statistics, for a noisy shared machine:
//
//   - Each benchmark iteration (b.Loop) is one quad of four slices in ABBA
//     order, bare-guarded-guarded-bare, and the next quad is
//     guarded-bare-bare-guarded. Within a quad both sides' slices have the
//     same mean time, so a load from other processes that rises or falls
//     linearly over the quad (about 4 × slice) changes both sides'
//     throughput by the same factor and cancels from the quad's ratio;
//     alternating the order also gives each side the first and the second
//     position equally often (whatever the previous slice leaves behind,
//     such as garbage or cold caches, is inherited alike).
//   - The quad's ratio is guarded ÷ bare of the requests per second over
//     its two slices each.
//   - throughputWarmup quads run first and are discarded.
//   - No collection is forced between slices: the heap is shared, and a
//     garbage collection triggers in whichever slice allocates past the
//     heap goal, so over many slices each side pays for collections in
//     proportion to what it allocates. (A forced collection before each
//     slice would collect the previous slice's garbage off the clock and
//     round each slice's number of collections down.)
//   - Reported: guarded/bare-median, the median of the quads' ratios (a
//     median, because a burst of load from elsewhere spoils a quad now and
//     then and the median ignores it); guarded/bare-lo95 and -hi95, a
//     distribution-free 95 % confidence interval for that median (the
//     order statistics of ranks k and n+1-k for n quads, k from the
//     binomial distribution with p = ½, as in the sign test; with fewer
//     than 6 quads it is the range); guarded/bare-min and -max, the range;
//     quads, n; bare-req/s and guarded-req/s, the medians of each side's
//     throughput over quads.
//   - cpu-equiv-median: the median over quads of (bare CPU seconds per
//     request) ÷ (guarded CPU seconds per request), the CPU of this
//     process (servers, load generator, collector) while each side ran.
//     That is the throughput ratio both sides would have with the same CPU
//     available. It moves less with the load of other processes than the
//     throughput ratio does, so when the two disagree, the machine was too
//     busy to trust the throughput ratio. cpu-equiv-lo95 and -hi95 are its
//     95 % interval, as above. Not reported where the process CPU time
//     cannot be read.
//
// Run it with a fixed number of quads, e.g. -benchtime 800x (about 80 s
// per sub-benchmark at ThroughputSlice).
func Throughput(b *testing.B, workers int, slice time.Duration, bare, guarded func()) {
	sides := [2]func(){bare, guarded}
	for i := range throughputWarmup {
		_ = runQuad(i, workers, slice, sides) // discarded
	}
	runtime.GC() // start the measured quads from the same heap, once
	load0 := loadAvg()
	var q quadRatios
	for b.Loop() {
		q.add(runQuad(q.n(), workers, slice, sides))
	}
	tp := summarize(q.tput)
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(tp.median, "guarded/bare-median")
	b.ReportMetric(tp.lo95, "guarded/bare-lo95")
	b.ReportMetric(tp.hi95, "guarded/bare-hi95")
	b.ReportMetric(tp.min, "guarded/bare-min")
	b.ReportMetric(tp.max, "guarded/bare-max")
	b.ReportMetric(float64(q.n()), "quads")
	b.ReportMetric(medianOf(q.bare), "bare-req/s")
	b.ReportMetric(medianOf(q.guarded), "guarded-req/s")
	if len(q.cpu) == q.n() && q.n() > 0 {
		c := summarize(q.cpu)
		b.ReportMetric(c.median, "cpu-equiv-median")
		b.ReportMetric(c.lo95, "cpu-equiv-lo95")
		b.ReportMetric(c.hi95, "cpu-equiv-hi95")
	}
	gogc := debug.SetGCPercent(-1) // reads the setting; restored at once
	debug.SetGCPercent(gogc)
	b.ReportMetric(float64(gogc), "gogc")
	b.Log(throughputLine(tp, q, gogc, load0, loadAvg()))
}

// throughputLine is the one readable line [Throughput] logs per run: the
// ratio's median, 95 % interval and range, the CPU-equivalent ratio, each
// side's median throughput, GOGC and the machine's load average (1, 5 and
// 15 minutes) before and after the measured quads, so that a run on a
// busy machine says so.
func throughputLine(tp ratioSummary, q quadRatios, gogc int, load0, load1 string) string {
	cpu := "cpu-equiv n/a"
	if len(q.cpu) == q.n() && q.n() > 0 {
		c := summarize(q.cpu)
		cpu = fmt.Sprintf("cpu-equiv %.3f [%.3f, %.3f]", c.median, c.lo95, c.hi95)
	}
	return fmt.Sprintf("guarded/bare %.3f [%.3f, %.3f] range %.3f-%.3f, %s, %d quads, bare %.0f req/s, guarded %.0f req/s, GOGC %d, load %s -> %s",
		tp.median, tp.lo95, tp.hi95, tp.min, tp.max, cpu, q.n(), medianOf(q.bare), medianOf(q.guarded), gogc, load0, load1)
}

// loadAvg returns the 1, 5 and 15 minute load averages of /proc/loadavg,
// or "n/a" where there is no such file.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "n/a"
}

// quadOrder is the order of the sides (0 bare, 1 guarded) in quad i:
// ABBA, then BAAB.
func quadOrder(i int) [4]int {
	if i%2 == 0 {
		return [4]int{0, 1, 1, 0}
	}
	return [4]int{1, 0, 0, 1}
}

// sliceResult is one slice: requests completed, wall time, process CPU
// time (negative when unknown).
type sliceResult struct {
	n    int64
	wall time.Duration
	cpu  time.Duration
}

// quadResult is the sum of each side's two slices of a quad.
type quadResult [2]sliceResult

// runQuad runs quad i: four slices in quadOrder(i).
func runQuad(i, workers int, slice time.Duration, sides [2]func()) quadResult {
	var q quadResult
	for _, s := range quadOrder(i) {
		r := runSlice(workers, slice, sides[s])
		q[s].n += r.n
		q[s].wall += r.wall
		if r.cpu < 0 || q[s].cpu < 0 {
			q[s].cpu = -1
		} else {
			q[s].cpu += r.cpu
		}
	}
	return q
}

// runSlice runs f in a closed loop on workers goroutines until slice has
// passed; the requests under way at the deadline finish and count, and
// the wall time runs until the last one has.
func runSlice(workers int, slice time.Duration, f func()) sliceResult {
	var wg sync.WaitGroup
	var done atomic.Int64
	cpu0 := processCPU()
	t0 := time.Now()
	deadline := t0.Add(slice)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := int64(0)
			for time.Now().Before(deadline) {
				f()
				n++
			}
			done.Add(n)
		}()
	}
	wg.Wait()
	r := sliceResult{n: done.Load(), wall: time.Since(t0), cpu: -1}
	if cpu0 >= 0 {
		if cpu1 := processCPU(); cpu1 >= 0 {
			r.cpu = cpu1 - cpu0
		}
	}
	return r
}

// quadRatios collects the per-quad figures of [Throughput].
type quadRatios struct {
	tput, cpu     []float64 // guarded ÷ bare throughput; bare ÷ guarded CPU per request
	bare, guarded []float64 // requests per second
}

func (q *quadRatios) n() int { return len(q.tput) }

func (q *quadRatios) add(r quadResult) {
	rate := func(s sliceResult) float64 { return float64(s.n) / max(s.wall.Seconds(), 1e-9) }
	rb, rg := rate(r[0]), rate(r[1])
	q.bare, q.guarded = append(q.bare, rb), append(q.guarded, rg)
	q.tput = append(q.tput, rg/max(rb, 1e-9))
	if r[0].cpu > 0 && r[1].cpu > 0 && r[0].n > 0 && r[1].n > 0 {
		perReq := func(s sliceResult) float64 { return s.cpu.Seconds() / float64(s.n) }
		q.cpu = append(q.cpu, perReq(r[0])/perReq(r[1]))
	}
}

// ratioSummary is the median of a sample with its distribution-free 95 %
// confidence interval and its range.
type ratioSummary struct{ median, lo95, hi95, min, max float64 }

// summarize computes v's median, the 95 % confidence interval of the
// median from order statistics (ranks k and n+1-k, k = medianCIRank(n);
// the range when n is too small for one) and the range.
func summarize(v []float64) ratioSummary {
	if len(v) == 0 {
		return ratioSummary{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	r := ratioSummary{median: medianOf(s), min: s[0], max: s[len(s)-1], lo95: s[0], hi95: s[len(s)-1]}
	if k := medianCIRank(len(s)); k > 0 {
		r.lo95, r.hi95 = s[k-1], s[len(s)-k]
	}
	return r
}

// medianCIRank is the largest k ≥ 1 with P(X < k) ≤ 0.025 for X ~
// Binomial(n, ½): the interval between the k-th smallest and the k-th
// largest of n independent observations then holds the population median
// with probability at least 95 %. It is 0 when no k qualifies (n < 6).
func medianCIRank(n int) int {
	k, cum := 0, 0.0
	for i := 0; i <= n; i++ {
		// P(X = i) = C(n, i) / 2^n, in logs so that large n does not underflow
		lc, _ := math.Lgamma(float64(n + 1))
		li, _ := math.Lgamma(float64(i + 1))
		lni, _ := math.Lgamma(float64(n - i + 1))
		cum += math.Exp(lc - li - lni - float64(n)*math.Ln2)
		if cum > 0.025 {
			break
		}
		k = i + 1 // P(X < i+1) = cum ≤ 0.025
	}
	return k
}

// medianOf returns the median of v (the mean of the two middle values when
// len(v) is even), 0 for an empty v.
func medianOf(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// BenchSDKHandler is a stateless, JSON-response go-sdk streamable handler
// whose server has the benchmark's tool: the "with a go-sdk server" side
// of P7.
func BenchSDKHandler() http.Handler {
	s := mcp.NewServer(&mcp.Implementation{Name: "bench", Version: "1.0.0"}, nil)
	s.AddTool(&mcp.Tool{Name: "t8", InputSchema: map[string]any{"type": "object"}},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil
		})
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
}

// ThroughputHTTP is [Throughput] over loopback servers of bare and
// guarded (net/http handlers), with ThroughputWorkers workers and
// ThroughputSlice slices.
func ThroughputHTTP(b *testing.B, e *BenchEnv, bare, guarded http.Handler) {
	ThroughputURLs(b, e, serveLoopback(b, bare), serveLoopback(b, guarded))
}

// ThroughputURLs is [Throughput] against two running servers (base URLs;
// the MCP endpoint is at /mcp), with ThroughputWorkers workers and
// ThroughputSlice slices. Both sides share one client (one transport, at
// most ThroughputWorkers kept-alive connections to each server).
func ThroughputURLs(b *testing.B, e *BenchEnv, bareURL, guardedURL string) {
	t := &http.Transport{MaxIdleConnsPerHost: ThroughputWorkers, DisableCompression: true}
	b.Cleanup(t.CloseIdleConnections)
	client := &http.Client{Transport: t}
	Throughput(b, ThroughputWorkers, ThroughputSlice, LoopbackClient(b, client, bareURL+"/mcp", e.Token),
		LoopbackClient(b, client, guardedURL+"/mcp", e.Token))
}

func serveLoopback(b *testing.B, h http.Handler) string {
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return srv.URL
}
