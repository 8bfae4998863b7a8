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
	v atomic.Pointer[tokenMemo]
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
	m.ti = auth.TokenInfo{UserID: m.id, Scopes: m.p.Scopes, Expiration: cc.Expiry}
	if !c.Memo.v.CompareAndSwap(nil, m) {
		return g.memoFor(c) // another request published first: use that one
	}
	return m
}

// principalMemo holds one value an Authorizer derived from a principal that
// the Guard shares between the requests of one token ([Principal.Memo]).
type principalMemo struct {
	p    *Principal // the principal it belongs to: a copy of it gets none
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
	if m.slot.CompareAndSwap(nil, &memoSlot{owner: owner, val: v}) {
		return v, true
	}
	s := m.slot.Load()
	return s.val, s.owner == owner
}
