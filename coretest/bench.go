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
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/core/verifier"
)

// This file holds the benchmark helpers every adapter shares (issue 11 P3
// and P7): one realistic Guard and the in-process hot-path comparison,
// interleaved so that load on a shared machine hits both sides alike. The
// loopback throughput comparison (P7) is in throughput.go.

// BenchResource is the resource URL of [NewBenchEnv]'s Guard.
const BenchResource = "https://mcp.example.com/mcp"

// benchBody is the tools/call request body the benchmarks send (~200 B).
var benchBody = []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"t8","arguments":{"path":"/srv/data/projects","recursive":true,"limit":100,"filter":"*.go"},"_meta":{"progressToken":"p-42"}}}`)

// benchReply is what [Terminal] answers.
var benchReply = []byte(`{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"ok"}]}}`)

// BenchBody returns a copy of the tools/call request body the benchmarks
// send (~200 B). Call it once, outside the measured loop.
func BenchBody() []byte { return bytes.Clone(benchBody) }

// BenchReply returns a copy of what [Terminal] answers. Call it once, outside
// the measured loop.
func BenchReply() []byte { return bytes.Clone(benchReply) }

// Terminal is the trivial MCP stand-in of the benchmarks: it reads the body
// and answers [BenchReply].
func Terminal(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(benchReply)
}

// BenchEnv is the P3 configuration: the real verifier with its
// verified-token cache (RS256 key from a loopback IdP), strict inspection,
// and casbinauthz (rbac model, 200 tool rules and one that lets everyone
// initialize a session, decision cache on) deciding for a user in 10
// groups.
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
	pol.WriteString("p, *, server, connect, allow\n") // initialize, for sessions
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
	if _, err := g.Check(context.Background(), &core.Request{Method: http.MethodPost, Header: e.Header(), Body: benchBody}); err != nil {
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
		if _, err := e.Guard.Check(ctx, &core.Request{Method: http.MethodPost, Path: "/mcp", Header: h, Body: benchBody}); err != nil {
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
	req.ContentLength = int64(len(benchBody))
	body := &reusableBody{}
	w := &discardWriter{h: http.Header{}}
	f := func() {
		body.Reset(benchBody)
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

// Mount builds the two servers of an adapter benchmark: the framework alone
// routing POST /mcp to h (bare), and the same with the adapter over g in
// front of h (guarded).
type Mount func(g *core.Guard, h http.Handler) (bare, guarded http.Handler)

// BenchHotPath is P3 for an adapter that serves as an http.Handler:
// [HotPath] of mount's servers around [Terminal], in-process.
func BenchHotPath(b *testing.B, mount Mount) {
	e := NewBenchEnv(b)
	bare, guarded := mount(e.Guard, http.HandlerFunc(Terminal))
	HotPath(b, e, e.ServeInProcess(b, bare), e.ServeInProcess(b, guarded))
}

// BenchThroughput is P7 for an adapter that serves as an http.Handler:
// [ThroughputHTTP] of mount's servers over loopback, with the trivial
// handler (sub-benchmark "trivial") and with a go-sdk server ("sdk").
// It reports the median over quads of guarded ÷ bare requests per second
// (guarded/bare-median), its distribution-free 95 % interval (-lo95,
// -hi95), the range (-min, -max) and the same for the CPU spent per
// request (cpu-equiv-*). Each quad is four ThroughputSlice slices in ABBA order,
// after two discarded warm-up quads; both sides use the same client, 4
// connections, request, token and GOGC. [Throughput] explains the
// statistics. Run it with a fixed number of quads:
//
//	go test -run XXX -bench Throughput -benchtime 800x -count 2 .
func BenchThroughput(b *testing.B, mount Mount) {
	e := NewBenchEnv(b)
	for _, inner := range []struct {
		name string
		h    http.Handler
	}{{"trivial", http.HandlerFunc(Terminal)}, {"sdk", BenchSDKHandler()}} {
		b.Run(inner.name, func(b *testing.B) {
			bare, guarded := mount(e.Guard, inner.h)
			ThroughputHTTP(b, e, bare, guarded)
		})
	}
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
