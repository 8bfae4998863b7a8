package casbinauthz_test

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"testing"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestVerifiedTokenCacheMemory sends many distinct large tokens (150
// groups each) through a Guard with the caching verifier and casbinauthz,
// so that every cache entry also carries what the Guard and the authorizer
// derive from the token (the principal, its subjects, its decision-key
// prefix). The live heap they leave must stay within the cache's MaxBytes.
func TestVerifiedTokenCacheMemory(t *testing.T) {
	const (
		resource = "https://mcp.example.com/mcp"
		maxBytes = 4 << 20
		tokens   = 1500
	)
	idp := coretest.NewIdP(t)
	vcfg := idp.VerifierConfig(resource)
	vcfg.Cache = verifier.CacheConfig{MaxBytes: maxBytes, MaxEntries: 1 << 20}
	v, err := verifier.New(context.Background(), vcfg)
	if err != nil {
		t.Fatal(err)
	}
	model, err := casbinmodels.Model("rbac")
	if err != nil {
		t.Fatal(err)
	}
	a, err := casbinauthz.New(casbinauthz.Config{Model: model, CacheSize: -1, Source: casbinauthz.StringSource("p, group:group-name-000, tool:echo, call, allow\n")})
	if err != nil {
		t.Fatal(err)
	}
	g, err := core.New(core.Config{Resource: resource, Verifier: v, Authorizer: a,
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}}})
	if err != nil {
		t.Fatal(err)
	}
	groups := make([]any, 150)
	for i := range groups {
		groups[i] = fmt.Sprintf("group-name-%03d", i)
	}
	check := func(tok string) error {
		h := http.Header{}
		h.Set("Authorization", "Bearer "+tok)
		h.Set("Content-Type", "application/json")
		h.Set("Accept", "application/json, text/event-stream")
		_, err := g.Check(context.Background(), &core.Request{Method: http.MethodPost, Path: "/mcp", Header: h,
			Body: []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}`)})
		return err
	}
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	if err := check(idp.Mint(map[string]any{"sub": "warm", "aud": resource, "groups": groups})); err != nil {
		t.Fatal(err)
	}
	before := heap()
	for i := range tokens {
		tok := idp.Mint(map[string]any{"sub": fmt.Sprintf("user-%d", i), "aud": resource, "groups": groups})
		if i == 0 {
			t.Logf("token %d bytes", len(tok))
		}
		if err := check(tok); err != nil {
			t.Fatal(err)
		}
	}
	after := heap()
	grown := int64(after) - int64(before)
	t.Logf("live heap grew %d KiB for %d tokens; MaxBytes %d KiB", grown>>10, tokens, maxBytes>>10)
	if grown > maxBytes*5/4 {
		t.Fatalf("live heap grew %d KiB, more than MaxBytes %d KiB (+25%%)", grown>>10, maxBytes>>10)
	}
	runtime.KeepAlive(g)
}
