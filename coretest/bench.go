package coretest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/core/verifier"
)

// This file holds the benchmark helpers every adapter shares (issue 11 P3
// and P7): one realistic Guard, the in-process hot-path comparison and the
// loopback throughput comparison, both interleaved so that load on a
// shared machine hits both sides alike.

// BenchResource is the resource URL of [NewBenchEnv]'s Guard.
const BenchResource = "https://mcp.example.com/mcp"

// BenchBody is the tools/call request body the benchmarks send (~200 B).
var BenchBody = []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"t8","arguments":{"path":"/srv/data/projects","recursive":true,"limit":100,"filter":"*.go"},"_meta":{"progressToken":"p-42"}}}`)

// BenchReply is what [Terminal] answers.
var BenchReply = []byte(`{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"ok"}]}}`)

// Terminal is the trivial MCP stand-in of the benchmarks: it reads the body
// and answers BenchReply.
func Terminal(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(BenchReply)
}

// BenchEnv is the P3 configuration: the real verifier with its
// verified-token cache (RS256 key from a loopback IdP), strict inspection,
// and casbinauthz (rbac model, 200 rules, decision cache on) deciding for a
// user in 10 groups.
type BenchEnv struct {
	Guard *core.Guard
	Token string // valid RS256 token, already in the verifier's cache
	IdP   *IdP
}

// NewBenchEnv builds the P3 configuration and warms the caches with one
// request.
func NewBenchEnv(b testing.TB) *BenchEnv {
	b.Helper()
	idp := NewIdP(b)
	v, err := verifier.New(context.Background(), verifier.Config{
		Issuers:    []verifier.IssuerConfig{{Issuer: idp.Issuer(), JWKSURL: idp.JWKSURL()}},
		Audience:   []string{BenchResource},
		HTTPClient: idp.HTTPClient(),
	})
	if err != nil {
		b.Fatal(err)
	}
	model, err := casbinmodels.Model("rbac")
	if err != nil {
		b.Fatal(err)
	}
	var pol strings.Builder
	for i := range 200 {
		fmt.Fprintf(&pol, "p, group:g%d, tool:t%d, call, allow\n", i%20, i)
	}
	a, err := casbinauthz.New(casbinauthz.Config{Model: model, Source: casbinauthz.StringSource(pol.String())})
	if err != nil {
		b.Fatal(err)
	}
	g, err := core.New(core.Config{
		Resource:   BenchResource,
		Verifier:   v,
		Authorizer: a,
		Metadata:   core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}},
	})
	if err != nil {
		b.Fatal(err)
	}
	groups := make([]any, 10)
	for i := range groups {
		groups[i] = fmt.Sprintf("g%d", i)
	}
	claims := userClaims(BenchResource, "alice", []string{"mcp:tools"})
	claims["groups"] = groups
	e := &BenchEnv{Guard: g, IdP: idp, Token: idp.Mint(claims, WithAlg("RS256"))}
	if _, err := g.Check(context.Background(), &core.Request{Method: http.MethodPost, Header: e.Header(), Body: BenchBody}); err != nil {
		b.Fatalf("bench env: warm-up request refused: %v", err)
	}
	return e
}

// Header is the request header of a benchmark request.
func (e *BenchEnv) Header() http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json, text/event-stream")
	h.Set("Authorization", "Bearer "+e.Token)
	return h
}

// Check is Guard.Check alone on the benchmark request.
func (e *BenchEnv) Check(b testing.TB) func() {
	h, ctx := e.Header(), context.Background()
	return func() {
		if _, err := e.Guard.Check(ctx, &core.Request{Method: http.MethodPost, Path: "/mcp", Header: h, Body: BenchBody}); err != nil {
			b.Fatal(err)
		}
	}
}

// RawRS256 returns one raw RS256 verification of the benchmark token with
// the standard library (signature decode, SHA-256, RSA PKCS#1 v1.5): the
// unit of P3.
func (e *BenchEnv) RawRS256(b testing.TB) func() {
	pub := e.IdP.Signer("RS256").Public().(*rsa.PublicKey)
	i := strings.LastIndexByte(e.Token, '.')
	input, sig64 := e.Token[:i], e.Token[i+1:]
	return func() {
		sig, err := base64.RawURLEncoding.DecodeString(sig64)
		if err != nil {
			b.Fatal(err)
		}
		sum := sha256.Sum256([]byte(input))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}

// discardWriter is a reusable http.ResponseWriter for in-process serving.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

type reusableBody struct{ bytes.Reader }

func (*reusableBody) Close() error { return nil }

// ServeInProcess returns a function that serves the benchmark request to h
// in-process (no network), reusing the request and writer, so that only
// the framework's and the Guard's own costs remain. It fails b unless h
// answers 200.
func (e *BenchEnv) ServeInProcess(b testing.TB, h http.Handler) func() {
	req, _ := http.NewRequest(http.MethodPost, "http://mcp.example.com/mcp", nil)
	req.Header = e.Header()
	req.ContentLength = int64(len(BenchBody))
	body := &reusableBody{}
	w := &discardWriter{h: http.Header{}}
	f := func() {
		body.Reset(BenchBody)
		req.Body = body
		clear(w.h)
		w.code = 0
		h.ServeHTTP(w, req)
	}
	f()
	if w.code != 0 && w.code != http.StatusOK {
		b.Fatalf("status %d", w.code)
	}
	return f
}

// HotPath is P3: it runs bare (the framework and Terminal alone), guarded
// (the same with the adapter) and the raw RS256 verification in
// interleaved batches and reports ns per request of each, the Guard's
// overhead (guarded - bare), the overhead in units of one RS256
// verification (target ≤ 0.05) and the allocations guarded adds (target
// ≤ 8).
func HotPath(b *testing.B, e *BenchEnv, bare, guarded func()) {
	raw := e.RawRS256(b)
	extra := testing.AllocsPerRun(200, guarded) - testing.AllocsPerRun(200, bare)
	times := interleave(b, bare, guarded, raw)
	tb, tg, tr := times[0], times[1], times[2]
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(tb, "bare-ns/req")
	b.ReportMetric(tg, "guarded-ns/req")
	b.ReportMetric(tr, "rs256-ns")
	b.ReportMetric(tg-tb, "overhead-ns/req")
	b.ReportMetric((tg-tb)/tr, "overhead/rs256")
	b.ReportMetric(extra, "extra-allocs/req")
}

// interleave runs fs in alternating batches inside b.Loop and returns the
// mean ns per call of each.
func interleave(b *testing.B, fs ...func()) []float64 {
	const batch = 32
	total := make([]time.Duration, len(fs))
	n := 0
	for b.Loop() {
		for i, f := range fs {
			t0 := time.Now()
			for range batch {
				f()
			}
			total[i] += time.Since(t0)
		}
		n += batch
	}
	out := make([]float64, len(fs))
	for i, d := range total {
		out[i] = float64(d.Nanoseconds()) / float64(max(n, 1))
	}
	return out
}

// LoopbackClient returns a function that sends one benchmark POST to url
// with token over a kept-alive loopback connection of client and marks b
// failed unless the answer is 200. It may be called concurrently.
func LoopbackClient(b testing.TB, client *http.Client, url, token string) func() {
	return func() {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(BenchBody))
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

// Throughput is P7: a Go load generator with workers concurrent kept-alive
// clients sends requests to bare and guarded in alternating rounds of the
// same duration (one round each per b.Loop iteration, the order swapped
// every round) and reports the median, minimum and maximum over rounds of
// the throughput ratio guarded ÷ bare, and the median requests per second
// of each side. Both sides run in this process, so they share one GOGC
// (reported as the gogc metric; set it with the GOGC environment
// variable); every round starts right after a forced collection, so that
// garbage left by the previous round (of the other side) is not collected
// on this round's time.
func Throughput(b *testing.B, workers int, round time.Duration, bare, guarded func()) {
	run := func(f func()) float64 {
		runtime.GC()
		var wg sync.WaitGroup
		var done atomic.Int64
		t0 := time.Now()
		deadline := t0.Add(round)
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
		return float64(done.Load()) / time.Since(t0).Seconds()
	}
	run(bare) // warm up connections and caches on both sides
	run(guarded)
	var ratios, rb, rg []float64
	for b.Loop() {
		var qb, qg float64
		if len(ratios)%2 == 0 {
			qb, qg = run(bare), run(guarded)
		} else {
			qg, qb = run(guarded), run(bare)
		}
		rb, rg, ratios = append(rb, qb), append(rg, qg), append(ratios, qg/qb)
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(median(ratios), "guarded/bare-median")
	b.ReportMetric(slices.Min(ratios), "guarded/bare-min")
	b.ReportMetric(slices.Max(ratios), "guarded/bare-max")
	b.ReportMetric(median(rb), "bare-req/s")
	b.ReportMetric(median(rg), "guarded-req/s")
	gogc := debug.SetGCPercent(-1) // reads the setting; restored at once
	debug.SetGCPercent(gogc)
	b.ReportMetric(float64(gogc), "gogc")
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
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

// ThroughputRound is the duration of one round of [ThroughputHTTP] and
// [ThroughputURLs]: long enough for thousands of requests per round with
// the trivial handler and hundreds with the go-sdk server, so scheduler
// noise averages out inside a round.
const ThroughputRound = 250 * time.Millisecond

// ThroughputHTTP is [Throughput] over loopback servers of bare and
// guarded (net/http handlers), with 4 workers and ThroughputRound rounds.
func ThroughputHTTP(b *testing.B, e *BenchEnv, bare, guarded http.Handler) {
	ThroughputURLs(b, e, serveLoopback(b, bare), serveLoopback(b, guarded))
}

// ThroughputURLs is [Throughput] against two running servers (base URLs;
// the MCP endpoint is at /mcp), with 4 workers and ThroughputRound rounds.
func ThroughputURLs(b *testing.B, e *BenchEnv, bareURL, guardedURL string) {
	const workers = 4
	client := func() *http.Client {
		t := &http.Transport{MaxIdleConnsPerHost: workers, DisableCompression: true}
		b.Cleanup(t.CloseIdleConnections)
		return &http.Client{Transport: t}
	}
	Throughput(b, workers, ThroughputRound, LoopbackClient(b, client(), bareURL+"/mcp", e.Token),
		LoopbackClient(b, client(), guardedURL+"/mcp", e.Token))
}

func serveLoopback(b *testing.B, h http.Handler) string {
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	return srv.URL
}
