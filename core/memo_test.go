package core

import (
	"context"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// memoVerifier is a caching verifier in miniature: every call returns a
// fresh copy of the same claims, sharing one TokenMemo per token.
type memoVerifier struct {
	mu sync.Mutex
	m  map[string]*Claims
}

func (v *memoVerifier) Verify(ctx context.Context, tok string) (*Claims, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	c, ok := v.m[tok]
	if !ok {
		got, err := fakeVerifier{}.Verify(ctx, tok)
		if err != nil {
			return nil, err
		}
		got.Memo = new(TokenMemo)
		v.m[tok] = got
		c = got
	}
	cp := *c
	return &cp, nil
}

// TestTokenMemo: requests with one cached token share the principal, its
// ID and the go-sdk TokenInfo, computed once; another token, another
// Guard, and a copy of the principal each get their own.
func TestTokenMemo(t *testing.T) {
	t.Parallel()
	v := &memoVerifier{m: map[string]*Claims{}}
	g := newGuard(t, func(c *Config) { c.Verifier = v })
	check := func(g *Guard, tok string) *Result {
		t.Helper()
		res, err := g.Check(context.Background(), post(tok, toolCall("ls")))
		if err != nil {
			t.Fatalf("Check(%s): %v", tok, err)
		}
		return res
	}
	a1, a2, b := check(g, tokAlice), check(g, tokAlice), check(g, tokBob)
	if a1.Principal != a2.Principal || a1.TokenInfo() != a2.TokenInfo() {
		t.Error("two requests with one cached token do not share the principal and TokenInfo")
	}
	if b.Principal == a1.Principal || b.Principal.Subject != "bob" {
		t.Errorf("bob's principal = %+v", b.Principal)
	}
	ti := auth.TokenInfoFromContext(a1.Context(context.Background()))
	if ti == nil || ti.UserID != a1.Principal.ID() || ti.Expiration.IsZero() || len(ti.Scopes) != 1 {
		t.Errorf("TokenInfo = %+v", ti)
	}
	// Without a memo the principal is mapped per request.
	plain := newGuard(t)
	if p1, p2 := check(plain, tokAlice).Principal, check(plain, tokAlice).Principal; p1 == p2 {
		t.Error("a principal without a TokenMemo is shared")
	}
	// A second Guard over the same verifier does not use the first's state.
	g2 := newGuard(t, func(c *Config) { c.Verifier = v })
	if p := check(g2, tokAlice).Principal; p == a1.Principal || p.ID() != a1.Principal.ID() {
		t.Error("a second Guard shares the first Guard's principal")
	}

	owner, other := new(int), new(int)
	calls := 0
	compute := func(p *Principal) any { calls++; return p.Subject + "!" }
	p := a1.Principal
	for range 3 {
		if v, ok := p.Memo(owner, compute); !ok || v != "alice!" {
			t.Fatalf("Memo = %v, %v", v, ok)
		}
	}
	if calls != 1 {
		t.Errorf("compute ran %d times, want 1", calls)
	}
	if _, ok := p.Memo(other, compute); ok || calls != 1 {
		t.Errorf("another owner got the slot (ok %v, calls %d)", ok, calls)
	}
	cp := *p
	cp.Subject = "mallory"
	if _, ok := cp.Memo(owner, compute); ok {
		t.Error("a modified copy of a cached principal reads the original's memo")
	}
	if _, ok := check(plain, tokAlice).Principal.Memo(owner, compute); ok {
		t.Error("a principal without a TokenMemo keeps a memo")
	}
}
