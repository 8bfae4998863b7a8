package redisstore

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/redis/go-redis/v9"
)

// TestRefreshRetriedSendIsNotAReuse: go-redis sends a command again on a
// new connection after a read timeout (ReadTimeout 500 ms, MaxRetries 1,
// within Config.Timeout), and when Redis only stalled (a fork, an fsync,
// a paused VM; here SIGSTOP for 700 ms) the first send runs too. A
// rotation run twice took its own token for a reuse and revoked the
// family of a legitimate refresh (the client got invalid_grant, the
// server logged a reuse), and a Save run twice answered "family exists"
// (503) for a family it had saved. Each script now recognises its own
// earlier run by the fresh secret hash, which only the caller knows.
func TestRefreshRetriedSendIsNotAReuse(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	c := srv.client(t)
	s, err := NewRefreshStore(RefreshConfig{Config: Config{Client: c, Prefix: "{retried}:", Timeout: 3 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	fam := func(id string) authserver.RefreshFamily {
		return authserver.RefreshFamily{ID: id, ClientID: "app", Subject: "alice", Created: now, LastUsed: now}
	}
	// Load the scripts, so that the stalled sends are EVALSHA that run.
	if err := s.Save(ctx, rtok("warm", 1), fam("warm")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rotate(ctx, rtok("warm", 1), rsec("warm", 2), now); err != nil {
		t.Fatal(err)
	}
	stalled := func(f func() error) (bool, error) { return stalledCall(t, srv, c, f) }
	twice, err := stalled(func() error { return s.Save(ctx, rtok("h", 1), fam("f")) })
	if err != nil {
		t.Fatalf("Save with Redis stalled: %v", err)
	}
	t.Logf("save sent twice: %v", twice)
	twice, err = stalled(func() error {
		_, err := s.Rotate(ctx, rtok("h", 1), rsec("h", 2), time.Now())
		return err
	})
	if err != nil {
		t.Fatalf("Rotate with Redis stalled: %v", err)
	}
	t.Logf("rotate sent twice: %v", twice)
	if _, err := s.Peek(ctx, rtok("h", 2)); err != nil {
		t.Fatalf("the rotated token: %v", err)
	}
	// The token rotated away is still a reuse, and revokes the family.
	if _, err := s.Rotate(ctx, rtok("h", 1), rsec("h", 3), time.Now()); !errors.Is(err, authserver.ErrRefreshReused) {
		t.Fatalf("Rotate of the spent token: %v, want a reuse", err)
	}
	if _, err := s.Peek(ctx, rtok("h", 2)); !errors.Is(err, authserver.ErrRefreshUnknown) {
		t.Fatalf("after the reuse: %v, want the family revoked", err)
	}
}

// stalledCall runs f while the Redis of srv is frozen (SIGSTOP) for
// 700 ms, between go-redis's ReadTimeout (500 ms) and the stores' Timeout
// in these tests (3 s), and reports whether f's script was sent twice
// (EVALSHA calls, INFO commandstats read through c). The stall starts
// before f (SIGSTOP is sent: Redis runs no instruction of its own after
// kill returns, a pending signal is handled before it returns to user
// space) and ends 700 ms after f started. It was timed with two racing
// sleeps (the stop 50 ms into a goroutine, f 100 ms into the caller): on
// a loaded machine the goroutine ran late and f's script ran before the
// stall, once ("the stall did not exercise the resend"; with the stop
// moved to 400 ms, every run).
func stalledCall(t *testing.T, srv *redisServer, c *redis.Client, f func() error) (bool, error) {
	t.Helper()
	pid := redisPID(t, srv)
	evalsha := func() int64 {
		v, err := c.Do(context.Background(), "INFO", "commandstats").Text()
		if err != nil {
			t.Fatal(err)
		}
		return commandCalls(v, "evalsha")
	}
	before := evalsha()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(700 * time.Millisecond)
		if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
			t.Error(err)
		}
	}()
	err := f()
	<-done
	return evalsha()-before > 1, err
}

// TestReplayRetriedSendIsNotAReplay: the same resend (see
// TestRefreshRetriedSendIsNotAReuse) of a one-time use's script found the
// mark its first send had just set and answered a replay: a legitimate
// ID-JAG, client assertion or authorization code was refused (a code
// then also took the code-replay path, which revokes what the code
// produced). Each mark now holds its call's token, so the call sent again
// finds its own mark; any other call, the next one included, is still a
// replay.
func TestReplayRetriedSendIsNotAReplay(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	c := srv.client(t)
	gs, err := NewGrantStore(ctx, ReplayConfig{Config: Config{Client: c, Prefix: "{replayretry}:", Timeout: 3 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Minute)
	consume := func(key string) error {
		res, err := gs.RunGrantSteps(ctx, []authserver.GrantStep{{Kind: authserver.StepConsume, Key: key, Exp: exp}})
		if err == nil && res.Refused != -1 {
			return replay.ErrReplay
		}
		return err
	}
	// Load the scripts, so that the stalled sends are EVALSHA that run.
	if err := gs.CheckAndStore(ctx, "warm|a", exp); err != nil {
		t.Fatal(err)
	}
	if err := consume("warm|b"); err != nil {
		t.Fatal(err)
	}
	for name, use := range map[string]func(string) error{
		"CheckAndStore": func(k string) error { return gs.CheckAndStore(ctx, k, exp) },
		"grant steps":   consume,
	} {
		key := "idjag|i|" + name
		twice, err := stalledCall(t, srv, c, func() error { return use(key) })
		if err != nil {
			t.Fatalf("%s with Redis stalled: %v", name, err)
		}
		t.Logf("%s sent twice: %v", name, twice)
		for other, again := range map[string]func(string) error{
			"CheckAndStore": func(k string) error { return gs.CheckAndStore(ctx, k, exp) },
			"grant steps":   consume,
		} {
			if err := again(key); !errors.Is(err, replay.ErrReplay) {
				t.Fatalf("%s, then %s of the same key: %v, want a replay", name, other, err)
			}
		}
	}
}

// commandCalls reads the calls of cmd from INFO commandstats.
func commandCalls(info, cmd string) int64 {
	for _, l := range strings.Split(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(l), "cmdstat_"+cmd+":calls=")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(rest[:strings.IndexByte(rest+",", ',')], 10, 64)
		return n
	}
	return 0
}

// TestClientRegisterRetriedSend: the same resend of a dynamic client
// registration found the record its first send had just stored and
// answered "id exists", so the registration failed while the client was
// stored. The call key holds the storing call's token: the call sent
// again answers stored; any other call, the same client registered again
// included (authserver/storetest's contract), is still refused.
func TestClientRegisterRetriedSend(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	c := srv.client(t)
	cs, err := NewClientStore(ClientConfig{Config: Config{Client: c, Prefix: "{regretry}:", Timeout: 3 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	reg := func(id string) authserver.RegisteredClient {
		return authserver.RegisteredClient{ID: id, AuthMethod: authserver.AuthNone,
			GrantTypes: []string{authserver.GrantAuthorizationCode}, RedirectURIs: []string{"http://127.0.0.1/cb"}}
	}
	if err := cs.Register(ctx, reg("warm")); err != nil { // loads the script
		t.Fatal(err)
	}
	twice, err := stalledCall(t, srv, c, func() error { return cs.Register(ctx, reg("dcr-stalled")) })
	if err != nil {
		t.Fatalf("Register with Redis stalled: %v", err)
	}
	if !twice {
		t.Fatal("the register script was sent once: the stall did not exercise the resend")
	}
	other := reg("dcr-stalled")
	other.RedirectURIs = []string{"http://127.0.0.1/other"}
	for name, rc := range map[string]authserver.RegisteredClient{"same client": reg("dcr-stalled"), "another record": other} {
		if err := cs.Register(ctx, rc); !errors.Is(err, errClientExists) {
			t.Fatalf("%s registered again under a stored id: %v", name, err)
		}
	}
	if got, err := cs.Client(ctx, "dcr-stalled"); err != nil || got.RedirectURIs[0] != "http://127.0.0.1/cb" {
		t.Fatalf("the stored client: %+v %v", got, err)
	}
}

// TestChargeRetriedSendChargesOnce: the same resend (see
// TestRefreshRetriedSendIsNotAReuse) of a grant's steps, or of a
// Limiter's Allow, ran its charges twice: a client with a burst of 2
// that made one request during a Redis stall was refused its second.
// The call's token (markTokens) now names a short-lived record of the
// first run's answer, which the call sent again returns without charging;
// any other call is charged.
func TestChargeRetriedSendChargesOnce(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	ctx := context.Background()
	c := srv.client(t)
	cfg := Config{Client: c, Prefix: "{chargeretry}:", Timeout: 3 * time.Second}
	gs, err := NewGrantStore(ctx, ReplayConfig{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	lim, err := NewLimiter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	limit := authserver.Limit{PerSecond: 1.0 / 3600, Burst: 2}
	exp := time.Now().Add(time.Minute)
	steps := func(key string) func() (bool, error) {
		return func() (bool, error) {
			res, err := gs.RunGrantSteps(ctx, []authserver.GrantStep{
				{Kind: authserver.StepCharge, Key: key, Limit: limit},
				{Kind: authserver.StepConsume, Key: "jti|" + key + "|" + strconv.FormatInt(time.Now().UnixNano(), 10), Exp: exp},
			})
			return err == nil && res.Refused == -1, err
		}
	}
	allow := func(key string) func() (bool, error) {
		return func() (bool, error) {
			d, err := lim.Allow(ctx, key, limit)
			return d.Allowed, err
		}
	}
	// Load the scripts, so that the stalled sends are EVALSHA that run.
	for _, warm := range []func() (bool, error){steps("warm"), allow("warm-allow")} {
		if ok, err := warm(); !ok || err != nil {
			t.Fatalf("warm-up: %v %v", ok, err)
		}
	}
	for name, call := range map[string]func(string) func() (bool, error){"grant steps": steps, "Allow": allow} {
		key := "client|" + name
		var ok bool
		twice, err := stalledCall(t, srv, c, func() (err error) { ok, err = call(key)(); return err })
		if err != nil || !ok {
			t.Fatalf("%s with Redis stalled: %v %v", name, ok, err)
		}
		if !twice {
			t.Fatalf("%s: the script was sent once: the stall did not exercise the resend", name)
		}
		if ok, err := call(key)(); !ok || err != nil {
			t.Fatalf("%s: the second call of a burst of 2 after a resent first: %v %v, want allowed", name, ok, err)
		}
		if ok, err := call(key)(); ok || err != nil {
			t.Fatalf("%s: the third call of a burst of 2: %v %v, want refused", name, ok, err)
		}
	}
}
