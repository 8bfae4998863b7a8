package authserver

import (
	"container/list"
	"context"
	"crypto/sha256"
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
	// MarkUsed records an authenticated use of the client by subject
	// (the user or client of the code or refresh token redeemed): it
	// protects the client from eviction by newer registrations and
	// restarts its idle lifetime; the client is forgotten after the idle
	// lifetime without one. One subject keeps at most a bounded number of
	// clients protected by its uses (DefaultRegistrationMaxPerSubject): a
	// use of one more makes the subject's least recently used one
	// evictable again (it is still served, and evicted only when a
	// registration needs its room), so that one user cannot keep the
	// store full by refreshing with many clients. Unknown ids are not an
	// error.
	MarkUsed(ctx context.Context, id, subject string) error
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
	// MaxPerSubject bounds the clients one subject's uses keep protected
	// (ClientStore.MarkUsed). OPTIONAL; zero means
	// DefaultRegistrationMaxPerSubject (16); at most
	// MaxRegistrationMaxPerSubject (1,024). The tracking of subjects is
	// bounded apart from the clients: at most max(MaxBytes/1 KiB, 256)
	// subjects and MaxBytes bytes (see TrackedBytes), whatever
	// MaxPerSubject is.
	MaxPerSubject int
	// Now is the clock. OPTIONAL; nil means time.Now.
	Now func() time.Time
}

// Bounds of the per-subject tracking of [MemoryClientStore]. The store
// tracks at most max(MaxBytes/subjectEntryBudget, 256) subjects and, in
// bytes, at most MaxBytes of tracking (each subject counts
// subjectOverhead plus idOverhead and the id's length per client it
// protects). Past either bound it forgets the least recently active
// subject, and the clients only that subject protected become evictable
// again (still served until a registration needs their room): forgetting
// a subject never lets it protect more clients than MaxPerSubject.
const (
	subjectEntryBudget = 1 << 10
	subjectOverhead    = 160
	idOverhead         = 24
)

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

	perSubject   int
	maxSubjects  int
	subjectBytes int64                      // tracking bytes, at most max
	subjects     map[[32]byte]*list.Element // SHA-256 of a subject → *subjectUses
	subjectLRU   *list.List                 // most recently active at the front
}

// subjectUses is the clients a subject's uses protect, least recent first
// (at most MaxPerSubject ids; an id may name a client dropped since).
type subjectUses struct {
	key [32]byte
	ids []string
}

type regEntry struct {
	c        RegisteredClient
	size     int64
	lastUsed time.Time
	holders  int // tracked subjects whose uses protect it; > 0: not evictable
}

var _ ClientStore = (*MemoryClientStore)(nil)

// NewMemoryClientStore returns an empty MemoryClientStore.
func NewMemoryClientStore(cfg MemoryClientStoreConfig) (*MemoryClientStore, error) {
	if cfg.MaxBytes < 0 || cfg.IdleLifetime < 0 {
		return nil, cfgErr("registration", "max_bytes and idle_lifetime must not be negative")
	}
	if err := checkMaxPerSubject(cfg.MaxPerSubject); err != nil {
		return nil, err
	}
	m := &MemoryClientStore{max: cfg.MaxBytes, idle: cfg.IdleLifetime, now: cfg.Now,
		byID: map[string]*list.Element{}, order: list.New(),
		perSubject: cfg.MaxPerSubject, subjects: map[[32]byte]*list.Element{}, subjectLRU: list.New()}
	if m.perSubject == 0 {
		m.perSubject = DefaultRegistrationMaxPerSubject
	}
	if m.max == 0 {
		m.max = DefaultRegistrationMaxBytes
	}
	m.maxSubjects = max(int(m.max/subjectEntryBudget), 256)
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
			if e.Value.(*regEntry).holders == 0 {
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
func (m *MemoryClientStore) MarkUsed(_ context.Context, id, subject string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.byID[id]
	if e == nil {
		return nil
	}
	re := e.Value.(*regEntry)
	now := m.now()
	if now.Sub(re.lastUsed) >= m.idle {
		return nil
	}
	re.lastUsed = now
	id = re.c.ID // the tracking shares the client's copy of the id
	key := sha256.Sum256([]byte(subject))
	se := m.subjects[key]
	if se == nil {
		se = m.subjectLRU.PushFront(&subjectUses{key: key})
		m.subjects[key] = se
		m.subjectBytes += subjectOverhead
	} else {
		m.subjectLRU.MoveToFront(se)
	}
	su := se.Value.(*subjectUses)
	if i := slices.Index(su.ids, id); i >= 0 {
		su.ids = slices.Delete(su.ids, i, i+1)
		su.ids = append(su.ids, id)
	} else {
		su.ids = append(su.ids, id)
		re.holders++
		m.subjectBytes += idOverhead + int64(len(id))
	}
	for len(su.ids) > m.perSubject {
		m.releaseLocked(su, 1)
	}
	// Bound the tracking in entries and bytes: forget the least recently
	// active subjects; if this one alone is over the budget, its oldest
	// clients are released.
	for m.subjectLRU.Len() > m.maxSubjects || m.subjectBytes > m.max {
		old := m.subjectLRU.Back()
		if old == se {
			if len(su.ids) <= 1 {
				break
			}
			m.releaseLocked(su, 1)
			continue
		}
		ou := old.Value.(*subjectUses)
		m.releaseLocked(ou, len(ou.ids))
		delete(m.subjects, ou.key)
		m.subjectLRU.Remove(old)
		m.subjectBytes -= subjectOverhead
	}
	return nil
}

// releaseLocked drops the n least recent ids of su: a client no tracked
// subject protects any more is evictable again (still served).
func (m *MemoryClientStore) releaseLocked(su *subjectUses, n int) {
	for _, id := range su.ids[:n] {
		if ve := m.byID[id]; ve != nil {
			if re := ve.Value.(*regEntry); re.holders > 0 {
				re.holders--
			}
		}
		m.subjectBytes -= idOverhead + int64(len(id))
	}
	su.ids = slices.Delete(su.ids, 0, n)
	if len(su.ids) == 0 {
		su.ids = nil
	}
}

// TrackedBytes returns the bytes of the per-subject tracking
// (MarkUsed), as counted against MaxBytes. It is held beside the
// clients: the store holds at most twice MaxBytes in all.
func (m *MemoryClientStore) TrackedBytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.subjectBytes
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
