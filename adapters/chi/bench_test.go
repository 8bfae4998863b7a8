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

// BenchmarkToolsCall compares one tools/call POST through chi without and
// with the middleware (same handler, same request, in-process).
func BenchmarkToolsCall(b *testing.B) {
	g, tok := benchGuard(b)
	bare := chi.NewRouter()
	bare.Post("/mcp", terminal)
	guarded := chi.NewRouter()
	guarded.With(chimcp.Middleware(g)).Post("/mcp", terminal)
	for _, bc := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"guarded", guarded}} {
		b.Run(bc.name, func(b *testing.B) {
			req, _ := http.NewRequest(http.MethodPost, "http://mcp.example.com/mcp", nil)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			req.Header.Set("Authorization", "Bearer "+tok)
			req.ContentLength = int64(len(benchBody))
			body := &reusableBody{}
			w := &discardWriter{h: http.Header{}}
			serve := func() {
				body.Reset(benchBody)
				req.Body = body
				clear(w.h)
				w.code = 0
				bc.h.ServeHTTP(w, req)
			}
			serve()
			if w.code != 0 && w.code != http.StatusOK {
				b.Fatalf("status %d", w.code)
			}
			b.ReportAllocs()
			for b.Loop() {
				serve()
			}
		})
	}
	// core alone: what the Guard costs without any framework, so that the
	// adapter's own share is guarded - bare - core.
	b.Run("core", func(b *testing.B) {
		hdr := http.Header{}
		hdr.Set("Content-Type", "application/json")
		hdr.Set("Accept", "application/json, text/event-stream")
		hdr.Set("Authorization", "Bearer "+tok)
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := g.Check(ctx, &core.Request{Method: http.MethodPost, Path: "/mcp", Header: hdr, Body: benchBody}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
