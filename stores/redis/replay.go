package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
)

// ReplayStore is a [replay.Store] on Redis: one SET NX PX per key, so of
// any number of concurrent uses of one identifier on any number of replicas
// exactly one succeeds. Keys are the server's "<kind>|<issuer or
// client>|<jti>" strings, stored hashed.
type ReplayStore struct{ base }

var _ replay.Store = (*ReplayStore)(nil)

// NewReplayStore returns a ReplayStore.
func NewReplayStore(cfg Config) (*ReplayStore, error) {
	b, err := newBase(cfg)
	if err != nil {
		return nil, err
	}
	return &ReplayStore{b}, nil
}

// CheckAndStore implements [replay.Store]. The key expires at exp (rounded
// up to the millisecond). A key with exp not in the future is accepted
// without being stored, as replay.Memory does. Errors wrap replay.ErrReplay,
// replay.ErrInvalidKey or core.ErrStoreUnavailable.
func (s *ReplayStore) CheckAndStore(ctx context.Context, key string, exp time.Time) error {
	if key == "" || len(key) > 4096 {
		return fmt.Errorf("%w: length %d", replay.ErrInvalidKey, len(key))
	}
	ttl := time.Until(exp)
	if ttl <= 0 {
		return nil
	}
	ttl = ttl.Truncate(time.Millisecond) + time.Millisecond
	ctx, cancel := s.ctx(ctx)
	defer cancel()
	ok, err := s.c.SetNX(ctx, s.key("jti", key), 1, ttl).Result()
	if err != nil {
		return unavailable("SET NX", err)
	}
	if !ok {
		return replay.ErrReplay
	}
	return nil
}
