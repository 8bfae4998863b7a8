package authserver

import (
	"container/list"
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// ErrClientUnknown is returned by [ClientStore.Client] for a client it
// does not hold (never registered, forgotten when idle, or evicted). The
// token endpoint answers it exactly as for any unknown client (401).
var ErrClientUnknown = errors.New("authserver: unknown registered client")

// ErrRegistrationFull is returned by [ClientStore.Register] when the store
// is full of clients it may not evict; registration answers 503.
var ErrRegistrationFull = errors.New("authserver: registered clients fill the store")

// RegisteredClient is a client registered through RFC 7591 dynamic
// registration, as a [ClientStore] keeps it. The server re-applies the
// current Registration policy on every lookup: grants, scopes and redirect
// URIs the policy no longer allows are dropped, and resources are the
// policy's. It holds no secret, only its hash.
type RegisteredClient struct {
	ID           string    `json:"client_id"`
	SecretHash   string    `json:"secret_hash,omitempty"` // HashSecret format; "" for a public client
	AuthMethod   string    `json:"token_endpoint_auth_method"`
	GrantTypes   []string  `json:"grant_types"`
	Scopes       []string  `json:"scopes,omitempty"`
	RedirectURIs []string  `json:"redirect_uris"`
	Name         string    `json:"client_name,omitempty"`
	IssuedAt     time.Time `json:"issued_at"`
}

// size is what a registered client costs a store: its strings plus a
// fixed overhead. A registration request is at most
// MaxRegistrationRequestBytes, so a client is at most about 9 KiB.
func (c *RegisteredClient) size() int64 {
	n := 512 + len(c.ID) + len(c.SecretHash) + len(c.AuthMethod) + len(c.Name)
	for _, l := range [][]string{c.GrantTypes, c.Scopes, c.RedirectURIs} {
		for _, s := range l {
			n += len(s) + 16
		}
	}
	return int64(n)
}

// ClientStore keeps dynamically registered clients. Replicas behind one
// issuer share one (stores/redis's ClientStore), so that a client
// registered at one replica is known at all of them. Implementations are
// safe for concurrent use. An error other than ErrClientUnknown and
// ErrRegistrationFull means the store is unavailable: registration answers
// 503 and a client that cannot be looked up is refused (503), never
// accepted.
type ClientStore interface {
	// Register stores a new client (its ID is new). When the store is
	// full it may evict a client that never completed a login (MarkUsed);
	// when it cannot, it returns ErrRegistrationFull.
	Register(ctx context.Context, c RegisteredClient) error
	// Client returns the client with id. A lookup is not a use (anyone
	// can make one, e.g. with /authorize): it does not restart the idle
	// lifetime. Unknown ids return ErrClientUnknown. The slices of the
	// result must not be modified.
	Client(ctx context.Context, id string) (RegisteredClient, error)
	// MarkUsed records an authenticated use of the client (a code or a
	// refresh token was redeemed): it protects the client from eviction
	// by newer registrations and restarts its idle lifetime; the client
	// is forgotten after the idle lifetime without one. Unknown ids are
	// not an error.
	MarkUsed(ctx context.Context, id string) error
}

// MemoryClientStoreConfig configures [NewMemoryClientStore].
type MemoryClientStoreConfig struct {
	// MaxBytes bounds the memory held by clients. OPTIONAL; zero means
	// DefaultRegistrationMaxBytes (4 MiB). When full, expired clients are
	// dropped, then the oldest client that never completed a login; when
	// every client has, Register returns ErrRegistrationFull.
	MaxBytes int64
	// IdleLifetime forgets a client without a use (MarkUsed; registration
	// counts as one) for this long.
	// OPTIONAL; zero means DefaultRegistrationIdleLifetime (30 days).
	IdleLifetime time.Duration
	// Now is the clock. OPTIONAL; nil means time.Now.
	Now func() time.Time
}

// MemoryClientStore is the default [ClientStore]: clients in this
// process's memory, bounded in bytes. It is correct for a single instance
// only; replicas share stores/redis's ClientStore.
type MemoryClientStore struct {
	mu    sync.Mutex
	max   int64
	idle  time.Duration
	now   func() time.Time
	bytes int64
	byID  map[string]*list.Element // → *regEntry
	order *list.List               // registration order, oldest at the back
}

type regEntry struct {
	c        RegisteredClient
	size     int64
	lastUsed time.Time
	used     bool
}

var _ ClientStore = (*MemoryClientStore)(nil)

// NewMemoryClientStore returns an empty MemoryClientStore.
func NewMemoryClientStore(cfg MemoryClientStoreConfig) (*MemoryClientStore, error) {
	if cfg.MaxBytes < 0 || cfg.IdleLifetime < 0 {
		return nil, cfgErr("registration", "max_bytes and idle_lifetime must not be negative")
	}
	m := &MemoryClientStore{max: cfg.MaxBytes, idle: cfg.IdleLifetime, now: cfg.Now,
		byID: map[string]*list.Element{}, order: list.New()}
	if m.max == 0 {
		m.max = DefaultRegistrationMaxBytes
	}
	if m.idle == 0 {
		m.idle = DefaultRegistrationIdleLifetime
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

// Register implements [ClientStore].
func (m *MemoryClientStore) Register(_ context.Context, c RegisteredClient) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if m.byID[c.ID] != nil {
		return errors.New("authserver: client id registered twice")
	}
	size := c.size()
	if m.bytes+size > m.max {
		m.pruneLocked(now)
	}
	for m.bytes+size > m.max {
		var victim *list.Element
		for e := m.order.Back(); e != nil; e = e.Prev() {
			if !e.Value.(*regEntry).used {
				victim = e
				break
			}
		}
		if victim == nil {
			return ErrRegistrationFull
		}
		m.dropLocked(victim)
	}
	c.GrantTypes, c.Scopes, c.RedirectURIs = slices.Clone(c.GrantTypes), slices.Clone(c.Scopes), slices.Clone(c.RedirectURIs)
	m.byID[c.ID] = m.order.PushFront(&regEntry{c: c, size: size, lastUsed: now})
	m.bytes += size
	return nil
}

// Client implements [ClientStore].
func (m *MemoryClientStore) Client(_ context.Context, id string) (RegisteredClient, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.byID[id]
	if e == nil {
		return RegisteredClient{}, ErrClientUnknown
	}
	re := e.Value.(*regEntry)
	now := m.now()
	if now.Sub(re.lastUsed) >= m.idle {
		m.dropLocked(e)
		return RegisteredClient{}, ErrClientUnknown
	}
	return re.c, nil
}

// MarkUsed implements [ClientStore].
func (m *MemoryClientStore) MarkUsed(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.byID[id]; e != nil {
		re := e.Value.(*regEntry)
		if now := m.now(); now.Sub(re.lastUsed) < m.idle {
			re.used, re.lastUsed = true, now
		}
	}
	return nil
}

// Bytes returns the bytes held, as counted against MaxBytes.
func (m *MemoryClientStore) Bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}

func (m *MemoryClientStore) pruneLocked(now time.Time) {
	for _, e := range m.byID {
		if now.Sub(e.Value.(*regEntry).lastUsed) >= m.idle {
			m.dropLocked(e)
		}
	}
}

func (m *MemoryClientStore) dropLocked(e *list.Element) {
	re := e.Value.(*regEntry)
	delete(m.byID, re.c.ID)
	m.bytes -= re.size
	m.order.Remove(e)
}
