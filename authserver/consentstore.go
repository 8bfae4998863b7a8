package authserver

import (
	"container/list"
	"context"
	"strconv"
	"sync"
)

// Consent is what a user allowed a client: the scopes of one resource.
type Consent struct {
	Subject  string
	ClientID string
	Resource string
	Scopes   []string // may be empty: the resource without specific scopes
}

// MaxConsentGrants bounds the grants a ConsentStore remembers for one
// user and client (one per resource plus one per resource scope); beyond
// it the entry starts over with the new consent.
const MaxConsentGrants = 256

// ConsentStore remembers consents, so that a user is asked once per
// client, resource and scopes. Replicas behind one issuer share one
// (stores/redis's ConsentStore), so that a consent given at one replica
// is remembered, and a revocation seen, at all of them. Implementations
// are safe for concurrent use. An error means the store is unavailable:
// the server then neither skips the consent page nor records a consent,
// and answers a 503 page.
type ConsentStore interface {
	// Covers reports whether c.Subject allowed c.ClientID c.Resource with
	// every scope in c.Scopes.
	Covers(ctx context.Context, c Consent) (bool, error)
	// Remember adds c to what c.Subject allowed c.ClientID.
	Remember(ctx context.Context, c Consent) error
	// Revoke forgets everything subject allowed clientID and reports
	// whether anything was remembered.
	Revoke(ctx context.Context, subject, clientID string) (bool, error)
}

// MemoryConsentStore is the default [ConsentStore]: consents in this
// process's memory, bounded in entries and bytes, the oldest forgotten
// first. It is correct for a single instance only.
type MemoryConsentStore struct {
	mu       sync.Mutex
	max      int
	maxBytes int64
	bytes    int64
	m        map[string]*list.Element // → *consentEntry
	order    *list.List               // oldest at the front
}

type consentEntry struct {
	key    string
	grants map[string]bool
	size   int64
}

var _ ConsentStore = (*MemoryConsentStore)(nil)

// DefaultMaxConsentBytes bounds the bytes of the default memory consent
// store.
const DefaultMaxConsentBytes = 8 << 20

// NewMemoryConsentStore returns a store of at most maxEntries consents
// (user and client) and maxBytes bytes; zero means DefaultMaxConsents and
// DefaultMaxConsentBytes. When full, the oldest consent is forgotten (its
// user sees the consent page again).
func NewMemoryConsentStore(maxEntries int, maxBytes int64) (*MemoryConsentStore, error) {
	if maxEntries < 0 || maxBytes < 0 {
		return nil, cfgErr("broker.max_consents", "must not be negative")
	}
	if maxEntries == 0 {
		maxEntries = DefaultMaxConsents
	}
	if maxBytes == 0 {
		maxBytes = DefaultMaxConsentBytes
	}
	return &MemoryConsentStore{max: maxEntries, maxBytes: maxBytes, m: map[string]*list.Element{}, order: list.New()}, nil
}

// ConsentKey is the key of the consents subject gave clientID: the
// subject's length, then both, so that no two pairs share a key whatever
// bytes they hold.
func ConsentKey(subject, clientID string) string {
	return strconv.Itoa(len(subject)) + ":" + subject + clientID
}

// Grants are the strings remembered for a consent: resource + " " (the
// resource itself) and resource + " " + scope for each scope. A store
// covers a consent when it remembers all of them for its ConsentKey.
func (c Consent) Grants() []string {
	out := make([]string, 0, 1+len(c.Scopes))
	out = append(out, c.Resource+" ")
	for _, sc := range c.Scopes {
		out = append(out, c.Resource+" "+sc)
	}
	return out
}

// Covers implements [ConsentStore].
func (s *MemoryConsentStore) Covers(_ context.Context, c Consent) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[ConsentKey(c.Subject, c.ClientID)]
	if e == nil {
		return false, nil
	}
	g := e.Value.(*consentEntry).grants
	for _, k := range c.Grants() {
		if !g[k] {
			return false, nil
		}
	}
	return true, nil
}

// Remember implements [ConsentStore].
func (s *MemoryConsentStore) Remember(_ context.Context, c Consent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := ConsentKey(c.Subject, c.ClientID)
	add := c.Grants()
	e := s.m[k]
	if e == nil {
		e = s.order.PushBack(&consentEntry{key: k, grants: map[string]bool{}, size: int64(128 + len(k))})
		s.m[k] = e
		s.bytes += e.Value.(*consentEntry).size
	} else {
		s.order.MoveToBack(e)
	}
	ce := e.Value.(*consentEntry)
	if len(ce.grants)+len(add) > MaxConsentGrants {
		for g := range ce.grants { // bounded per entry: start over
			ce.size -= int64(len(g) + 32)
			s.bytes -= int64(len(g) + 32)
		}
		clear(ce.grants)
	}
	for _, g := range add {
		if !ce.grants[g] {
			ce.grants[g] = true
			ce.size += int64(len(g) + 32)
			s.bytes += int64(len(g) + 32)
		}
	}
	for s.order.Len() > s.max || s.bytes > s.maxBytes {
		old := s.order.Front()
		s.dropLocked(old)
		if old == e {
			break
		}
	}
	return nil
}

// Revoke implements [ConsentStore].
func (s *MemoryConsentStore) Revoke(_ context.Context, subject, clientID string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[ConsentKey(subject, clientID)]
	if e == nil {
		return false, nil
	}
	s.dropLocked(e)
	return true, nil
}

// Len returns the number of consents (user and client) held.
func (s *MemoryConsentStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.order.Len()
}

// Bytes returns the bytes held, as counted against the bound.
func (s *MemoryConsentStore) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

func (s *MemoryConsentStore) dropLocked(e *list.Element) {
	ce := e.Value.(*consentEntry)
	s.order.Remove(e)
	delete(s.m, ce.key)
	s.bytes -= ce.size
}
