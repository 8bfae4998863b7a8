package core

import (
	"context"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// This file keeps the allowed request's path to few allocations and few
// bytes: the Result is the only object Check allocates (Serve embeds it in
// its own per-request allocation, and Result.Context derives the request
// context from it without another allocation); with the verifier's token
// memo the principal is the one derived when the token was first seen; and
// what Check needs only while it runs (the inspection with its
// inspect.Request, and Serve's body reader) is a pooled checkScratch;
// Serve's Request is on its stack.

// checkScratch is the state Check needs only while it runs. It goes back
// to the pool only after an allowed request, zeroed once by putScratch so
// that it holds no reference into the request (inspect.InspectInto then
// finds its Request zero and does not clear it again); after a refusal it
// is left to the collector, because the refusal may point into it.
type checkScratch struct {
	body httpBody // Serve's BodyReader
	ins  inspection
}

// nameRoom is the room for a target name in a per-request allocation
// (httpState, resultBox): a single tools/call, prompts/get or completion's
// name of up to nameRoom bytes, without escapes, is kept there instead of
// in a string of its own. A longer name is allocated as before.
const nameRoom = 32

// resultBox is Check's one allocation: the Result and room for the target
// name. Like the Result it is never reused, so the name's bytes, written
// once before any string points into them, never change while referenced.
type resultBox struct {
	res  Result
	name [nameRoom]byte
}

var scratchPool = sync.Pool{New: func() any { return new(checkScratch) }}

func getScratch() *checkScratch { return scratchPool.Get().(*checkScratch) }

// putScratch zeroes sc and returns it to the pool.
func putScratch(sc *checkScratch) {
	*sc = checkScratch{}
	scratchPool.Put(sc)
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
	res.ctx.Context, res.ctx.p = parent, res.Principal
	if res.ctx.tiKey != nil {
		res.TokenInfo() // sets res.ctx.ti
	}
	return &res.ctx
}

// principalCtx is WithPrincipal's context node, embeddable in a Result. In
// a Result it also answers the go-sdk's TokenInfo key (see sdkcontext.go).
type principalCtx struct {
	context.Context
	p     *Principal
	tiKey any             // nil: no TokenInfo
	ti    *auth.TokenInfo // set whenever tiKey is
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
