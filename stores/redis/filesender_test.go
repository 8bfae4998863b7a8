package redisstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// stallProxy forwards TCP to Redis. Stalled, it swallows what a client
// sends and resets the connection resetAfter later: a Redis (or a load
// balancer in front of it) that fails late and not by a timeout, the
// worst case of the Sender (a streamed call that fails is retried through
// go-redis).
type stallProxy struct {
	ln         net.Listener
	target     string
	resetAfter time.Duration
	stalled    atomic.Bool
	mu         sync.Mutex
	conns      map[net.Conn]bool
}

func startStallProxy(t *testing.T, target string, resetAfter time.Duration) *stallProxy {
	p := &stallProxy{ln: testkit.Listen(t), target: target, resetAfter: resetAfter, conns: map[net.Conn]bool{}}
	go p.accept()
	t.Cleanup(func() {
		_ = p.ln.Close()
		p.mu.Lock()
		for c := range p.conns {
			_ = c.Close()
		}
		p.mu.Unlock()
	})
	return p
}

func (p *stallProxy) URL() string { return "redis://" + p.ln.Addr().String() + "/0" }

func (p *stallProxy) track(c net.Conn, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.conns[c] = true
	} else {
		delete(p.conns, c)
	}
}

func (p *stallProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

func (p *stallProxy) serve(c net.Conn) {
	p.track(c, true)
	defer p.track(c, false)
	defer c.Close()
	up, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		return
	}
	p.track(up, true)
	defer p.track(up, false)
	defer up.Close()
	go func() { _, _ = io.Copy(c, up); _ = c.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		if p.stalled.Load() {
			// Swallow this and everything after, then reset.
			time.AfterFunc(p.resetAfter, func() {
				if tc, ok := c.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
				_ = c.Close()
			})
			_, _ = io.Copy(io.Discard, c)
			return
		}
		if _, err := up.Write(buf[:n]); err != nil {
			return
		}
	}
}

// redisPID is the process id of the Redis that c reaches (INFO server).
func redisPID(t *testing.T, srv *redisServer) int {
	info, err := srv.client(t).Info(context.Background(), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "process_id:"); ok {
			pid, err := strconv.Atoi(v)
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
	}
	t.Fatal("no process_id in INFO server")
	return 0
}

// fileAS is one authorization server whose stores come from a stores:
// section (AuthServerStores), with a private_key_jwt client and a
// client_secret_basic client.
func fileAS(t *testing.T, options map[string]any) (*cluster, *GrantStore) {
	t.Helper()
	return fileASWith(t, options, nil)
}

// fileASWith is fileAS with edit applied to the server's Config before
// the stores are installed.
func fileASWith(t *testing.T, options map[string]any, edit func(*authserver.Config)) (*cluster, *GrantStore) {
	t.Helper()
	gen := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	c := &cluster{cliKey: gen(), signKey: gen(), idpKey: gen()}
	ln := testkit.Listen(t)
	c.url = "http://" + ln.Addr().String()
	hash, err := authserver.HashSecret(clSecret)
	if err != nil {
		t.Fatal(err)
	}
	cc := []string{authserver.GrantClientCredentials}
	cfg := authserver.Config{
		Issuer:    c.url,
		Resources: []authserver.Resource{{ID: clResource, Scopes: []string{"mcp:tools"}}},
		Clients: []authserver.Client{
			{ID: clSecretID, SecretHash: hash, GrantTypes: cc, Scopes: []string{"mcp:tools"}},
			{ID: clJWTID, JWKS: jwksOf(t, c.cliKey, "cli"), GrantTypes: cc, Scopes: []string{"mcp:tools"}},
		},
		SigningKeys: []authserver.SigningKey{{Signer: c.signKey, KeyID: "as-1"}},
		RateLimit:   authserver.RateLimit{Disabled: true},
	}
	if edit != nil {
		edit(&cfg)
	}
	closer, err := AuthServerStores(context.Background(), options, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closer.Close() })
	gs := cfg.ReplayStore.(*GrantStore)
	as, err := authserver.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Serve(t, ln, as)
	return c, gs
}

// TestFileSenderTimeTo503: with sender: rueidis from the file, a grant
// answers 503 within the documented bound (2 × timeout) whatever Redis
// does: writes paused (CLIENT PAUSE WRITE), the process frozen (SIGSTOP:
// connections accepted, nothing answered), a connection reset late (not a
// timeout: the streamed call is retried through go-redis), Redis killed.
// No client assertion is ever accepted twice, and grants succeed again
// once Redis is back.
func TestFileSenderTimeTo503(t *testing.T) {
	srv := startRedis(t)
	const timeout = 200 * time.Millisecond
	// Resets come later than the Sender's own deadline (timeout/2) but
	// before go-redis's: with the Sender's former bounds (dial 1 s, reads
	// 500 ms, whatever timeout) this took 450 ms + a retry.
	proxy := startStallProxy(t, srv.Addr(), 450*time.Millisecond)
	c, gs := fileAS(t, map[string]any{"url": proxy.URL(), "timeout": timeout.String(), "sender": SenderRueidis, "prefix": "{sender503}:"})
	if gs.sender == nil {
		t.Fatal("sender: rueidis did not give the grant store a Sender")
	}
	const bound = 2 * timeout
	// slack is what the machine adds to any grant: at least 400 ms, and on
	// a loaded machine three times the slowest healthy grant measured just
	// before the outage (the same HTTP round trip, scheduling and signing,
	// with Redis answering at once), so the bound on Redis's share stays
	// 2 × timeout.
	const minSlack = 400 * time.Millisecond
	var slowestHealthy time.Duration
	hc := httpFrom("127.0.0.1")
	used := map[string]bool{} // assertions answered 200 (or possibly recorded)
	accepted := map[string]int{}
	grant := func(a string) result {
		r := c.token(t, hc, assertionForm(a), false)
		if r.status == 200 {
			accepted[a]++
			if accepted[a] > 1 {
				t.Fatalf("assertion accepted %d times", accepted[a])
			}
		}
		used[a] = true
		return r
	}
	// healthy waits until a fresh assertion gets a token (load may turn a
	// 200 ms call into a 503 now and then).
	healthy := func(phase string) string {
		deadline := time.Now().Add(20 * time.Second)
		for {
			a := c.assertion(t)
			start := time.Now()
			if r := grant(a); r.status == 200 {
				slowestHealthy = max(slowestHealthy, time.Since(start))
				return a
			} else if time.Now().After(deadline) {
				t.Fatalf("%s: no token within 20 s: %+v", phase, r)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	admin := srv.client(t)
	outage := func(name string, begin, end func()) {
		t.Helper()
		slowestHealthy = 0
		ok := healthy("before " + name)
		for range 2 { // three samples of the machine's own latency
			healthy("before " + name)
		}
		slack := max(minSlack, 3*slowestHealthy)
		begin()
		var worst time.Duration
		for range 6 {
			for _, a := range []string{ok, c.assertion(t)} { // a replay and a fresh one
				start := time.Now()
				r := grant(a)
				d := time.Since(start)
				worst = max(worst, d)
				if r.status != 503 || r.err != "temporarily_unavailable" {
					t.Fatalf("%s: %+v after %v, want 503 temporarily_unavailable", name, r, d)
				}
				if d > bound+slack {
					t.Fatalf("%s: 503 after %v, documented bound %v (+%v slack)", name, d, bound, slack)
				}
			}
		}
		end()
		t.Logf("%s: slowest 503 %v (bound %v + slack %v)", name, worst.Round(time.Millisecond), bound, slack.Round(time.Millisecond))
		if name != "stopped" {
			healthy("after " + name)
		}
		// The assertion used before the outage is still refused (after a
		// restart empty: by the replay store's quarantine).
		if r := grant(ok); r.status == 200 {
			t.Fatalf("after %s: a replay was accepted", name)
		}
	}
	outage("CLIENT PAUSE WRITE", func() {
		if err := admin.Do(context.Background(), "CLIENT", "PAUSE", "30000", "WRITE").Err(); err != nil {
			t.Fatal(err)
		}
	}, func() {
		if err := admin.Do(context.Background(), "CLIENT", "UNPAUSE").Err(); err != nil {
			t.Fatal(err)
		}
	})
	pid := redisPID(t, srv)
	outage("SIGSTOP", func() {
		if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
	}, func() {
		if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
	})
	outage("late reset", func() { proxy.stalled.Store(true) }, func() { proxy.stalled.Store(false) })
	// Last: Redis restarts empty, and the replay store then refuses every
	// grant for its quarantine (DefaultQuarantine, 12 min), which outlives
	// the test.
	outage("stopped", srv.Stop, srv.Start)
	if r := grant(c.assertion(t)); r.status != 503 {
		t.Fatalf("after a restart empty: %+v, want 503 (quarantine)", r)
	}
}

// TestFileSenderRedisDownAtStart: with Redis down at start the factory
// does not fail; the grant store runs without the Sender (rueidis
// connects at once), a warning says so, and grants work through go-redis
// once Redis answers.
func TestFileSenderRedisDownAtStart(t *testing.T) {
	srv := startRedis(t)
	srv.Stop()
	var logs syncLog
	cfg := authserver.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	closer, err := AuthServerStores(context.Background(), map[string]any{"url": srv.URL(), "sender": SenderRueidis, "timeout": "300ms"}, &cfg)
	if err != nil {
		t.Fatalf("factory with Redis down: %v", err)
	}
	defer closer.Close()
	gs := cfg.ReplayStore.(*GrantStore)
	if gs.sender != nil || !strings.Contains(logs.String(), "rueidis could not reach Redis at start") || !strings.Contains(logs.String(), `sender="none (go-redis alone)"`) {
		t.Fatalf("sender %v, log:\n%s", gs.sender, logs.String())
	}
	srv.Start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := gs.SendGrantSteps(context.Background(), []authserver.GrantStep{{Kind: authserver.StepConsume, Key: "idjag|i|down-at-start", Exp: time.Now().Add(time.Minute)}})()
		if err == nil && res.Refused == -1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no grant 10 s after Redis started: %+v %v", res, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// syncLog is a log buffer safe for concurrent writes.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
