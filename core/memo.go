package core

import (
	"sync/atomic"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// This file keeps what the Guard derives from a verified token with the
// verifier's cache entry for that token, so a cache hit does not re-map the
// claims, re-build the principal's ID and go-sdk TokenInfo, or let an
// Authorizer re-build its per-principal state (issue 11: "compute once per
// verified token").

// TokenMemo is per-token storage shared by every Claims a caching verifier
// returns for one verified token. A verifier that caches sets
// Claims.Memo = new(TokenMemo) when it stores a token and hands out copies
// that share it; the Guard then maps the claims once per cache entry. A
// Claims without a Memo is mapped on every request. The zero value is ready;
// it is safe for concurrent use.
type TokenMemo struct {
	v      atomic.Pointer[tokenMemo]
	charge func(n int) bool
}

// NewTokenMemo returns a TokenMemo whose derived state counts against the
// byte bound of the cache that holds the token: before the Guard or an
// Authorizer keeps something with the token it calls charge with its size
// in bytes, and keeps nothing when charge returns false (the state is then
// derived per request). A negative n returns bytes charged by a value that
// was not kept. charge must be safe for concurrent use. A caching verifier
// uses it so that MaxBytes bounds the claims and everything derived from
// them; new(TokenMemo) keeps derived state uncharged.
func NewTokenMemo(charge func(n int) bool) *TokenMemo {
	return &TokenMemo{charge: charge}
}

// admit charges n bytes to the memo's cache; true when they may be kept.
func (t *TokenMemo) admit(n int) bool {
	return t.charge == nil || t.charge(n)
}

// refund returns n bytes charged for a value that was not kept.
func (t *TokenMemo) refund(n int) {
	if t.charge != nil {
		t.charge(-n)
	}
}

// memoOverhead approximates the fixed part of a tokenMemo (the struct, the
// principal, TokenInfo and the inline scopes) and of a memo slot.
const memoOverhead = 384

// MemoSizer is implemented by values an Authorizer keeps with
// [Principal.Memo] that can tell their size in bytes; others count as
// memoOverhead bytes.
type MemoSizer interface {
	MemoSize() int
}

// tokenMemo is what one Guard derived from one verified token. Everything
// in it is read-only once published.
type tokenMemo struct {
	owner  *Guard
	p      Principal
	pm     principalMemo
	id     string
	ti     auth.TokenInfo
	scopes [inlineScopes]string
}

// memoFor returns the principal state g derived from claims earlier, or
// derives it now (DefaultMapper only: a custom mapper may depend on more
// than the claims) and keeps it with claims.Memo. It returns nil when the
// claims have no memo, the mapper is not the default one, or another Guard
// owns the memo.
func (g *Guard) memoFor(c *Claims) *tokenMemo {
	if c.Memo == nil || !g.defaultMapper {
		return nil
	}
	if m := c.Memo.v.Load(); m != nil {
		if m.owner == g {
			return m
		}
		return nil
	}
	if checkDefaultClaims(c) != nil {
		return nil
	}
	m := &tokenMemo{owner: g}
	cc := *c // the memo keeps its own copy of the claims
	defaultMapInto(&cc, &m.p, m.scopes[:])
	m.pm.p = &m.p
	m.p.memo = &m.pm
	m.id = m.p.ID()
	m.pm.id = m.id
	m.ti = auth.TokenInfo{UserID: m.id, Scopes: m.p.Scopes, Expiration: cc.Expiry}
	m.pm.tm = c.Memo
	size := memoOverhead + len(m.id) + principalBytes(&m.p)
	if !c.Memo.admit(size) {
		return nil // the cache cannot hold it: map this request's claims afresh
	}
	if !c.Memo.v.CompareAndSwap(nil, m) {
		c.Memo.refund(size)
		return g.memoFor(c) // another request published first: use that one
	}
	return m
}

// principalBytes approximates the bytes p's strings, slices and attributes
// hold (its claims are accounted by the verifier's cache).
func principalBytes(p *Principal) int {
	n := len(p.Issuer) + len(p.Subject) + len(p.Tenant) + len(p.ClientID)
	for _, l := range [][]string{p.Scopes, p.Groups, p.Roles} {
		n += stringsBytes(l)
	}
	for k, v := range p.Attributes {
		n += 64 + len(k) // map slot, interface
		switch v := v.(type) {
		case string:
			n += len(v)
		case []string:
			n += stringsBytes(v)
		default:
			n += 32
		}
	}
	return n
}

func stringsBytes(l []string) int {
	n := 24
	for _, s := range l {
		n += 16 + len(s)
	}
	return n
}

// principalMemo holds one value an Authorizer derived from a principal that
// the Guard shares between the requests of one token ([Principal.Memo]).
type principalMemo struct {
	p    *Principal // the principal it belongs to: a copy of it gets none
	id   string     // p.ID(), set before p is published
	tm   *TokenMemo // charged for the slot's value
	slot atomic.Pointer[memoSlot]
}

type memoSlot struct {
	owner any
	val   any
}

// Memo returns the value compute returned for this principal and owner
// earlier, or calls compute now and keeps the value with the verified
// token's cache entry for the next requests of the same token. ok is false,
// and compute is not called, when the principal keeps nothing: one built
// by a mapper or copied from a cached one (the caller then derives what it
// needs itself), or one whose slot another owner took (one value per
// principal is kept, for the first owner; owner is an Authorizer,
// typically). compute must depend only on the principal and on the owner's
// fixed configuration. Principals shared through the cache are read-only.
func (p *Principal) Memo(owner any, compute func(*Principal) any) (v any, ok bool) {
	m := p.memo
	if m == nil || m.p != p {
		return nil, false
	}
	if s := m.slot.Load(); s != nil {
		return s.val, s.owner == owner
	}
	v = compute(p)
	size := memoOverhead
	if ms, ok := v.(MemoSizer); ok {
		size += ms.MemoSize()
	}
	if m.tm != nil && !m.tm.admit(size) {
		return v, true // the cache cannot hold it: used for this request only
	}
	if m.slot.CompareAndSwap(nil, &memoSlot{owner: owner, val: v}) {
		return v, true
	}
	if m.tm != nil {
		m.tm.refund(size)
	}
	s := m.slot.Load()
	return s.val, s.owner == owner
}
