package authserver

import (
	"container/list"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrRefreshReused is returned by [RefreshStore.Rotate] when a token of
// an older generation than its family's current one is presented with
// that generation's secret (one of the last [RefreshReuseGenerations]):
// the store has revoked the whole family (RFC 9700 §4.14.2, refresh token
// rotation).
var ErrRefreshReused = errors.New("authserver: refresh token reused; family revoked")

// ErrRefreshUnknown is returned for a token the store does not know
// (never issued, expired, revoked or evicted, a generation not issued yet,
// a secret that does not match, of the current generation or an older
// one, or an older generation than the store remembers).
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
	// AccessGroups are the user's groups that matched a broker access
	// rule for Resource at login. Each refresh re-applies the current
	// rules to them: scopes a rule no longer gives are dropped, and the
	// family ends when no rule matches. nil (a family saved before this
	// field existed) skips that check.
	AccessGroups []string `json:",omitempty"`
}

// RefreshToken is what a [RefreshStore] sees of a refresh token. The token
// itself is handle.generation.secret: Handle names its family (random,
// 16 bytes in base64url), Generation counts the rotations (1 for the
// token of the login, +1 per rotation, in decimal) and the secret is 32
// random bytes in base64url, of which the store only ever gets the SHA-256
// (SecretHash). A token of one of the [RefreshReuseGenerations]
// generations before the family's current one, with its secret, is a
// reuse.
type RefreshToken struct {
	Handle     string
	Generation uint64
	SecretHash string
}

// RefreshReuseGenerations is how many generations before its current one
// a [RefreshStore] remembers of a family (the SHA-256 of each secret). A
// token of one of them, presented with its secret, is a reuse and revokes
// the family; with another secret, or of an older generation, it is only
// unknown (ErrRefreshUnknown), so that who knows a handle (from a log line,
// a truncated token) cannot end its family by guessing a generation.
const RefreshReuseGenerations = 8

// Refresh token format bounds.
const (
	refreshHandleLen = 22 // 16 bytes, base64url
	refreshSecretLen = 43 // 32 bytes, base64url
	maxRefreshGen    = 1 << 53
)

// newRefreshToken starts a family: a new handle at generation 1.
func newRefreshToken() (string, RefreshToken) {
	var h [16]byte
	_, _ = rand.Read(h[:])
	return refreshAt(base64.RawURLEncoding.EncodeToString(h[:]), 1)
}

// next is the token that replaces t in its family.
func (t RefreshToken) next() (string, RefreshToken) { return refreshAt(t.Handle, t.Generation+1) }

func refreshAt(handle string, gen uint64) (string, RefreshToken) {
	secret := randomToken()
	return handle + "." + strconv.FormatUint(gen, 10) + "." + secret,
		RefreshToken{Handle: handle, Generation: gen, SecretHash: hashRefresh(secret)}
}

// parseRefreshToken reads handle.generation.secret strictly: base64url
// handle and secret of their exact lengths, a decimal generation from 1
// without leading zeros. Tokens of the earlier opaque format do not parse.
func parseRefreshToken(raw string) (RefreshToken, bool) {
	handle, rest, ok1 := strings.Cut(raw, ".")
	gen, secret, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || len(handle) != refreshHandleLen || len(secret) != refreshSecretLen ||
		!canonicalB64(handle) || !canonicalB64(secret) || gen == "" || len(gen) > 16 || gen[0] == '0' {
		return RefreshToken{}, false
	}
	n, err := strconv.ParseUint(gen, 10, 64)
	if err != nil || n > maxRefreshGen {
		return RefreshToken{}, false
	}
	return RefreshToken{Handle: handle, Generation: n, SecretHash: hashRefresh(secret)}, true
}

// canonicalB64 reports whether s is unpadded base64url with no stray bits
// (one spelling per value).
func canonicalB64(s string) bool {
	_, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil
}

// RefreshStore keeps refresh token families. Tokens are passed as
// [RefreshToken]s, never in clear. Implementations must be safe for
// concurrent use and make Rotate atomic: of two concurrent rotations of one
// token, one wins and the other gets ErrRefreshReused.
type RefreshStore interface {
	// Save starts a family with its first token (generation 1). A family
	// id or a handle saved before is an error.
	Save(ctx context.Context, t RefreshToken, f RefreshFamily) error
	// Peek returns the family whose current token is t, changing nothing,
	// so that a request can be validated before its token is spent. A
	// token of one of the RefreshReuseGenerations older generations with
	// that generation's secret returns ErrRefreshReused (without
	// revoking: the Rotate that follows does); an unknown handle, a
	// generation not issued yet or not remembered, or a secret that does
	// not match (of any generation), ErrRefreshUnknown.
	Peek(ctx context.Context, t RefreshToken) (RefreshFamily, error)
	// Rotate spends t: it returns the family (with LastUsed as it was
	// before this call) and makes the token of generation t.Generation+1
	// with the secret hash nextSecretHash the family's only valid token,
	// with LastUsed = now, and keeps t's secret hash to recognise a reuse
	// of t. What Peek calls a reuse revokes the family and returns
	// ErrRefreshReused; what Peek calls unknown returns ErrRefreshUnknown
	// and changes nothing.
	Rotate(ctx context.Context, t RefreshToken, nextSecretHash string, now time.Time) (RefreshFamily, error)
	// RevokeFamily ends a family (e.g. when its authorization code is
	// replayed). Unknown ids are not an error.
	RevokeFamily(ctx context.Context, id string) error
	// RevokeSubject ends every family of subject and clientID ("" = all
	// clients).
	RevokeSubject(ctx context.Context, subject, clientID string) error
}

// Defaults of [RefreshLimits].
const (
	// DefaultRefreshFamiliesPerSubject caps the live refresh families of
	// one subject (user), all clients together: a user with a few MCP
	// clients, each logging in now and then, stays far below it.
	DefaultRefreshFamiliesPerSubject = 32
	// DefaultRefreshBytesPerSubject caps the bytes of one subject's
	// families, each counted as its JSON encoding ([RefreshFamilySize]).
	DefaultRefreshBytesPerSubject = 512 << 10
)

// ErrRefreshFamilyTooLarge is returned by Save for a family larger than
// RefreshLimits.BytesPerSubject on its own.
var ErrRefreshFamilyTooLarge = errors.New("authserver: refresh family larger than the per-subject byte cap")

// RefreshLimits bounds what one subject (the user a family belongs to)
// holds in a [RefreshStore], so that one user logging in again and again,
// or a client that never keeps its refresh token, cannot grow the store
// without bound (in-memory: evicting other users' families; Redis: until
// maxmemory). The in-memory store and stores/redis apply the same rule.
//
// At a cap, Save makes room before it stores the new family: it revokes
// the subject's least recently used family of the same client, or, when
// that client has none, the least recently used family of the client
// holding the most of the subject's families, until the new one fits. A new login therefore always succeeds,
// and what it ends is what its user was least likely to be using: a
// client looping logins only ends its own families. A revoked family's
// token answers invalid_grant, and its client logs in again.
type RefreshLimits struct {
	// FamiliesPerSubject caps a subject's live families. OPTIONAL; zero
	// means DefaultRefreshFamiliesPerSubject.
	FamiliesPerSubject int
	// BytesPerSubject caps the sum of RefreshFamilySize over a subject's
	// live families; a family larger than that on its own is refused
	// (ErrRefreshFamilyTooLarge). OPTIONAL; zero means
	// DefaultRefreshBytesPerSubject.
	BytesPerSubject int
}

// WithDefaults returns l with its zero fields set to the defaults, or an
// error for a negative field.
func (l RefreshLimits) WithDefaults() (RefreshLimits, error) {
	if l.FamiliesPerSubject < 0 || l.BytesPerSubject < 0 {
		return l, errors.New("authserver: RefreshLimits must not be negative")
	}
	if l.FamiliesPerSubject == 0 {
		l.FamiliesPerSubject = DefaultRefreshFamiliesPerSubject
	}
	if l.BytesPerSubject == 0 {
		l.BytesPerSubject = DefaultRefreshBytesPerSubject
	}
	return l, nil
}

// RefreshFamilySize is what a family counts against
// RefreshLimits.BytesPerSubject: the length of its JSON encoding without
// LastUsed (what stores/redis keeps).
func RefreshFamilySize(f RefreshFamily) (int, error) {
	f.LastUsed = time.Time{}
	js, err := json.Marshal(f)
	if err != nil {
		return 0, fmt.Errorf("authserver: refresh family: %w", err)
	}
	return len(js), nil
}

func hashRefresh(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

type memFamily struct {
	f      RefreshFamily
	handle string
	gen    uint64
	secret string // SecretHash of the current generation
	// prev[g%RefreshReuseGenerations] is the SecretHash of generation g,
	// for gen-RefreshReuseGenerations <= g < gen.
	prev [RefreshReuseGenerations]string
	size int // RefreshFamilySize
}

// subjectFamilies is what one subject holds.
type subjectFamilies struct {
	els   map[*list.Element]struct{}
	bytes int
}

// MemoryRefreshStore is the in-memory [RefreshStore]: at most max
// families; when full, the least recently used family is dropped. Each
// subject is bounded by [RefreshLimits].
type MemoryRefreshStore struct {
	mu       sync.Mutex
	max      int
	limits   RefreshLimits
	families map[string]*list.Element // family id → *memFamily
	byHandle map[string]string        // handle → family id
	subjects map[string]*subjectFamilies
	lru      *list.List
}

// NewMemoryRefreshStore returns a store of at most max families (max ≤ 0
// means DefaultMaxRefreshFamilies), with the default RefreshLimits.
func NewMemoryRefreshStore(max int) *MemoryRefreshStore {
	m, _ := NewLimitedMemoryRefreshStore(max, RefreshLimits{}) // the defaults are valid
	return m
}

// NewLimitedMemoryRefreshStore returns a store of at most max families
// (max ≤ 0 means DefaultMaxRefreshFamilies) with the per-subject limits l.
func NewLimitedMemoryRefreshStore(max int, l RefreshLimits) (*MemoryRefreshStore, error) {
	l, err := l.WithDefaults()
	if err != nil {
		return nil, err
	}
	if max <= 0 {
		max = DefaultMaxRefreshFamilies
	}
	return &MemoryRefreshStore{
		max: max, limits: l, families: map[string]*list.Element{}, byHandle: map[string]string{},
		subjects: map[string]*subjectFamilies{}, lru: list.New(),
	}, nil
}

// Save implements RefreshStore. At a subject's cap it first revokes that
// subject's least recently used families (see [RefreshLimits]).
func (m *MemoryRefreshStore) Save(_ context.Context, t RefreshToken, f RefreshFamily) error {
	size, err := RefreshFamilySize(f)
	if err != nil {
		return err
	}
	if size > m.limits.BytesPerSubject {
		return fmt.Errorf("%w: %d bytes", ErrRefreshFamilyTooLarge, size)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.families[f.ID]; ok {
		return errors.New("authserver: refresh family exists")
	}
	if _, ok := m.byHandle[t.Handle]; ok || t.Handle == "" || t.Generation != 1 {
		return errors.New("authserver: refresh handle exists, is empty or not at generation 1")
	}
	if sf := m.subjects[f.Subject]; sf != nil {
		for len(sf.els) >= m.limits.FamiliesPerSubject || sf.bytes+size > m.limits.BytesPerSubject {
			m.dropLocked(lruVictim(sf, f.ClientID))
		}
	}
	for m.lru.Len() >= m.max {
		m.dropLocked(m.lru.Back())
	}
	e := m.lru.PushFront(&memFamily{f: f, handle: t.Handle, gen: 1, secret: t.SecretHash, size: size})
	m.families[f.ID] = e
	m.byHandle[t.Handle] = f.ID
	sf := m.subjects[f.Subject]
	if sf == nil {
		sf = &subjectFamilies{els: map[*list.Element]struct{}{}}
		m.subjects[f.Subject] = sf
	}
	sf.els[e] = struct{}{}
	sf.bytes += size
	return nil
}

// lruVictim is the subject's least recently used family of clientID or,
// when clientID has none, the least recently used family of the client
// holding the most of the subject's families (ties: the least recently
// used family among those clients, then the smaller family id). A client
// keeping many families busy therefore cannot push out the user's idle
// families of other clients: its own go first.
func lruVictim(sf *subjectFamilies, clientID string) *list.Element {
	older := func(a, b *list.Element) bool {
		fa, fb := a.Value.(*memFamily).f, b.Value.(*memFamily).f
		if !fa.LastUsed.Equal(fb.LastUsed) {
			return fa.LastUsed.Before(fb.LastUsed)
		}
		return fa.ID < fb.ID
	}
	count := map[string]int{}
	var same *list.Element
	for e := range sf.els {
		c := e.Value.(*memFamily).f.ClientID
		count[c]++
		if c == clientID && (same == nil || older(e, same)) {
			same = e
		}
	}
	if same != nil {
		return same
	}
	var v *list.Element
	for e := range sf.els {
		if v == nil {
			v = e
			continue
		}
		ne, nv := count[e.Value.(*memFamily).f.ClientID], count[v.Value.(*memFamily).f.ClientID]
		if ne > nv || (ne == nv && older(e, v)) {
			v = e
		}
	}
	return v
}

// find returns the family of t's handle and whether t is its current
// token, a remembered older one with its secret (reuse) or neither.
// Callers hold m.mu.
func (m *MemoryRefreshStore) find(t RefreshToken) (*list.Element, error) {
	id, ok := m.byHandle[t.Handle]
	if !ok {
		return nil, ErrRefreshUnknown
	}
	e := m.families[id]
	mf := e.Value.(*memFamily)
	switch {
	case t.SecretHash == "" || t.Generation > mf.gen:
		return nil, ErrRefreshUnknown
	case t.Generation == mf.gen:
		if subtle.ConstantTimeCompare([]byte(t.SecretHash), []byte(mf.secret)) != 1 {
			return nil, ErrRefreshUnknown
		}
		return e, nil
	case mf.gen-t.Generation <= RefreshReuseGenerations &&
		subtle.ConstantTimeCompare([]byte(t.SecretHash), []byte(mf.prev[t.Generation%RefreshReuseGenerations])) == 1:
		return e, ErrRefreshReused
	}
	return nil, ErrRefreshUnknown
}

// Peek implements RefreshStore.
func (m *MemoryRefreshStore) Peek(_ context.Context, t RefreshToken) (RefreshFamily, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.find(t)
	if err != nil {
		return RefreshFamily{}, err
	}
	return e.Value.(*memFamily).f, nil
}

// Rotate implements RefreshStore.
func (m *MemoryRefreshStore) Rotate(_ context.Context, t RefreshToken, nextSecretHash string, now time.Time) (RefreshFamily, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, err := m.find(t)
	if errors.Is(err, ErrRefreshReused) {
		m.dropLocked(e)
	}
	if err != nil {
		return RefreshFamily{}, err
	}
	mf := e.Value.(*memFamily)
	out := mf.f
	mf.prev[mf.gen%RefreshReuseGenerations] = mf.secret
	mf.gen++
	mf.secret = nextSecretHash
	mf.f.LastUsed = now
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
	sf := m.subjects[subject]
	if sf == nil {
		return nil
	}
	for e := range sf.els {
		if clientID == "" || e.Value.(*memFamily).f.ClientID == clientID {
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
	delete(m.byHandle, mf.handle)
	delete(m.families, mf.f.ID)
	if sf := m.subjects[mf.f.Subject]; sf != nil {
		delete(sf.els, e)
		sf.bytes -= mf.size
		if len(sf.els) == 0 {
			delete(m.subjects, mf.f.Subject)
		}
	}
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
