package httpmcp_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// discardWriter is a minimal ResponseWriter: the benchmarks measure the
// middleware, not httptest.ResponseRecorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

type reusableBody struct{ bytes.Reader }

func (*reusableBody) Close() error { return nil }

// BenchmarkInterleaved is P3's shape for net/http: a tools/call POST
// through a ServeMux without and with the middleware (Register, so the
// go-sdk TokenInfo wrapper is included), and Guard.Check alone, run in
// alternating batches so that load on a shared machine hits them alike.
// The request is built once and reused, so that request construction does
// not drown the difference. Sub-benchmarks: "cached" (a verifier returning
// fixed claims, DefaultMapper, allow-all) and "verifier" (core/verifier,
// ES256, with its verified-token cache, and the suite policy).
func BenchmarkInterleaved(b *testing.B) {
	idp := coretest.NewIdP(b)
	cached := cachedVerifier{tok: "tok", c: &core.Claims{Issuer: "https://idp.example", Subject: "alice",
		Scopes: []string{"mcp:tools"}, Expiry: time.Now().Add(time.Hour)}}
	for _, c := range []struct {
		name  string
		v     core.TokenVerifier
		a     core.Authorizer
		token string
	}{
		{"cached", cached, allowAll{}, "tok"},
		{"verifier", idp.Verifier(b, benchResource), coretest.SuitePolicy{}, idp.Token(benchResource, "alice", "mcp:tools")},
	} {
		b.Run(c.name, func(b *testing.B) {
			interleave(b, func(b *testing.B) (bare, guarded, check func()) {
				g := benchGuard(b, c.v, c.a)
				bareMux := http.NewServeMux()
				bareMux.Handle("/mcp", trivialMCP)
				guardedMux := http.NewServeMux()
				httpmcp.Register(guardedMux, g, trivialMCP)
				body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","arguments":{"path":"/tmp"}}}`)
				serve := func(h http.Handler) func() {
					req, _ := http.NewRequest(http.MethodPost, "http://mcp.example.com/mcp", nil)
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Accept", "application/json, text/event-stream")
					req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
					req.Header.Set("Authorization", "Bearer "+c.token)
					req.ContentLength = int64(len(body))
					rb := &reusableBody{}
					w := &discardWriter{h: http.Header{}}
					f := func() {
						rb.Reset(body)
						req.Body = rb
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
				ctx := context.Background()
				hdr := http.Header{}
				hdr.Set("Content-Type", "application/json")
				hdr.Set("Accept", "application/json, text/event-stream")
				hdr.Set("Mcp-Protocol-Version", "2025-11-25")
				hdr.Set("Authorization", "Bearer "+c.token)
				check = func() {
					if _, err := g.Check(ctx, &core.Request{Method: http.MethodPost, Path: "/mcp", Header: hdr, Body: body}); err != nil {
						b.Fatal(err)
					}
				}
				return serve(bareMux), serve(guardedMux), check
			})
		})
	}
}

// interleave runs bare, guarded and check in alternating batches and
// reports per-request times and ratios as custom metrics; allocs/op is the
// sum over the three.
func interleave(b *testing.B, setup func(*testing.B) (bare, guarded, check func())) {
	bare, guarded, check := setup(b)
	const batch = 32
	var tb, tg, tc time.Duration
	n := 0
	run := func(f func()) time.Duration {
		t0 := time.Now()
		for range batch {
			f()
		}
		return time.Since(t0)
	}
	b.ReportAllocs()
	for b.Loop() {
		tb += run(bare)
		tg += run(guarded)
		tc += run(check)
		n += batch
	}
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(n) }
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(per(tb), "bare-ns/req")
	b.ReportMetric(per(tg), "guarded-ns/req")
	b.ReportMetric(per(tc), "core-ns/req")
	b.ReportMetric(per(tg-tb), "overhead-ns/req")
	b.ReportMetric(per(tg-tb-tc), "adapter-ns/req")
	b.ReportMetric(float64(tb)/float64(tg), "guarded/bare-throughput")
}
