package chimcp_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"

	chimcp "github.com/mcpauthz/mcpauthz/adapters/chi"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/coretest"
)

const benchResource = "https://mcp.example.com/mcp"

var (
	benchBody  = []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"ls","arguments":{"path":"/srv/data/projects","recursive":true,"limit":100,"filter":"*.go"},"_meta":{"progressToken":"p-42"}}}`)
	benchReply = []byte(`{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"ok"}]}}`)
)

// benchGuard is a Guard with the real verifier (JWKS from a loopback IdP,
// verified-token cache on) and a cheap authorizer, plus a valid token that
// is already in the cache.
func benchGuard(b *testing.B) (*core.Guard, string) {
	b.Helper()
	idp := coretest.NewIdP(b)
	v, err := verifier.New(context.Background(), verifier.Config{
		Issuers:    []verifier.IssuerConfig{{Issuer: idp.Issuer(), JWKSURL: idp.JWKSURL()}},
		Audience:   []string{benchResource},
		HTTPClient: idp.HTTPClient(),
	})
	if err != nil {
		b.Fatal(err)
	}
	g, err := core.New(core.Config{
		Resource:   benchResource,
		Verifier:   v,
		Authorizer: coretest.SuitePolicy{},
		Metadata:   core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return g, idp.Token(benchResource, "alice", "mcp:tools")
}

// terminal is the MCP stand-in: it reads the body and answers.
func terminal(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(benchReply)
}

type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }

type reusableBody struct{ bytes.Reader }

func (*reusableBody) Close() error { return nil }

// benchSetup returns three functions serving one tools/call POST each:
// through chi without middleware, through chi with the middleware (same
// handler, same request, in-process), and core.Guard.Check alone.
func benchSetup(b *testing.B) (bare, guarded, check func()) {
	g, tok := benchGuard(b)
	bareRouter := chi.NewRouter()
	bareRouter.Post("/mcp", terminal)
	guardedRouter := chi.NewRouter()
	guardedRouter.With(chimcp.Middleware(g)).Post("/mcp", terminal)
	serve := func(h http.Handler) func() {
		req, _ := http.NewRequest(http.MethodPost, "http://mcp.example.com/mcp", nil)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+tok)
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
		if w.code != 0 && w.code != http.StatusOK { // 0: Write without WriteHeader means 200
			b.Fatalf("status %d", w.code)
		}
		return f
	}
	hdr := http.Header{}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Accept", "application/json, text/event-stream")
	hdr.Set("Authorization", "Bearer "+tok)
	ctx := context.Background()
	check = func() {
		if _, err := g.Check(ctx, &core.Request{Method: http.MethodPost, Path: "/mcp", Header: hdr, Body: benchBody}); err != nil {
			b.Fatal(err)
		}
	}
	return serve(bareRouter), serve(guardedRouter), check
}

// BenchmarkToolsCall measures the three variants of benchSetup one after
// the other; compare them with benchstat.
func BenchmarkToolsCall(b *testing.B) {
	bare, guarded, check := benchSetup(b)
	for _, bc := range []struct {
		name string
		f    func()
	}{{"bare", bare}, {"guarded", guarded}, {"core", check}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.f()
			}
		})
	}
}

// BenchmarkInterleaved runs the three variants in alternating batches, so
// that load on a shared machine hits them alike, and reports ns per request
// of each, the adapter's own share (guarded - bare - core) and the
// throughput ratio guarded/bare.
func BenchmarkInterleaved(b *testing.B) {
	interleave(b, benchSetup)
}
