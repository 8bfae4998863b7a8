package core

import (
	"context"
	"errors"
	"time"
)

// Errors a SessionBindings implementation returns.
var (
	// ErrSessionLimit means the principal already holds the maximum number
	// of live sessions; the new binding was not made.
	ErrSessionLimit = errors.New("mcpauthz: too many live sessions for this principal")
	// ErrSessionBound means the session id is bound to another principal;
	// a binding is never overwritten.
	ErrSessionBound = errors.New("mcpauthz: session bound to another principal")
	// ErrStoreUnavailable means a shared store could not be reached or
	// answered garbage. The Guard fails closed (503) for requests that need
	// the store and keeps serving those that do not.
	ErrStoreUnavailable = errors.New("mcpauthz: store unavailable")
)

// SessionBindings is where the Guard keeps the binding of MCP session ids
// (Mcp-Session-Id) to the principal whose initialize created them. The
// default is in memory and per process; stores/redis shares the bindings
// across replicas. Implementations must be safe for concurrent use, bound
// their memory, and wrap ErrStoreUnavailable when their backend fails.
type SessionBindings interface {
	// Lookup returns the principal ID bound to sessionID, or "" when the
	// id is unbound or its binding expired.
	Lookup(ctx context.Context, sessionID string) (principalID string, err error)
	// Bind binds sessionID to principalID for ttl. It returns
	// ErrSessionBound when the id is bound to another live principal and
	// ErrSessionLimit when principalID already holds maxPerPrincipal live
	// sessions (maxPerPrincipal <= 0 means no per-principal cap).
	Bind(ctx context.Context, sessionID, principalID string, ttl time.Duration, maxPerPrincipal int) error
	// Touch extends an existing, live binding of sessionID to principalID
	// by ttl. It never creates a binding.
	Touch(ctx context.Context, sessionID, principalID string, ttl time.Duration) error
	// Unbind removes the binding of sessionID when it belongs to
	// principalID (on DELETE and when the MCP server's session ends).
	Unbind(ctx context.Context, sessionID, principalID string) error
}
