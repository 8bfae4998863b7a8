package core

import "context"

// This file keeps the allowed request's path to few allocations: Check
// allocates one checkState holding the Result, the inspection (with the
// inspect.Request itself) and (with DefaultMapper) the principal, Serve
// embeds that state in its own per-request allocation, and Result.Context
// derives the request context from it without another allocation.

// checkState is the single allocation behind an allowed request.
type checkState struct {
	res Result
	ins inspection
}

// state returns the checkState inside ms, or a new one when ms is nil.
func (ms *mappedState) state() *checkState {
	if ms == nil {
		return &checkState{}
	}
	return &ms.checkState
}

// mappedState is checkState with room for the principal DefaultMapper
// builds in place.
type mappedState struct {
	checkState
	p      Principal
	scopes [inlineScopes]string
}

// Context returns a context derived from parent that carries the request's
// principal, exactly as WithPrincipal(parent, res.Principal) does:
// core.PrincipalFromContext finds it, and every other value, deadline and
// cancellation comes from parent. The first call uses a context node stored
// in the Result and does not allocate; later calls fall back to
// WithPrincipal. A nil Result returns parent (which carries no principal
// unless parent did). Like the rest of a Result, it is meant for the
// request's own goroutine.
func (res *Result) Context(parent context.Context) context.Context {
	if res == nil {
		return parent
	}
	if res.ctx.Context != nil {
		return WithPrincipal(parent, res.Principal)
	}
	res.ctx = principalCtx{Context: parent, p: res.Principal}
	if res.tiKey != nil {
		res.ctx.tiKey, res.ctx.ti = res.tiKey, res.TokenInfo()
	}
	return &res.ctx
}

// principalCtx is WithPrincipal's context node, embeddable in a Result. In
// a Result it also answers the go-sdk's TokenInfo key (see sdkcontext.go).
type principalCtx struct {
	context.Context
	p     *Principal
	tiKey any // nil: no TokenInfo
	ti    any // *auth.TokenInfo
}

// Value answers the principal key (and the go-sdk TokenInfo key) itself and
// asks the parent for the rest, so context.WithCancel and friends still
// find the parent's cancellation.
func (c *principalCtx) Value(key any) any {
	if _, ok := key.(principalKey); ok {
		return c.p
	}
	if c.tiKey != nil && key == c.tiKey {
		return c.ti
	}
	return c.Context.Value(key)
}

// String names the node like context.WithValue's, without the principal.
func (c *principalCtx) String() string { return "core.WithPrincipal" }
