package core

import (
	"context"
	"net/http"
	"testing"
	"time"
)

type fixedClaims struct{ c *Claims }

func (f fixedClaims) Verify(context.Context, string) (*Claims, error) { return f.c, nil }

type allowAll struct{}

func (allowAll) Authorize(context.Context, *Principal, Permission) (Decision, error) {
	return Decision{Allow: true}, nil
}

// BenchmarkCheck is the Guard's own hot path for a tools/call with a
// verification-cache hit (fixedClaims) and a trivial authorizer: bearer
// extraction, mapping, strict inspection and one decision. Compare with
// the inspection-only cost in core/inspect benchmarks.
func BenchmarkCheck(b *testing.B) {
	g := newGuard(b, func(c *Config) {
		c.Verifier = fixedClaims{&Claims{Issuer: "https://idp.example", Subject: "alice", Scopes: []string{"mcp:tools"}, Expiry: time.Now().Add(time.Hour)}}
		c.Authorizer = allowAll{}
		c.Now = nil
	})
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","arguments":{"path":"/tmp"}}}`)
	h := http.Header{}
	h.Set("Authorization", "Bearer eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln")
	h.Set("Content-Type", "application/json")
	h.Set("Mcp-Protocol-Version", "2025-11-25")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := g.Check(ctx, &Request{Method: http.MethodPost, Path: "/mcp", Header: h, Body: body}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderNoToken is the cost of the most common refusal.
func BenchmarkRenderNoToken(b *testing.B) {
	g := newGuard(b)
	ctx := context.Background()
	h := http.Header{}
	b.ReportAllocs()
	for b.Loop() {
		_, err := g.Check(ctx, &Request{Method: http.MethodPost, Header: h})
		_ = g.Render(err)
	}
}
