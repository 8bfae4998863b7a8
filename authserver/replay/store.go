package replay

import (
	"context"
	"errors"
	"time"
)

// Errors returned by Store implementations. Callers branch with errors.Is.
var (
	// ErrReplay: the key was already recorded and has not expired.
	ErrReplay = errors.New("replay: identifier already used")
	// ErrFull: the store cannot record another key right now. Callers must
	// deny the request (fail closed).
	ErrFull = errors.New("replay: store full")
	// ErrInvalidKey: the key is empty or longer than the store accepts.
	ErrInvalidKey = errors.New("replay: invalid key")
)

// Store records one-time identifiers.
//
// CheckAndStore atomically inserts key with expiry exp if no unexpired entry
// for key exists, and returns nil. If an unexpired entry exists it returns an
// error wrapping [ErrReplay] and leaves the entry unchanged. Any other
// failure (store full, backend unreachable, context cancelled) returns a
// non-nil error that the caller treats as a denial. Implementations must be
// safe for concurrent use: of many concurrent calls with the same key, at
// most one returns nil.
type Store interface {
	CheckAndStore(ctx context.Context, key string, exp time.Time) error
}

// Quarantiner is implemented by a [Store] that can lose recorded keys (a
// Redis failover, restart or flush) and then detects it and refuses every
// CheckAndStore for a quarantine, by when every key it lost would have
// expired anyway. Quarantine returns that duration. A server whose marks
// can live longer than it refuses to start (authserver.Config's
// ReplayMarkLifetime), since a lost mark could otherwise be redeemed
// again after the quarantine.
type Quarantiner interface {
	Quarantine() time.Duration
}
