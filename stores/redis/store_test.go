package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

func TestReplayStore(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	s, err := NewReplayStore(context.Background(), ReplayConfig{Config: Config{Client: srv.patient(t), Timeout: 20 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	exp := time.Now().Add(time.Minute)
	tests := []struct {
		name string
		key  string
		exp  time.Time
		want error
	}{
		{"fresh", "idjag|https://idp|a", exp, nil},
		{"replay", "idjag|https://idp|a", exp, replay.ErrReplay},
		{"other issuer, same jti", "idjag|https://idp2|a", exp, nil},
		{"expired exp is not stored", "idjag|https://idp|old", time.Now().Add(-time.Second), nil},
		{"expired exp again", "idjag|https://idp|old", time.Now().Add(-time.Second), nil},
		{"short ttl", "idjag|https://idp|short", time.Now().Add(50 * time.Millisecond), nil},
		{"empty key", "", exp, replay.ErrInvalidKey},
	}
	for _, tc := range tests {
		if err := s.CheckAndStore(ctx, tc.key, tc.exp); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	time.Sleep(120 * time.Millisecond)
	if err := s.CheckAndStore(ctx, "idjag|https://idp|short", exp); err != nil {
		t.Errorf("after expiry: %v", err)
	}
	// Of 1,000 concurrent uses exactly one wins.
	var ok, replays atomic.Int32
	var wg sync.WaitGroup
	for range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := s.CheckAndStore(ctx, "client_assertion|c|same", exp); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, replay.ErrReplay):
				replays.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || replays.Load() != 999 {
		t.Fatalf("ok=%d replays=%d", ok.Load(), replays.Load())
	}
}

func TestLimiterGCRA(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	l, err := NewLimiter(Config{Client: srv.client(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lim := authserver.Limit{PerSecond: 2, Burst: 3}
	if d, err := l.Peek(ctx, "k", lim); err != nil || !d.Allowed || !d.Idle {
		t.Fatalf("peek fresh: %+v %v", d, err)
	}
	for i := range 3 {
		if d, err := l.Allow(ctx, "k", lim); err != nil || !d.Allowed {
			t.Fatalf("event %d: %+v %v", i, d, err)
		}
	}
	d, err := l.Allow(ctx, "k", lim)
	if err != nil || d.Allowed || d.RetryAfter <= 0 || d.RetryAfter > 500*time.Millisecond {
		t.Fatalf("over burst: %+v %v", d, err)
	}
	if p, _ := l.Peek(ctx, "k", lim); p.Allowed || p.Idle {
		t.Fatalf("peek exhausted: %+v", p)
	}
	if p, _ := l.Peek(ctx, "other", lim); !p.Allowed || !p.Idle {
		t.Fatalf("peek other key: %+v", p)
	}
	time.Sleep(d.RetryAfter + 20*time.Millisecond)
	if d, _ := l.Allow(ctx, "k", lim); !d.Allowed {
		t.Fatalf("after RetryAfter: %+v", d)
	}
	if p, _ := l.Peek(ctx, "k", lim); p.Idle {
		t.Fatalf("peek after use reports idle: %+v", p)
	}
	if _, err := l.Allow(ctx, "k", authserver.Limit{}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("zero limit: %v", err)
	}
}

// The Redis session store passes the contract the in-memory one passes;
// the two stores of a subtest are replicas: own client, same Redis.
func TestSessionBindingsContract(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	var mu sync.Mutex
	prefixes := map[*testing.T]string{}
	coretest.RunSessionStoreSuite(t, func(t *testing.T) core.SessionBindings {
		mu.Lock()
		p, ok := prefixes[t]
		if !ok {
			p = "{sb" + strconv.Itoa(len(prefixes)) + "}:"
			prefixes[t] = p
		}
		mu.Unlock()
		s, err := NewSessionBindings(Config{Client: srv.patient(t), Prefix: p, Timeout: patientTimeout})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// Redis down: every operation fails with core.ErrStoreUnavailable within
// the timeout bound, never a wrong answer; it recovers without a restart.
func TestOutageFailsClosedAndRecovers(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	cfg := Config{Client: srv.client(t)}
	rs, _ := NewReplayStore(context.Background(), ReplayConfig{Config: cfg, Quarantine: 700 * time.Millisecond})
	lim, _ := NewLimiter(cfg)
	sb, _ := NewSessionBindings(cfg)
	ctx := context.Background()
	exp := time.Now().Add(time.Minute)
	if err := rs.CheckAndStore(ctx, "idjag|i|before", exp); err != nil {
		t.Fatal(err)
	}
	if err := sb.Bind(ctx, "s", "p", time.Minute, 0); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	ops := map[string]func() error{
		"replay": func() error { return rs.CheckAndStore(ctx, "idjag|i|during", exp) },
		"limit":  func() error { _, err := lim.Allow(ctx, "k", authserver.Limit{PerSecond: 1, Burst: 1}); return err },
		"peek":   func() error { _, err := lim.Peek(ctx, "k", authserver.Limit{PerSecond: 1, Burst: 1}); return err },
		"lookup": func() error { _, err := sb.Lookup(ctx, "s"); return err },
		"bind":   func() error { return sb.Bind(ctx, "s2", "p", time.Minute, 0) },
		"touch":  func() error { return sb.Touch(ctx, "s", "p", time.Minute) },
		"unbind": func() error { return sb.Unbind(ctx, "s", "p") },
	}
	for name, op := range ops {
		start := time.Now()
		err := op()
		if !errors.Is(err, core.ErrStoreUnavailable) {
			t.Errorf("%s while down: %v", name, err)
		}
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("%s took %v while down", name, el)
		}
	}
	srv.Start() // empty: no persistence, "before" is forgotten by Redis
	// The store notices the lost dataset and refuses every use for the
	// quarantine, then recovers by itself.
	restarted := time.Now()
	if err := rs.CheckAndStore(ctx, "idjag|i|before", exp); !errors.Is(err, core.ErrStoreUnavailable) {
		t.Fatalf("replay of a pre-loss jti right after the restart: %v, want ErrStoreUnavailable", err)
	}
	rs2, _ := NewReplayStore(context.Background(), ReplayConfig{Config: cfg, Quarantine: 700 * time.Millisecond}) // another replica that knew nothing
	if err := rs2.CheckAndStore(ctx, "idjag|i|x", exp); !errors.Is(err, core.ErrStoreUnavailable) {
		t.Fatalf("other replica during quarantine: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := rs.CheckAndStore(ctx, "idjag|i|after", exp)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if el := time.Since(restarted); el < 600*time.Millisecond {
		t.Fatalf("quarantine ended after %v", el)
	}
	if err := rs.CheckAndStore(ctx, "idjag|i|after", exp); !errors.Is(err, replay.ErrReplay) {
		t.Fatalf("replay after recovery: %v", err)
	}
}

func TestWatcher(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	newW := func() (*Watcher, chan string) {
		w, err := NewWatcher(ctx, Config{Client: srv.client(t), Prefix: "{w}:"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Close)
		ch := make(chan string, 16)
		_ = w.SetUpdateCallback(func(m string) { ch <- m })
		return w, ch
	}
	a, aCh := newW()
	_, bCh := newW()
	_, cCh := newW()
	if err := a.Update(); err != nil {
		t.Fatal(err)
	}
	for i, ch := range []chan string{bCh, cCh} {
		select {
		case m := <-ch:
			if m != "update" {
				t.Fatalf("watcher %d got %q", i, m)
			}
		case <-time.After(time.Second):
			t.Fatalf("watcher %d: no update within 1 s", i)
		}
	}
	select {
	case m := <-aCh:
		t.Fatalf("publisher called back with %q", m)
	case <-time.After(100 * time.Millisecond):
	}
	srv.Stop()
	if err := a.Update(); !errors.Is(err, core.ErrStoreUnavailable) {
		t.Fatalf("Update while down: %v", err)
	}
	srv.Start()
	// After resubscribing each watcher reloads once ("resync").
	for i, ch := range []chan string{aCh, bCh} {
		select {
		case m := <-ch:
			if m != "resync" {
				t.Fatalf("watcher %d after restart got %q", i, m)
			}
		case <-time.After(8 * time.Second):
			t.Fatalf("watcher %d: no resync after restart", i)
		}
	}
	if err := a.Update(); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-bCh:
		if m != "update" {
			t.Fatalf("after restart got %q", m)
		}
	case <-time.After(time.Second):
		t.Fatal("no update after restart")
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	if _, err := NewReplayStore(context.Background(), ReplayConfig{}); !errors.Is(err, ErrInvalidConfig) {
		t.Fatal(err)
	}
	if _, err := ClientOptions("http://x"); !errors.Is(err, ErrInvalidConfig) {
		t.Fatal(err)
	}
	o, err := ClientOptions("redis://127.0.0.1:1/0")
	if err != nil || o.ReadTimeout != DefaultReadTimeout || o.DialTimeout != DefaultDialTimeout || o.MaxRetries != 1 {
		t.Fatalf("%+v %v", o, err)
	}
	_ = fmt.Sprint()
}
