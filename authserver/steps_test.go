package authserver

import (
	"context"
	"crypto"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/mcpauthz/mcpauthz/core"
)

// seqSteps is a GrantSteps over the in-memory limiter and replay store: it
// runs a batch step by one under a lock, as a shared store runs its
// script. hold, when set, runs before each batch is answered.
type seqSteps struct {
	*MemoryLimiter
	*replay.Memory
	mu      sync.Mutex
	hold    func()
	fail    error
	batches atomic.Int32
}

func (q *seqSteps) RunGrantSteps(ctx context.Context, steps []GrantStep) (GrantStepsResult, error) {
	q.batches.Add(1)
	if q.hold != nil {
		q.hold()
	}
	if q.fail != nil {
		return GrantStepsResult{}, q.fail
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, st := range steps {
		switch st.Kind {
		case StepCheckFailures:
			d, err := q.Peek(ctx, st.Key, st.Limit)
			if err != nil {
				return GrantStepsResult{}, err
			}
			if !d.Allowed {
				return GrantStepsResult{Refused: i, RetryAfter: d.RetryAfter}, nil
			}
			if !d.Idle {
				if g, err := q.Peek(ctx, st.GlobalKey, st.GlobalLimit); err != nil {
					return GrantStepsResult{}, err
				} else if !g.Allowed {
					return GrantStepsResult{Refused: i, RetryAfter: g.RetryAfter}, nil
				}
			}
		case StepCharge:
			d, err := q.Allow(ctx, st.Key, st.Limit)
			if err != nil {
				return GrantStepsResult{}, err
			}
			if !d.Allowed {
				return GrantStepsResult{Refused: i, RetryAfter: d.RetryAfter}, nil
			}
		case StepConsume:
			err := q.CheckAndStore(ctx, st.Key, st.Exp)
			if errors.Is(err, replay.ErrReplay) {
				return GrantStepsResult{Refused: i}, nil
			}
			if err != nil {
				return GrantStepsResult{}, err
			}
		}
	}
	return GrantStepsResult{Refused: -1}, nil
}

func newSeqSteps(now func() time.Time) *seqSteps {
	lim, _ := NewMemoryLimiter(MemoryLimiterConfig{Now: now})
	rs, _ := replay.NewMemory(replay.MemoryConfig{Now: now})
	return &seqSteps{MemoryLimiter: lim, Memory: rs}
}

// batched makes the server use a GrantSteps store (one batch per request,
// signing overlapped).
func batched(c *Config) {
	q := newSeqSteps(c.Now)
	c.RateLimiter, c.ReplayStore = q, q
}

// sendSteps is a GrantStepsSender over seqSteps. SendGrantSteps records
// how many tokens had been signed when the batch was sent; the batch is
// answered when it is waited for.
type sendSteps struct {
	*seqSteps
	signer     *signalSigner // OPTIONAL
	sentAfter  atomic.Int32  // signatures made before the last send
	waitedWith atomic.Int32  // signatures made before the last wait
}

func (q *sendSteps) SendGrantSteps(ctx context.Context, steps []GrantStep) func() (GrantStepsResult, error) {
	if q.signer != nil {
		q.sentAfter.Store(q.signer.n.Load())
	}
	return func() (GrantStepsResult, error) {
		if q.signer != nil {
			q.waitedWith.Store(q.signer.n.Load())
		}
		return q.RunGrantSteps(ctx, steps)
	}
}

// sent makes the server use a GrantStepsSender.
func sent(c *Config) {
	q := &sendSteps{seqSteps: newSeqSteps(c.Now)}
	c.RateLimiter, c.ReplayStore = q, q
}

// stepModes runs f with the default stores and with a GrantSteps store
// (also one that sends its batch before the token is signed): all must
// give the same answers.
func stepModes(t *testing.T, f func(t *testing.T, mode func(*Config))) {
	for _, m := range []struct {
		name string
		mode func(*Config)
	}{{"separate", func(*Config) {}}, {"batched", batched}, {"batched, signing meanwhile", and(batched, func(c *Config) { c.SignWhileStoring = true })}, {"sent before signing", sent}} {
		t.Run(m.name, func(t *testing.T) { t.Parallel(); f(t, m.mode) })
	}
}

func and(fs ...func(*Config)) func(*Config) {
	return func(c *Config) {
		for _, f := range fs {
			f(c)
		}
	}
}

func TestServerUsesGrantStepsOnlyWhenOneValue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, batched)
	if e.s.steps == nil {
		t.Fatal("one GrantSteps value as ReplayStore and RateLimiter is not used")
	}
	e = newEnv(t, func(c *Config) {
		batched(c)
		c.ReplayStore = newSeqSteps(c.Now) // another store
	})
	if e.s.steps != nil {
		t.Fatal("GrantSteps used although the replay store is another value")
	}
}

// signalSigner counts its signatures and reports each on signed (when set,
// buffered).
type signalSigner struct {
	crypto.Signer
	signed chan struct{}
	n      atomic.Int32
}

func (s *signalSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	sig, err := s.Signer.Sign(r, d, o)
	s.n.Add(1)
	if s.signed != nil {
		s.signed <- struct{}{}
	}
	return sig, err
}

// A token signed while the store is asked is never returned when the store
// then refuses (replay, limit) or fails: the answer waits for the store.
func TestRefusedStepNeverYieldsToken(t *testing.T) {
	t.Parallel()
	var q *seqSteps
	sig := &signalSigner{signed: make(chan struct{}, 16)}
	e := newEnv(t, func(c *Config) {
		batched(c)
		q = c.ReplayStore.(*seqSteps)
		sig.Signer = c.SigningKeys[0].Signer
		c.SigningKeys[0].Signer = sig
		c.RateLimit = RateLimit{PerSecond: 1, Burst: 2}
		c.SignWhileStoring = true
	})
	// Each batch is answered only once the access token of its request has
	// been signed.
	q.hold = func() {
		select {
		case <-sig.signed:
		case <-time.After(10 * time.Second):
			t.Error("the token was not signed while the store was asked")
		}
	}
	jag := mint(t, idpKey, TypeIDJAG, e.idjagClaims())
	grant := req{body: form("grant_type", GrantJWTBearer, "assertion", jag), basic: [2]string{testSecretID, testSecret}}
	res := decodeResult(t, e.do(grant))
	if res.status != 200 || res.tok == nil || res.tok.AccessToken == "" {
		t.Fatalf("first redemption: %d %s", res.status, res.body)
	}
	w := e.do(grant) // replay: signed, then refused
	if w.Code != 400 || strings.Contains(w.Body.String(), "access_token") || !strings.Contains(w.Body.String(), "invalid_grant") {
		t.Fatalf("replay: %d %s", w.Code, w.Body)
	}
	if n := sig.n.Load(); n != 2 {
		t.Fatalf("%d signatures, want 2 (the replay's token was signed and dropped)", n)
	}
	if strings.Count(e.logs.String(), `"outcome":"granted"`) != 1 {
		t.Fatalf("audit records more than one grant:\n%s", e.logs)
	}
	// Over the grant limit (burst 2): signed, refused with 429.
	fresh := req{body: form("grant_type", GrantJWTBearer, "assertion", mint(t, idpKey, TypeIDJAG, e.idjagClaims())), basic: grant.basic}
	if w := e.do(fresh); w.Code != 429 || strings.Contains(w.Body.String(), "access_token") {
		t.Fatalf("over the limit: %d %s", w.Code, w.Body)
	}
	// Store down: 503, no token.
	e.clock.Add(time.Hour)
	q.fail = core.ErrStoreUnavailable
	fresh = req{body: form("grant_type", GrantJWTBearer, "assertion", mint(t, idpKey, TypeIDJAG, e.idjagClaims())), basic: grant.basic}
	if w := e.do(fresh); w.Code != 503 || strings.Contains(w.Body.String(), "access_token") {
		t.Fatalf("store down: %d %s", w.Code, w.Body)
	}
	if n := q.batches.Load(); n != 4 {
		t.Fatalf("%d batches for 4 requests, want one each", n)
	}
}

// Replays of an ID-JAG and of a client assertion get the same answers with
// and without a GrantSteps store; a replayed assertion counts as a failed
// authentication.
func TestReplayAnswersInBothModes(t *testing.T) {
	stepModes(t, func(t *testing.T, mode func(*Config)) {
		e := newEnv(t, and(limited(RateLimit{FailedAuthPerSecond: 1, FailedAuthBurst: 1}), mode))
		jag := mint(t, idpKey, TypeIDJAG, e.idjagClaims())
		grant := req{body: form("grant_type", GrantJWTBearer, "assertion", jag), basic: [2]string{testSecretID, testSecret}}
		if w := e.do(grant); w.Code != 200 {
			t.Fatalf("first: %d %s", w.Code, w.Body)
		}
		res := decodeResult(t, e.do(grant))
		if res.status != 400 || res.err != "invalid_grant" {
			t.Fatalf("ID-JAG replay: %d %s", res.status, res.body)
		}
		a := mint(t, clientKey, "", e.assertionClaims())
		cc := req{body: form("grant_type", GrantClientCredentials, "client_assertion_type", AssertionTypeJWTBearer, "client_assertion", a)}
		if w := e.do(cc); w.Code != 200 {
			t.Fatalf("assertion: %d %s", w.Code, w.Body)
		}
		res = decodeResult(t, e.do(cc))
		if res.status != 401 || res.err != "invalid_client" {
			t.Fatalf("assertion replay: %d %s", res.status, res.body)
		}
		// the replay used up the pair's one failure: a fresh assertion
		// from the same source is throttled
		fresh := req{body: form("grant_type", GrantClientCredentials, "client_assertion_type", AssertionTypeJWTBearer,
			"client_assertion", mint(t, clientKey, "", e.assertionClaims()))}
		if w := e.do(fresh); w.Code != 429 {
			t.Fatalf("after a replayed assertion: %d %s", w.Code, w.Body)
		}
	})
}

// By default the token is signed only after the store has answered.
func TestSignAfterStoreByDefault(t *testing.T) {
	t.Parallel()
	var q *seqSteps
	sig := &signalSigner{}
	e := newEnv(t, func(c *Config) {
		batched(c)
		q = c.ReplayStore.(*seqSteps)
		sig.Signer = c.SigningKeys[0].Signer
		c.SigningKeys[0].Signer = sig
	})
	var during atomic.Int32
	q.hold = func() { during.Store(sig.n.Load()) }
	jag := mint(t, idpKey, TypeIDJAG, e.idjagClaims())
	grant := req{body: form("grant_type", GrantJWTBearer, "assertion", jag), basic: [2]string{testSecretID, testSecret}}
	if w := e.do(grant); w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	if w := e.do(grant); w.Code != 400 {
		t.Fatalf("replay: %d %s", w.Code, w.Body)
	}
	if sig.n.Load() != 1 || during.Load() != 1 {
		t.Fatalf("%d signatures (%d while the store answered the replay), want 1 and 1", sig.n.Load(), during.Load())
	}
}

// With a GrantStepsSender the batch is sent before the access token is
// signed and answered after, on the request's goroutine; a token signed
// for a refused (replay, limit) or failed batch is never returned.
func TestSentStepsSignedBetween(t *testing.T) {
	t.Parallel()
	var q *sendSteps
	sig := &signalSigner{}
	e := newEnv(t, func(c *Config) {
		sent(c)
		q = c.ReplayStore.(*sendSteps)
		q.signer = sig
		sig.Signer = c.SigningKeys[0].Signer
		c.SigningKeys[0].Signer = sig
		c.RateLimit = RateLimit{PerSecond: 1, Burst: 2}
	})
	jag := mint(t, idpKey, TypeIDJAG, e.idjagClaims())
	grant := req{body: form("grant_type", GrantJWTBearer, "assertion", jag), basic: [2]string{testSecretID, testSecret}}
	fresh := func() req {
		return req{body: form("grant_type", GrantJWTBearer, "assertion", mint(t, idpKey, TypeIDJAG, e.idjagClaims())), basic: grant.basic}
	}
	tests := []struct {
		name   string
		r      func() req
		before func()
		code   int
		errc   string
	}{
		{"first redemption", func() req { return grant }, nil, 200, ""},
		{"replay", func() req { return grant }, nil, 400, "invalid_grant"},
		{"over the limit", fresh, nil, 429, ""},
		{"store down", fresh, func() { e.clock.Add(time.Hour); q.fail = core.ErrStoreUnavailable }, 503, ""},
	}
	for i, tc := range tests {
		if tc.before != nil {
			tc.before()
		}
		w := e.do(tc.r())
		if w.Code != tc.code || (tc.code != 200) == strings.Contains(w.Body.String(), "access_token") || !strings.Contains(w.Body.String(), tc.errc) {
			t.Fatalf("%s: %d %s", tc.name, w.Code, w.Body)
		}
		if s, wt := q.sentAfter.Load(), q.waitedWith.Load(); s != int32(i) || wt != int32(i+1) {
			t.Fatalf("%s: sent after %d and answered after %d signatures, want %d and %d", tc.name, s, wt, i, i+1)
		}
	}
	if n := q.batches.Load(); n != 4 {
		t.Fatalf("%d batches for 4 requests, want one each", n)
	}
	if strings.Count(e.logs.String(), `"outcome":"granted"`) != 1 {
		t.Fatalf("audit records more than one grant:\n%s", e.logs)
	}
}
