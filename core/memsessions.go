package core

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"time"
)

// Defaults of MemorySessionsConfig.
const (
	// DefaultMaxSessions is the default entry cap of the in-memory session
	// binding table.
	DefaultMaxSessions = 100_000
	// DefaultMaxSessionBytes is the default byte cap of the in-memory
	// session binding table (accounted as in SessionEntryBytes).
	DefaultMaxSessionBytes = 32 << 20
	// SessionEntryOverhead is the fixed number of bytes accounted for each
	// binding on top of the lengths of its session id and principal ID: the
	// map slot, the list element and the entry itself, rounded up.
	SessionEntryOverhead = 256
)

// SessionCounter is an optional interface of a SessionBindings store: the
// number of live sessions bound to principalID. When the store implements
// it, the Guard refuses an initialize of a principal already at its cap
// before the MCP server creates a session; Bind still enforces the cap
// atomically.
type SessionCounter interface {
	Count(ctx context.Context, principalID string) (int, error)
}

// SessionLookupToucher is an optional interface of a SessionBindings store:
// Lookup and Touch of one binding as one operation. When the store
// implements it, the Guard checks and extends the binding of a request that
// names a session (other than a DELETE) with one call instead of two, at
// the session check, before authorization: a request that names its own
// live session keeps it alive even when the policy then refuses it.
type SessionLookupToucher interface {
	// LookupTouch returns what Lookup returns for sessionID and, when that
	// is principalID (a live binding of principalID), extends the binding
	// by ttl as Touch does. It never creates a binding.
	LookupTouch(ctx context.Context, sessionID, principalID string, ttl time.Duration) (string, error)
}

// MemorySessionsConfig configures [NewMemorySessions].
type MemorySessionsConfig struct {
	// MaxEntries caps the number of live bindings. OPTIONAL; default
	// DefaultMaxSessions.
	MaxEntries int
	// MaxBytes caps the accounted size of the table (SessionEntryBytes per
	// binding). OPTIONAL; default DefaultMaxSessionBytes.
	MaxBytes int64
	// Now is the clock. OPTIONAL; default time.Now.
	Now func() time.Time
}

// MemorySessions is the in-memory, per-process [SessionBindings] store the
// Guard uses by default. It is bounded in entries and in bytes and never
// evicts a live binding: expired bindings are swept as new ones are made,
// and when the table is still full Bind fails with an error wrapping
// ErrStoreUnavailable (the Guard answers 503 to that initialize) instead
// of dropping another principal's binding. It is safe for concurrent use.
type MemorySessions struct {
	mu       sync.Mutex
	maxN     int
	maxBytes int64
	now      func() time.Time
	bytes    int64
	m        map[string]*list.Element
	perPID   map[string]int
	peak     int        // len(m) high-water mark since the maps were last rebuilt
	order    *list.List // front = earliest expiry (approximately: TTLs may differ)
}

type memSession struct {
	id, principal string
	expires       time.Time
}

// NewMemorySessions returns an empty in-memory binding store.
func NewMemorySessions(cfg MemorySessionsConfig) (*MemorySessions, error) {
	if cfg.MaxEntries < 0 || cfg.MaxBytes < 0 {
		return nil, fmt.Errorf("core: MemorySessionsConfig: negative cap")
	}
	s := &MemorySessions{maxN: cfg.MaxEntries, maxBytes: cfg.MaxBytes, now: cfg.Now,
		m: map[string]*list.Element{}, perPID: map[string]int{}, order: list.New()}
	if s.maxN == 0 {
		s.maxN = DefaultMaxSessions
	}
	if s.maxBytes == 0 {
		s.maxBytes = DefaultMaxSessionBytes
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// SessionEntryBytes is the accounted size of one binding.
func SessionEntryBytes(sessionID, principalID string) int64 {
	return int64(len(sessionID) + len(principalID) + SessionEntryOverhead)
}

// Lookup implements SessionBindings.
func (s *MemorySessions) Lookup(_ context.Context, sessionID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, e, _ := s.liveLocked(sessionID); e != nil {
		return e.principal, nil
	}
	return "", nil
}

// liveLocked returns the live binding of sessionID (nil when there is
// none, dropping an expired one) and the clock reading it was checked at.
func (s *MemorySessions) liveLocked(sessionID string) (*list.Element, *memSession, time.Time) {
	el, ok := s.m[sessionID]
	if !ok {
		return nil, nil, time.Time{}
	}
	e, now := el.Value.(*memSession), s.now()
	if !now.Before(e.expires) {
		s.remove(el)
		return nil, nil, now
	}
	return el, e, now
}

// LookupTouch implements SessionLookupToucher: one lock, one map lookup
// and one clock reading.
func (s *MemorySessions) LookupTouch(_ context.Context, sessionID, principalID string, ttl time.Duration) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, e, now := s.liveLocked(sessionID)
	if e == nil {
		return "", nil
	}
	if e.principal == principalID && ttl > 0 {
		e.expires = now.Add(ttl)
		s.order.MoveToBack(el)
	}
	return e.principal, nil
}

// Bind implements SessionBindings. Expired bindings are swept first; a
// full table is an error wrapping ErrStoreUnavailable, never an eviction.
func (s *MemorySessions) Bind(_ context.Context, sessionID, principalID string, ttl time.Duration, maxPerPrincipal int) error {
	if sessionID == "" || principalID == "" || ttl <= 0 {
		return fmt.Errorf("core: MemorySessions.Bind: empty session id, principal or ttl")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.sweep(now)
	if el, ok := s.m[sessionID]; ok {
		e := el.Value.(*memSession)
		if e.principal != principalID {
			return ErrSessionBound
		}
		e.expires = now.Add(ttl)
		s.order.MoveToBack(el)
		return nil
	}
	if maxPerPrincipal > 0 && s.perPID[principalID] >= maxPerPrincipal {
		return ErrSessionLimit
	}
	size := SessionEntryBytes(sessionID, principalID)
	if len(s.m) >= s.maxN || s.bytes+size > s.maxBytes {
		return fmt.Errorf("core: session binding table full (%d bindings, %d bytes): %w", len(s.m), s.bytes, ErrStoreUnavailable)
	}
	s.m[sessionID] = s.order.PushBack(&memSession{id: sessionID, principal: principalID, expires: now.Add(ttl)})
	s.perPID[principalID]++
	s.bytes += size
	s.peak = max(s.peak, len(s.m))
	return nil
}

// Touch implements SessionBindings.
func (s *MemorySessions) Touch(_ context.Context, sessionID, principalID string, ttl time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.m[sessionID]
	if !ok {
		return nil
	}
	e := el.Value.(*memSession)
	now := s.now()
	if e.principal != principalID || !now.Before(e.expires) {
		return nil
	}
	e.expires = now.Add(ttl)
	s.order.MoveToBack(el)
	return nil
}

// Unbind implements SessionBindings.
func (s *MemorySessions) Unbind(_ context.Context, sessionID, principalID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.m[sessionID]; ok && el.Value.(*memSession).principal == principalID {
		s.remove(el)
	}
	return nil
}

// Count implements SessionCounter: live bindings of principalID (expired
// ones are swept first).
func (s *MemorySessions) Count(_ context.Context, principalID string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(s.now())
	return s.perPID[principalID], nil
}

// Stats returns the number of bindings and their accounted bytes.
func (s *MemorySessions) Stats() (entries int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m), s.bytes
}

// sweep drops expired bindings from the front of the expiry order. Under
// uniform TTLs the order is exact; with mixed TTLs a binding may outlive
// its expiry here until Lookup or a later sweep reaches it (it is still
// refused by Lookup and counted against the caps until then).
func (s *MemorySessions) sweep(now time.Time) {
	for el := s.order.Front(); el != nil; el = s.order.Front() {
		if now.Before(el.Value.(*memSession).expires) {
			return
		}
		s.remove(el)
	}
	// Go maps never shrink: after a burst, rebuild them so memory follows
	// the live bindings, not the high-water mark.
	if s.peak > 4096 && len(s.m) < s.peak/4 {
		m := make(map[string]*list.Element, len(s.m))
		for k, v := range s.m {
			m[k] = v
		}
		per := make(map[string]int, len(s.perPID))
		for k, v := range s.perPID {
			per[k] = v
		}
		s.m, s.perPID, s.peak = m, per, len(m)
	}
}

func (s *MemorySessions) remove(el *list.Element) {
	e := el.Value.(*memSession)
	s.order.Remove(el)
	delete(s.m, e.id)
	if n := s.perPID[e.principal] - 1; n > 0 {
		s.perPID[e.principal] = n
	} else {
		delete(s.perPID, e.principal)
	}
	s.bytes -= SessionEntryBytes(e.id, e.principal)
}
