package jose

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

func newClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
}

// idp serves a JWKS whose content and failure mode can change.
type idp struct {
	srv  *httptest.Server
	hits atomic.Int64
	mu   sync.Mutex
	body []byte
	mode string // "", "503", "html", "badjson", "empty", "filtered", "huge", "endless", "block"
	gate chan struct{}
}

func newIDP(t *testing.T) *idp {
	t.Helper()
	p := &idp{gate: make(chan struct{})}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		p.mu.Lock()
		mode, body := p.mode, p.body
		p.mu.Unlock()
		switch mode {
		case "503":
			http.Error(w, "down", http.StatusServiceUnavailable)
		case "html":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html><body>maintenance</body></html>"))
		case "badjson":
			_, _ = w.Write([]byte(`{"keys":[{"kty":"RSA",`))
		case "empty":
			_, _ = w.Write([]byte(`{"keys":[]}`))
		case "filtered":
			_, _ = w.Write([]byte(`{"keys":[{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"}]}`))
		case "huge":
			chunk := []byte(strings.Repeat(" ", 1<<16))
			_, _ = w.Write([]byte(`{"keys":[]`))
			for i := 0; i < 800; i++ { // 50 MiB
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			_, _ = w.Write([]byte(`}`))
		case "endless":
			chunk := []byte(strings.Repeat(" ", 1<<16))
			for {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "block":
			select {
			case <-p.gate:
			case <-r.Context().Done():
			}
		default:
			w.Header().Set("Content-Type", "application/jwk-set+json")
			_, _ = w.Write(body)
		}
	}))
	t.Cleanup(func() {
		p.release()
		p.srv.Close()
	})
	return p
}

func (p *idp) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
	default:
		close(p.gate)
	}
}

func (p *idp) set(mode string, keys ...JWK) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	if keys != nil {
		p.body, _ = json.Marshal(JWKS{Keys: keys})
	}
}

type signer struct {
	key crypto.Signer
	kid string
	jwk JWK
}

func newSigner(t testing.TB, alg, kid string) signer {
	k, err := GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	j, _ := PublicJWK(k.Public(), kid, alg)
	return signer{k, kid, j}
}

func (s signer) token(t testing.TB, kid string) *Token {
	raw, err := Sign(s.key, Header{Alg: s.jwk.Alg, Kid: kid}, []byte(`{"sub":"a"}`))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ParseCompact(raw, ParseOptions{Algorithms: allAlgs})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func newRemote(t *testing.T, p *idp, clk *testkit.Clock, mut func(*RemoteKeySetConfig)) *RemoteKeySet {
	t.Helper()
	cfg := RemoteKeySetConfig{URL: p.srv.URL + "/jwks", Now: clk.Now}
	if mut != nil {
		mut(&cfg)
	}
	r, err := NewRemoteKeySet(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRemoteK01RefetchStorm(t *testing.T) {
	t.Parallel()
	p, clk := newIDP(t), newClock()
	s := newSigner(t, EdDSA, "k1")
	p.set("", s.jwk)
	r := newRemote(t, p, clk, nil)
	ctx := context.Background()
	if _, err := VerifyToken(ctx, s.token(t, "k1"), r); err != nil {
		t.Fatal(err)
	}
	if p.hits.Load() != 1 {
		t.Fatalf("initial fetches = %d", p.hits.Load())
	}
	// 10,000 random unknown kids, concurrently, within one cooldown.
	var wg sync.WaitGroup
	var unknown atomic.Int64
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 1250; i++ {
				_, err := r.Keys(ctx, fmt.Sprintf("rnd-%d-%d", g, i), EdDSA)
				if errors.Is(err, ErrUnknownKey) {
					unknown.Add(1)
				}
			}
		}(g)
	}
	wg.Wait()
	if unknown.Load() != 10000 {
		t.Fatalf("unknown-kid errors = %d", unknown.Load())
	}
	if got := p.hits.Load(); got != 1 {
		t.Fatalf("fetches after 10k unknown kids within the cooldown = %d, want 1", got)
	}
	// After the cooldown: exactly one more fetch for the next burst.
	clk.Add(DefaultCooldown + time.Second)
	for i := 0; i < 10000; i++ {
		_, _ = r.Keys(ctx, fmt.Sprint("again-", i), EdDSA)
	}
	if got := p.hits.Load(); got != 2 {
		t.Fatalf("fetches after second burst = %d, want 2", got)
	}
	// 10,000 bad signatures on the known kid: zero fetches, even after
	// another cooldown.
	clk.Add(DefaultCooldown + time.Second)
	bad := s.token(t, "k1")
	bad.sig[3] ^= 0xff
	for i := 0; i < 10000; i++ {
		if _, err := VerifyToken(ctx, bad, r); !errors.Is(err, ErrSignature) {
			t.Fatalf("bad signature: %v", err)
		}
	}
	if got := p.hits.Load(); got != 2 {
		t.Fatalf("fetches caused by bad signatures = %d, want 0", got-2)
	}
}

func TestRemoteK02Rotation(t *testing.T) {
	t.Parallel()
	p, clk := newIDP(t), newClock()
	k1, k2 := newSigner(t, ES256, "k1"), newSigner(t, ES256, "k2")
	p.set("", k1.jwk)
	r := newRemote(t, p, clk, func(c *RemoteKeySetConfig) { c.RefreshInterval = time.Hour })
	ctx := context.Background()
	if _, err := VerifyToken(ctx, k1.token(t, "k1"), r); err != nil {
		t.Fatal(err)
	}
	p.set("", k1.jwk, k2.jwk)
	clk.Add(DefaultCooldown + time.Second)
	if _, err := VerifyToken(ctx, k2.token(t, "k2"), r); err != nil {
		t.Fatalf("k2 after rotation: %v", err)
	}
	p.set("", k2.jwk)
	// k1 stays valid until a refresh; RefreshInterval triggers one.
	if _, err := VerifyToken(ctx, k1.token(t, "k1"), r); err != nil {
		t.Fatalf("k1 before refresh: %v", err)
	}
	clk.Add(time.Hour + time.Second)
	before := p.hits.Load()
	_, _ = VerifyToken(ctx, k2.token(t, "k2"), r) // starts the background refresh
	if err := waitFor(func() bool { return p.hits.Load() > before && r.inflightDone() }); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyToken(ctx, k1.token(t, "k1"), r); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("k1 after removal: %v", err)
	}
}

func (r *RemoteKeySet) inflightDone() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inflight == nil
}

func waitFor(cond func() bool) error {
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return errors.New("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

func TestRemoteK03DownAtStartup(t *testing.T) {
	t.Parallel()
	p, clk := newIDP(t), newClock()
	s := newSigner(t, EdDSA, "k1")
	p.set("503", s.jwk)
	r := newRemote(t, p, clk, nil) // no I/O, no error
	ctx := context.Background()
	for i := 0; i < 100; i++ {
		if _, err := VerifyToken(ctx, s.token(t, "k1"), r); !errors.Is(err, ErrUnavailable) {
			t.Fatalf("JWKS down: %v", err)
		}
	}
	if p.hits.Load() != 1 {
		t.Fatalf("fetches while down within cooldown = %d", p.hits.Load())
	}
	p.set("")
	clk.Add(DefaultCooldown + time.Second)
	if _, err := VerifyToken(ctx, s.token(t, "k1"), r); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestRemoteK04StaleWhileError(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"503", "html", "badjson", "empty", "filtered", "huge"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			p, clk := newIDP(t), newClock()
			s := newSigner(t, ES256, "k1")
			p.set("", s.jwk)
			r := newRemote(t, p, clk, func(c *RemoteKeySetConfig) { c.MaxStale = time.Hour })
			ctx := context.Background()
			if _, err := VerifyToken(ctx, s.token(t, "k1"), r); err != nil {
				t.Fatal(err)
			}
			p.set(mode)
			for step := 0; step < 3; step++ {
				clk.Add(DefaultCooldown + time.Second)
				if _, err := r.Keys(ctx, "unknown", ES256); !errors.Is(err, ErrUnknownKey) {
					t.Fatalf("unknown kid during outage: %v", err)
				}
				if _, err := VerifyToken(ctx, s.token(t, "k1"), r); err != nil {
					t.Fatalf("known kid during outage: %v", err)
				}
			}
			clk.Add(time.Hour)
			if _, err := VerifyToken(ctx, s.token(t, "k1"), r); !errors.Is(err, ErrUnavailable) {
				t.Fatalf("after MaxStale: %v", err)
			}
			p.set("")
			clk.Add(DefaultCooldown + time.Second)
			if _, err := VerifyToken(ctx, s.token(t, "k1"), r); err != nil {
				t.Fatalf("after recovery: %v", err)
			}
		})
	}
}

func TestRemoteK05SlowJWKS(t *testing.T) {
	t.Parallel()
	p, clk := newIDP(t), newClock()
	s := newSigner(t, ES256, "k1")
	p.set("", s.jwk)
	// Count attempts in the client's transport: under load the one fetch
	// can be cut at the timeout before the server's handler counts it.
	var sent atomic.Int64
	rt := roundTripFunc(func(req *http.Request) (*http.Response, error) {
		sent.Add(1)
		return http.DefaultTransport.RoundTrip(req)
	})
	r := newRemote(t, p, clk, func(c *RemoteKeySetConfig) {
		// 1 s, not less: under load (CI at load 20) the first, healthy
		// fetch took longer than 200 ms and the test failed before it
		// blocked anything.
		c.FetchTimeout = time.Second
		c.HTTPClient = &http.Client{Transport: rt}
	})
	ctx := context.Background()
	if _, err := VerifyToken(ctx, s.token(t, "k1"), r); err != nil {
		t.Fatal(err)
	}
	p.set("block")
	clk.Add(DefaultCooldown + time.Second)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := r.Keys(ctx, fmt.Sprint("new-", i), ES256)
			if !errors.Is(err, ErrUnknownKey) {
				t.Errorf("unknown kid while JWKS hangs: %v", err)
			}
		}(i)
	}
	// The cached kid is served while the fetch hangs.
	for i := 0; i < 100; i++ {
		if _, err := VerifyToken(ctx, s.token(t, "k1"), r); err != nil {
			t.Fatalf("cached kid blocked: %v", err)
		}
	}
	wg.Wait()
	// "block" hangs until the test ends: only a fetch cut at its timeout
	// returns, and 20 s leaves a loaded machine room.
	if time.Since(start) > 20*time.Second {
		t.Fatalf("fetch not cut at the timeout: %v", time.Since(start))
	}
	if got := sent.Load(); got != 2 {
		t.Fatalf("outbound fetches = %d, want 2 (initial + one)", got)
	}
	// A caller whose context ends stops waiting.
	p.set("block")
	clk.Add(DefaultCooldown + time.Second)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := r.Keys(cctx, "other", ES256); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("cancelled wait: %v", err)
	}
}

func TestRemoteK06HugeBody(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"huge", "endless"} {
		p, clk := newIDP(t), newClock()
		p.set(mode, newSigner(t, ES256, "k1").jwk)
		r := newRemote(t, p, clk, nil)
		err := r.Refresh(context.Background())
		if !errors.Is(err, ErrInvalidKeySet) {
			t.Fatalf("%s: %v", mode, err)
		}
	}
}

func TestRemoteK07URLAndRedirects(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"", "http://example.com/jwks", "ftp://127.0.0.1/x", "https://user:pw@example.com/jwks",
		"https://example.com/jwks#frag", "/relative", "http://10.0.0.1/jwks", "http://[::2]/jwks"} {
		if _, err := NewRemoteKeySet(RemoteKeySetConfig{URL: u}); err == nil {
			t.Errorf("URL %q accepted", u)
		}
	}
	for _, u := range []string{"https://example.com/jwks", "http://127.0.0.1:1/jwks", "http://127.9.9.9/jwks", "http://[::1]:8/jwks", "http://localhost/jwks"} {
		if _, err := NewRemoteKeySet(RemoteKeySetConfig{URL: u}); err != nil {
			t.Errorf("URL %q refused: %v", u, err)
		}
	}
	if _, err := NewRemoteKeySet(RemoteKeySetConfig{URL: "https://example.com/jwks", Algorithms: []string{"HS256"}}); err == nil {
		t.Error("HS256 algorithm accepted")
	}
	// Redirect to another host (127.0.0.1 → localhost) is refused.
	var decoy atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { decoy.Add(1) }))
	defer other.Close()
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/same" {
			http.Redirect(w, r, "/jwks", http.StatusFound)
			return
		}
		if r.URL.Path == "/jwks" {
			_, _ = w.Write(jwksBytes(newSigner(t, ES256, "k").jwk))
			return
		}
		http.Redirect(w, r, otherURL+"/jwks", http.StatusFound)
	}))
	defer redir.Close()
	r, _ := NewRemoteKeySet(RemoteKeySetConfig{URL: redir.URL + "/cross"})
	if err := r.Refresh(context.Background()); err == nil || decoy.Load() != 0 {
		t.Fatalf("cross-host redirect followed: %v, decoy hits %d", err, decoy.Load())
	}
	r, _ = NewRemoteKeySet(RemoteKeySetConfig{URL: redir.URL + "/same"})
	if err := r.Refresh(context.Background()); err != nil {
		t.Fatalf("same-host redirect: %v", err)
	}
	// https → http downgrade on the same host is refused.
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+r.Host+"/jwks", http.StatusFound)
	}))
	defer tlsSrv.Close()
	r, _ = NewRemoteKeySet(RemoteKeySetConfig{URL: tlsSrv.URL + "/jwks", HTTPClient: tlsSrv.Client()})
	if err := r.Refresh(context.Background()); err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("https→http redirect: %v", err)
	}
}

func TestSafeHTTPClientNeverDefault(t *testing.T) {
	t.Parallel()
	c := SafeHTTPClient(nil, time.Second)
	if c == http.DefaultClient || c.Timeout != time.Second || c.CheckRedirect == nil {
		t.Fatalf("client = %+v", c)
	}
	base := &http.Client{Timeout: 3 * time.Second}
	c = SafeHTTPClient(base, time.Second)
	if c == base || c.Timeout != 3*time.Second || base.CheckRedirect != nil {
		t.Fatal("caller's client modified or timeout lost")
	}
}

func TestRemoteContainsDropsRemovedKey(t *testing.T) {
	t.Parallel()
	p, clk := newIDP(t), newClock()
	k1, k2 := newSigner(t, ES256, "k1"), newSigner(t, ES256, "k2")
	p.set("", k1.jwk, k2.jwk)
	r := newRemote(t, p, clk, func(c *RemoteKeySetConfig) { c.RefreshInterval = 10 * time.Minute })
	ctx := context.Background()
	if r.Contains(&PublicKey{KeyID: "k1"}) {
		t.Fatal("Contains before any fetch")
	}
	pk1, err := VerifyToken(ctx, k1.token(t, "k1"), r)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Contains(pk1) {
		t.Fatal("verifying key not contained")
	}
	clone := *pk1
	if !r.Contains(&clone) {
		t.Fatal("equal key not contained")
	}
	clone.Algorithm = RS256
	if r.Contains(&clone) {
		t.Fatal("key with another alg contained")
	}
	p.set("", k2.jwk)
	clk.Add(5 * time.Minute)
	before := p.hits.Load()
	if !r.Contains(pk1) || p.hits.Load() != before {
		t.Fatal("refresh before RefreshInterval")
	}
	clk.Add(6 * time.Minute)
	_ = r.Contains(pk1) // starts the background refresh
	if err := waitFor(func() bool { return p.hits.Load() > before && r.inflightDone() }); err != nil {
		t.Fatal(err)
	}
	if r.Contains(pk1) {
		t.Fatal("removed key still contained after the refresh")
	}
	pk2, err := VerifyToken(ctx, k2.token(t, "k2"), r)
	if err != nil || !r.Contains(pk2) {
		t.Fatalf("k2: %v", err)
	}
	clk.Add(DefaultMaxStale + time.Hour)
	if r.Contains(pk2) {
		t.Fatal("key of a stale set contained")
	}
	var nilSet *StaticKeySet
	if nilSet.Contains(pk1) || r.Contains(nil) {
		t.Fatal("nil cases")
	}
}

// TestRemoteK08NewKeyAfterFlood is issue 10 §6: under a flood of unknown
// kids the IdP sees at most one fetch per MinRefreshInterval, and a key it
// publishes right after a flood-triggered fetch validates within 5 s (with
// the former 30 s cooldown: up to 29 s of refusals). Time is a fake clock.
func TestRemoteK08NewKeyAfterFlood(t *testing.T) {
	t.Parallel()
	p, clk := newIDP(t), newClock()
	k1, k2 := newSigner(t, ES256, "k1"), newSigner(t, ES256, "k2")
	p.set("", k1.jwk)
	r := newRemote(t, p, clk, nil)
	ctx := context.Background()
	if _, err := VerifyToken(ctx, k1.token(t, "k1"), r); err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	var published, validated time.Time
	const step = 50 * time.Millisecond
	for i := 0; i < 40*20; i++ { // 40 s at 20 steps a second
		before := p.hits.Load()
		for j := 0; j < 5; j++ { // 100 unknown kids a second, two of them repeated
			kid := fmt.Sprintf("flood-%d-%d", i, j)
			if j < 2 {
				kid = fmt.Sprint("same-", j)
			}
			if _, err := r.Keys(ctx, kid, ES256); !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("flood kid: %v", err)
			}
		}
		if published.IsZero() && clk.Now().Sub(start) > 10*time.Second && p.hits.Load() > before {
			p.set("", k1.jwk, k2.jwk) // published right after a flood fetch
			published = clk.Now()
		}
		if !published.IsZero() && validated.IsZero() && i%5 == 0 {
			if _, err := VerifyToken(ctx, k2.token(t, "k2"), r); err == nil {
				validated = clk.Now()
			}
		}
		clk.Add(step)
	}
	if published.IsZero() || validated.IsZero() {
		t.Fatalf("published %v, validated %v", published, validated)
	}
	if d := validated.Sub(published); d > 5*time.Second {
		t.Fatalf("new key validated %v after publication, want <= 5s", d)
	}
	// 40 s of flood: at most one fetch per MinRefreshInterval (+ the first).
	if got, max := p.hits.Load(), int64(40*time.Second/DefaultMinRefreshInterval)+2; got > max {
		t.Fatalf("%d fetches in 40 s of flood, want <= %d", got, max)
	}
	t.Logf("fetches %d, new key valid after %v", p.hits.Load(), validated.Sub(published))
}

func TestRemoteNegativeKidFailsFast(t *testing.T) {
	t.Parallel()
	p, clk := newIDP(t), newClock()
	k1 := newSigner(t, ES256, "k1")
	p.set("", k1.jwk)
	r := newRemote(t, p, clk, nil)
	ctx := context.Background()
	if _, err := r.Keys(ctx, "nope", ES256); !errors.Is(err, ErrUnknownKey) {
		t.Fatal(err)
	}
	// A fetch in flight does not hold up a kid known absent.
	p.set("block")
	clk.Add(DefaultMinRefreshInterval)
	go func() { _, _ = r.Keys(ctx, "other", ES256) }() // starts a blocked fetch
	if err := waitFor(func() bool { return !r.inflightDone() }); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Keys(ctx, "nope", ES256); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("known-absent kid during a fetch: %v", err)
	}
	p.release()
	// The cache is bounded.
	for i := 0; i < 3*DefaultMaxNegativeKids; i++ {
		r.markAbsent(fmt.Sprint("k-", i))
	}
	r.mu.Lock()
	n := len(r.negative)
	r.mu.Unlock()
	if n > DefaultMaxNegativeKids {
		t.Fatalf("negative cache holds %d kids", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
