package httpmcp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// cachedVerifier returns the same verified claims for one token: the cost
// of a verification-cache hit (the floor the real verifier's cache aims at).
type cachedVerifier struct {
	tok string
	c   *core.Claims
}

func (v cachedVerifier) Verify(_ context.Context, tok string) (*core.Claims, error) {
	if tok == v.tok {
		return v.c, nil
	}
	return nil, core.ErrSignature
}

const benchResource = "https://mcp.example.com/mcp"

// trivialMCP stands in for an MCP handler with negligible cost: it reads
// the body and writes a fixed JSON-RPC result.
var trivialMCP = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"ls done"}]}}`)
})

func benchGuard(b *testing.B, v core.TokenVerifier, a core.Authorizer) *core.Guard {
	g, err := core.New(core.Config{
		Resource:   benchResource,
		Verifier:   v,
		Authorizer: a,
		Metadata:   core.ProtectedResourceMetadata{AuthorizationServers: []string{"https://idp.example"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return g
}

func runBench(b *testing.B, h http.Handler, token string) {
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","arguments":{"path":"/tmp"}}}`
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", "application/json, text/event-stream")
		r.Header.Set("Mcp-Protocol-Version", "2025-11-25")
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkToolsCall measures a tools/call POST through a ServeMux, with
// and without the middleware, in the same run. Sub-benchmarks:
//
//	none:         the mux and the handler alone (baseline);
//	cached:       Guard with a cached-verification verifier and an
//	              allow-all authorizer (the hot-path overhead of the Guard);
//	cached-policy: same with the suite's policy (a small Go policy);
//	cached-casbin: same with casbinauthz (quickstart model, decision cache);
//	verifier:     core/verifier (ES256, JWKS from the coretest IdP) with its
//	              verified-token cache (the same token every iteration) plus
//	              the suite policy.
//
// The -sdk variants put the go-sdk streamable handler (stateless, JSON
// responses) behind the mux instead of a trivial handler.
func BenchmarkToolsCall(b *testing.B) {
	idp := coretest.NewIdP(b)
	jwt := idp.Token(benchResource, "alice", "mcp:tools")
	cached := cachedVerifier{tok: "tok", c: &core.Claims{Issuer: "https://idp.example", Subject: "alice",
		Scopes: []string{"mcp:tools"}, Expiry: time.Now().Add(time.Hour)}}
	sdkServer := coretest.NewSuiteServer(nil)
	sdk := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return sdkServer },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	for _, inner := range []struct {
		name string
		h    http.Handler
	}{{"", trivialMCP}, {"-sdk", sdk}} {
		b.Run("none"+inner.name, func(b *testing.B) {
			mux := http.NewServeMux()
			mux.Handle("/mcp", inner.h)
			runBench(b, mux, "tok")
		})
		for _, c := range []struct {
			name  string
			v     core.TokenVerifier
			a     core.Authorizer
			token string
		}{
			{"cached", cached, allowAll{}, "tok"},
			{"cached-policy", cached, coretest.SuitePolicy{}, "tok"},
			{"cached-casbin", cached, casbinAuthorizer(b), "tok"},
			{"verifier", idp.Verifier(b, benchResource), coretest.SuitePolicy{}, jwt},
		} {
			b.Run(c.name+inner.name, func(b *testing.B) {
				mux := http.NewServeMux()
				httpmcp.Register(mux, benchGuard(b, c.v, c.a), inner.h)
				runBench(b, mux, c.token)
			})
		}
	}
}
