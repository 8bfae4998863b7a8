package core_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/coretest"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

const readyResource = "https://mcp.example.com/mcp"

func allowAll(context.Context, *core.Principal, core.Permission) (core.Decision, error) {
	return core.Decision{Allow: true}, nil
}

type authorizerFunc func(context.Context, *core.Principal, core.Permission) (core.Decision, error)

func (f authorizerFunc) Authorize(ctx context.Context, p *core.Principal, perm core.Permission) (core.Decision, error) {
	return f(ctx, p, perm)
}

func probe(t *testing.T, h http.Handler) (int, string) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	return w.Code, w.Body.String()
}

// Before readiness existed, a pod whose IdP key set could not be fetched
// reported ready while every call answered 503. Now the readiness probe
// fails for exactly as long as calls do, and liveness stays up.
func TestNotReadyWhileEveryCallAnswers503(t *testing.T) {
	clk := testkit.NewClock(time.Now())
	idp := coretest.NewIdP(t, coretest.WithClock(clk.Now))
	idp.SetJWKSDown(true)
	vcfg := idp.VerifierConfig(readyResource)
	v, err := verifier.New(context.Background(), vcfg)
	if err != nil {
		t.Fatal(err)
	}
	g, err := core.New(core.Config{Resource: readyResource, Verifier: v, Authorizer: authorizerFunc(allowAll),
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ready, live := core.ReadyHandler(g, time.Second), core.LiveHandler()
	call := func() int {
		h := http.Header{}
		h.Set("Authorization", "Bearer "+idp.Token(readyResource, "alice"))
		h.Set("Content-Type", "application/json")
		h.Set("Accept", "application/json, text/event-stream")
		h.Set("Mcp-Protocol-Version", "2025-11-25")
		_, err := g.Check(context.Background(), &core.Request{Method: http.MethodPost, Path: "/mcp", Header: h,
			Body: []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}`)})
		if err == nil {
			return http.StatusOK
		}
		return g.Render(err).Status
	}

	if st := call(); st != http.StatusServiceUnavailable {
		t.Fatalf("call with the key set down: %d, want 503", st)
	}
	if err := g.Ready(context.Background()); !errors.Is(err, core.ErrNotReady) || !strings.Contains(err.Error(), idp.Issuer()) {
		t.Fatalf("Ready = %v, want ErrNotReady naming the issuer", err)
	}
	if code, body := probe(t, ready); code != http.StatusServiceUnavailable || !strings.Contains(body, `"not ready"`) {
		t.Fatalf("readiness probe: %d %s", code, body)
	}
	if code, _ := probe(t, live); code != http.StatusOK {
		t.Fatalf("liveness probe: %d", code)
	}

	// The IdP comes back; after the fetch cooldown the probe and the calls
	// recover together.
	idp.SetJWKSDown(false)
	clk.Add(31 * time.Second)
	if code, body := probe(t, ready); code != http.StatusOK || body != `{"status":"ready"}` {
		t.Fatalf("readiness probe after recovery: %d %s", code, body)
	}
	if st := call(); st != http.StatusOK {
		t.Fatalf("call after recovery: %d", st)
	}
}

func TestReadyChecksAndComponents(t *testing.T) {
	t.Parallel()
	idp := coretest.NewIdP(t)
	storeDown := errors.New("redis: connection refused")
	var storeErr error
	var mu sync.Mutex
	store := core.ReadyFunc(func(context.Context) error { mu.Lock(); defer mu.Unlock(); return storeErr })
	g, err := core.New(core.Config{Resource: readyResource, Verifier: idp.Verifier(t, readyResource),
		Authorizer: authorizerFunc(allowAll), ReadyChecks: []core.ReadinessChecker{store},
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Ready(context.Background()); err != nil {
		t.Fatalf("Ready = %v", err)
	}
	mu.Lock()
	storeErr = storeDown
	mu.Unlock()
	if err := g.Ready(context.Background()); !errors.Is(err, core.ErrNotReady) || !errors.Is(err, storeDown) {
		t.Fatalf("Ready with the store down = %v", err)
	}
	if _, err := core.New(core.Config{Resource: readyResource, Verifier: idp.Verifier(t, readyResource), AuthenticateOnly: true,
		ReadyChecks: []core.ReadinessChecker{nil}, Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}}}); err == nil {
		t.Fatal("nil ReadyChecks entry accepted")
	}
	w := httptest.NewRecorder()
	core.ReadyHandler(g, 0).ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/readyz", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST /readyz: %d", w.Code)
	}
}

// EagerDiscovery turns an unreachable IdP into a start-up error.
func TestEagerDiscovery(t *testing.T) {
	t.Parallel()
	idp := coretest.NewIdP(t)
	idp.SetJWKSDown(true)
	cfg := idp.VerifierConfig(readyResource)
	if _, err := verifier.New(context.Background(), cfg); err != nil {
		t.Fatalf("lazy New failed: %v", err)
	}
	cfg.EagerDiscovery = true
	if _, err := verifier.New(context.Background(), cfg); !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("eager New with the IdP down = %v, want ErrUnavailable", err)
	}
	idp.SetJWKSDown(false)
	if _, err := verifier.New(context.Background(), cfg); err != nil {
		t.Fatalf("eager New with the IdP up: %v", err)
	}
}
