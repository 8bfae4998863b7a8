package httpmcp_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// TestJWKSDownAtStartup is security-test-plan §6 / K03 end to end: with the
// key set unreachable the middleware answers 503 with Retry-After and no
// challenge (clients keep their good token), the handler never runs, and
// service recovers without a restart once the keys are back.
func TestJWKSDownAtStartup(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	idp := coretest.NewIdP(t, coretest.WithClock(clock))
	idp.SetJWKSDown(true)
	const resource = "https://mcp.example.com/mcp"
	g, err := core.New(core.Config{
		Resource:   resource,
		Verifier:   idp.Verifier(t, resource),
		Authorizer: coretest.SuitePolicy{},
		Metadata:   core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}},
		Now:        clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	h := httpmcp.Middleware(g)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { calls++ }))
	tok := idp.Token(resource, "alice")
	serve := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, newPost("/mcp", tok, callLS))
		return rec
	}
	rec := serve()
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || rec.Header().Get("WWW-Authenticate") != "" {
		t.Fatalf("JWKS down: %d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	if calls != 0 {
		t.Fatal("handler ran while keys were unavailable")
	}
	idp.SetJWKSDown(false)
	mu.Lock()
	now = now.Add(time.Minute) // past the verifier's refresh cooldown
	mu.Unlock()
	if rec := serve(); rec.Code != http.StatusOK || calls != 1 {
		t.Fatalf("after recovery: %d %s (calls %d)", rec.Code, rec.Body, calls)
	}
}
