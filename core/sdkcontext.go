package core

import (
	"context"
	"reflect"

	"github.com/modelcontextprotocol/go-sdk/auth"
)

// This file hands the go-sdk its auth.TokenInfo through the same context
// node that carries the principal, so the SDK's session binding and
// req.Extra.TokenInfo work without the SDK's own bearer middleware (which
// parses the Authorization header again and adds a second context node).

// keyProbe is a context that records the first key it is asked for.
type keyProbe struct {
	context.Context
	key any
}

func (k *keyProbe) Value(key any) any {
	if k.key == nil {
		k.key = key
	}
	return nil
}

// sdkTokenInfoKey returns the context key under which
// auth.TokenInfoFromContext looks for the TokenInfo, learnt by asking it
// once, and nil when the key cannot be learnt or does not round-trip (then
// adapters fall back to the SDK's auth.RequireBearerToken).
func sdkTokenInfoKey() any {
	p := &keyProbe{Context: context.Background()}
	_ = auth.TokenInfoFromContext(p)
	if p.key == nil || !reflect.TypeOf(p.key).Comparable() {
		return nil
	}
	ti := &auth.TokenInfo{}
	c := &principalCtx{Context: context.Background(), tiKey: p.key, ti: ti}
	if auth.TokenInfoFromContext(c) != ti {
		return nil
	}
	return p.key
}

// newTokenInfo is the go-sdk view of p: UserID = p.ID() (the SDK refuses a
// session presented by another user), Scopes, Expiration.
func newTokenInfo(p *Principal, id string) *auth.TokenInfo {
	ti := &auth.TokenInfo{UserID: id, Scopes: p.Scopes}
	if p.Claims != nil {
		ti.Expiration = p.Claims.Expiry
	}
	return ti
}

// TokenInfo returns the go-sdk auth.TokenInfo of the request's principal
// (UserID = Principal.ID(), Scopes, Expiration). The context returned by
// [Result.Context] already carries it for auth.TokenInfoFromContext; this is
// for adapters that build their own context. It is shared between requests
// of the same token: treat it as read-only.
func (res *Result) TokenInfo() *auth.TokenInfo {
	if res == nil {
		return nil
	}
	if res.ctx.ti == nil {
		res.ctx.ti = newTokenInfo(res.Principal, res.principalID())
	}
	return res.ctx.ti
}
