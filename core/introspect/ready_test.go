package introspect

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// TestReady runs Ready against an endpoint that is healthy, down, slow,
// refuses the credentials, or answers garbage: only the healthy one is
// ready, every other answer is a not-ready error wrapping
// core.ErrUnavailable that says why, and no answer takes longer than the
// configured timeout (with a wide margin for a loaded machine).
func TestReady(t *testing.T) {
	t.Parallel()
	downURL := "http://" + testkit.RefusedAddr(t) // refuses connections until the test ends
	for _, tc := range []struct {
		name    string
		status  int
		ctype   string
		body    string
		delay   time.Duration
		url     string
		wantErr string // "" = ready
	}{
		{name: "healthy", body: `{"active":false}`},
		{name: "healthy with extra members", body: `{"active":false,"error_hint":"unknown"}`},
		{name: "down", url: downURL, wantErr: "introspection:"},
		{name: "slow", body: `{"active":false}`, delay: 30 * time.Second, wantErr: "deadline exceeded"},
		{name: "credentials refused", status: 401, body: `{"error":"invalid_client"}`, wantErr: "refuses this resource server's client credentials"},
		{name: "forbidden", status: 403, wantErr: "HTTP 403"},
		{name: "server error", status: 500, body: "oops", wantErr: "HTTP 500"},
		{name: "html", ctype: "text/html", body: "<html>login</html>", wantErr: "not application/json"},
		{name: "not json", body: "{active: false}", wantErr: "introspection response"},
		{name: "trailing garbage", body: `{"active":false}x`, wantErr: "introspection response"},
		{name: "duplicate key", body: `{"active":false,"active":true}`, wantErr: "introspection response"},
		{name: "no active", body: `{"sub":"x"}`, wantErr: `no boolean "active"`},
		{name: "active as string", body: `{"active":"false"}`, wantErr: "not a boolean"},
		{name: "oversized", body: `{"active":false,"x":"` + strings.Repeat("a", 70<<10) + `"}`, wantErr: "introspection response: too large: more than 65536 bytes"},
		{name: "accepts anything", body: `{"active":true,"sub":"x"}`, wantErr: "reports a random probe token active"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var tokens []string
			var auth string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				tokens = append(tokens, r.PostFormValue("token"))
				auth = r.Header.Get("Authorization")
				mu.Unlock()
				if tc.delay > 0 {
					select {
					case <-time.After(tc.delay):
					case <-r.Context().Done():
						return
					}
				}
				ct := tc.ctype
				if ct == "" {
					ct = "application/json"
				}
				w.Header().Set("Content-Type", ct)
				if tc.status != 0 {
					w.WriteHeader(tc.status)
				}
				_, _ = w.Write([]byte(tc.body))
			}))
			t.Cleanup(srv.Close)
			url := srv.URL
			if tc.url != "" {
				url = tc.url
			}
			cfg := baseConfig(url, newClock())
			// Only the slow endpoint must outlast the timeout: every other
			// answer must arrive within it, which 200 ms did not always
			// allow on a loaded machine (trailing garbage, 1 of 40 runs
			// under -race at load ~6: deadline exceeded).
			cfg.Timeout = 5 * time.Second
			if tc.delay > 0 {
				cfg.Timeout = 200 * time.Millisecond
			}
			v, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			// The bound is far above the timeouts, so that a loaded
			// machine does not fail the test, and far below the slow
			// endpoint's 30 s, so that a Ready that ignores the timeout does.
			start := time.Now()
			err = v.Ready(context.Background())
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("Ready took %v with a %v timeout", took, cfg.Timeout)
			}
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Ready: %v", err)
				}
			} else if !errors.Is(err, core.ErrUnavailable) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Ready = %v, want ErrUnavailable containing %q", err, tc.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			if tc.url != "" {
				return
			}
			if len(tokens) != 1 || !strings.HasPrefix(tokens[0], ProbeTokenPrefix) || len(tokens[0]) != len(ProbeTokenPrefix)+22 {
				t.Fatalf("probe tokens %q", tokens)
			}
			if auth != basicAuth(cfg.ClientID, cfg.ClientSecret) {
				t.Fatalf("probe sent Authorization %q, want the client credentials", auth)
			}
			if v.cacheLen() != 0 {
				t.Fatal("a probe answer was cached")
			}
		})
	}
}

// TestReadyHonoursContext: a probe whose caller gives up returns at the
// caller's deadline, not the verifier's longer timeout.
func TestReadyHonoursContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	cfg := baseConfig(srv.URL, newClock())
	cfg.Timeout = 10 * time.Second
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = v.Ready(ctx)
	if !errors.Is(err, core.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ready = %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Ready took %v with a 100ms deadline", took)
	}
}

// TestReadyFollowsBackoff: while the endpoint is failing, Ready asks it at
// most once per backoff step; a good probe ends the backoff, so Verify
// reaches the endpoint again without waiting for real traffic to probe it.
func TestReadyFollowsBackoff(t *testing.T) {
	t.Parallel()
	clk := newClock()
	as := newFakeAS()
	as.set("tok", answer{body: activeBody})
	var failing atomic.Bool
	var calls atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if failing.Load() {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		as.ServeHTTP(w, r)
	})
	cfg := baseConfig("http://127.0.0.1/introspect", clk)
	cfg.HTTPClient = inMemoryClient(h)
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	v.back.jitter = func() float64 { return 1 } // full steps: 1s, 2s, ...
	ctx := context.Background()
	failing.Store(true)
	if err := v.Ready(ctx); err == nil || !strings.Contains(err.Error(), "HTTP 502") {
		t.Fatalf("first probe: %v", err)
	}
	for i := 0; i < 20; i++ { // within the 1s step: no request
		if err := v.Ready(ctx); !errors.Is(err, core.ErrUnavailable) || !strings.Contains(err.Error(), "next attempt") {
			t.Fatalf("probe in backoff: %v", err)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d requests during one backoff step, want 1", n)
	}
	if _, err := v.Verify(ctx, "tok"); !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("Verify during the backoff: %v", err)
	}
	failing.Store(false)
	clk.Add(1100 * time.Millisecond)
	if err := v.Ready(ctx); err != nil {
		t.Fatalf("probe after the step: %v", err)
	}
	if c, err := v.Verify(ctx, "tok"); err != nil || c.Subject == "" {
		t.Fatalf("Verify after a good probe: %v", err)
	}
	if n := calls.Load(); n != 3 {
		t.Fatalf("%d requests, want 3 (failed probe, good probe, verify)", n)
	}
}

// TestGuardReadyIncludesIntrospection: a Guard whose verifier is an
// introspection Verifier is not ready while the endpoint is down, and is
// once it answers.
func TestGuardReadyIncludesIntrospection(t *testing.T) {
	t.Parallel()
	var up atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			// Like a crashed upstream behind a proxy: the connection closes.
			hj, ok := w.(http.Hijacker)
			if !ok {
				t.Error("no hijacker")
				return
			}
			c, _, _ := hj.Hijack()
			_ = c.(*net.TCPConn).Close()
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"active":false}`))
	}))
	t.Cleanup(srv.Close)
	cfg := baseConfig(srv.URL, newClock())
	cfg.BackoffInitial = -1 // every probe reaches the endpoint
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	g, err := core.New(core.Config{Resource: testAud, Verifier: v, AuthenticateOnly: true,
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{testIss}}})
	if err != nil {
		t.Fatal(err)
	}
	err = g.Ready(context.Background())
	if !errors.Is(err, core.ErrNotReady) || !strings.Contains(err.Error(), "verifier:") {
		t.Fatalf("Guard.Ready with the endpoint down = %v", err)
	}
	up.Store(true)
	if err := g.Ready(context.Background()); err != nil {
		t.Fatalf("Guard.Ready with the endpoint up = %v", err)
	}
}
