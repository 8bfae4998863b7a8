package authserver

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"sync"
	"time"
)

// ErrRefreshReused is returned by [RefreshStore.Rotate] when a token that
// was already rotated is presented again: the store has revoked its whole
// family (OAuth 2.1 §4.3.1, refresh token rotation).
var ErrRefreshReused = errors.New("authserver: refresh token reused; family revoked")

// ErrRefreshUnknown is returned for a token the store does not know
// (never issued, expired, revoked or evicted).
var ErrRefreshUnknown = errors.New("authserver: unknown refresh token")

// RefreshFamily is the grant a chain of rotated refresh tokens carries.
type RefreshFamily struct {
	ID       string
	ClientID string
	Subject  string
	Resource string
	Scopes   []string
	Extra    map[string]any // access-token claims (provenance and copies)
	Created  time.Time      // start of the absolute lifetime
	LastUsed time.Time      // start of the idle lifetime
}

// RefreshStore keeps refresh token families. Tokens are passed as SHA-256
// hashes, never in clear. Implementations must be safe for concurrent use
// and make Rotate atomic: of two concurrent rotations of one token, one
// wins and the other gets ErrRefreshReused.
type RefreshStore interface {
	// Save starts a family with its first token.
	Save(ctx context.Context, tokenHash string, f RefreshFamily) error
	// Peek returns the family whose current token is tokenHash, changing
	// nothing, so that a request can be validated before its token is
	// spent. A token rotated before returns ErrRefreshReused (without
	// revoking: the Rotate that follows does), an unknown one
	// ErrRefreshUnknown.
	Peek(ctx context.Context, tokenHash string) (RefreshFamily, error)
	// Rotate exchanges tokenHash for nextHash: it returns the family (with
	// LastUsed as it was before this call) and makes nextHash the family's
	// only valid token, with LastUsed = now. A token rotated before revokes
	// the family and returns ErrRefreshReused; an unknown one
	// ErrRefreshUnknown.
	Rotate(ctx context.Context, tokenHash, nextHash string, now time.Time) (RefreshFamily, error)
	// RevokeFamily ends a family (e.g. when its authorization code is
	// replayed). Unknown ids are not an error.
	RevokeFamily(ctx context.Context, id string) error
	// RevokeSubject ends every family of subject and clientID ("" = all
	// clients).
	RevokeSubject(ctx context.Context, subject, clientID string) error
}

func hashRefresh(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// maxRotatedPerFamily bounds the rotated hashes remembered per family for
// reuse detection; older ones are merely unknown.
const maxRotatedPerFamily = 8

type memFamily struct {
	f       RefreshFamily
	current string
	rotated []string
}

// MemoryRefreshStore is the in-memory [RefreshStore]: at most max
// families; when full, the least recently used family is dropped.
type MemoryRefreshStore struct {
	mu       sync.Mutex
	max      int
	families map[string]*list.Element // family id → *memFamily
	byHash   map[string]string        // current and rotated hashes → family id
	lru      *list.List
}

// NewMemoryRefreshStore returns a store of at most max families (max ≤ 0
// means DefaultMaxRefreshFamilies).
func NewMemoryRefreshStore(max int) *MemoryRefreshStore {
	if max <= 0 {
		max = DefaultMaxRefreshFamilies
	}
	return &MemoryRefreshStore{max: max, families: map[string]*list.Element{}, byHash: map[string]string{}, lru: list.New()}
}

// Save implements RefreshStore.
func (m *MemoryRefreshStore) Save(_ context.Context, h string, f RefreshFamily) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.families[f.ID]; ok {
		return errors.New("authserver: refresh family exists")
	}
	for m.lru.Len() >= m.max {
		m.dropLocked(m.lru.Back())
	}
	m.families[f.ID] = m.lru.PushFront(&memFamily{f: f, current: h})
	m.byHash[h] = f.ID
	return nil
}

// Peek implements RefreshStore.
func (m *MemoryRefreshStore) Peek(_ context.Context, h string) (RefreshFamily, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.byHash[h]
	if !ok {
		return RefreshFamily{}, ErrRefreshUnknown
	}
	mf := m.families[id].Value.(*memFamily)
	if mf.current != h {
		return RefreshFamily{}, ErrRefreshReused
	}
	return mf.f, nil
}

// Rotate implements RefreshStore.
func (m *MemoryRefreshStore) Rotate(_ context.Context, h, next string, now time.Time) (RefreshFamily, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	id, ok := m.byHash[h]
	if !ok {
		return RefreshFamily{}, ErrRefreshUnknown
	}
	e := m.families[id]
	mf := e.Value.(*memFamily)
	if mf.current != h {
		m.dropLocked(e)
		return RefreshFamily{}, ErrRefreshReused
	}
	out := mf.f
	mf.rotated = append(mf.rotated, h)
	if len(mf.rotated) > maxRotatedPerFamily {
		delete(m.byHash, mf.rotated[0])
		mf.rotated = mf.rotated[1:]
	}
	mf.current = next
	mf.f.LastUsed = now
	m.byHash[next] = id
	m.lru.MoveToFront(e)
	return out, nil
}

// RevokeFamily implements RefreshStore.
func (m *MemoryRefreshStore) RevokeFamily(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.families[id]; e != nil {
		m.dropLocked(e)
	}
	return nil
}

// RevokeSubject implements RefreshStore.
func (m *MemoryRefreshStore) RevokeSubject(_ context.Context, subject, clientID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.families {
		f := e.Value.(*memFamily).f
		if f.Subject == subject && (clientID == "" || f.ClientID == clientID) {
			m.dropLocked(e)
		}
	}
	return nil
}

// Len returns the number of families.
func (m *MemoryRefreshStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}

func (m *MemoryRefreshStore) dropLocked(e *list.Element) {
	mf := e.Value.(*memFamily)
	delete(m.byHash, mf.current)
	for _, h := range mf.rotated {
		delete(m.byHash, h)
	}
	delete(m.families, mf.f.ID)
	m.lru.Remove(e)
}

// RevokeRefreshTokens ends the refresh token families of subject at
// clientID ("" = every client). Access tokens already issued stay valid
// until they expire.
func (s *Server) RevokeRefreshTokens(ctx context.Context, subject, clientID string) error {
	if s.broker == nil {
		return nil
	}
	return s.broker.refresh.RevokeSubject(ctx, subject, clientID)
}
