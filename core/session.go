package core

import (
	"container/list"
	"sync"
	"time"
)

// Session binding defaults.
const (
	DefaultSessionTTL  = 24 * time.Hour
	DefaultMaxSessions = 100_000
	maxSessionIDLen    = 256
)

// sessionStore binds MCP session ids (2025-11-25 Mcp-Session-Id) to the
// principal that first presented them. It is bounded: at capacity the least
// recently used binding is evicted (an evicted session is re-bound on its
// next use; the go-sdk's own TokenInfo.UserID check still applies). Entries
// expire TTL after their last use.
type sessionStore struct {
	mu  sync.Mutex
	ttl time.Duration
	max int
	m   map[string]*list.Element
	lru *list.List // front = most recently used
}

type sessionEntry struct {
	id        string
	principal string
	expires   time.Time
}

func newSessionStore(ttl time.Duration, maxEntries int) *sessionStore {
	return &sessionStore{ttl: ttl, max: maxEntries, m: map[string]*list.Element{}, lru: list.New()}
}

// check reports whether sessionID may be used by principal at now: true when
// it is unbound (or expired) or bound to the same principal. It does not
// bind; bind does, after the request is allowed.
func (s *sessionStore) check(sessionID, principal string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.m[sessionID]
	if !ok {
		return true
	}
	e := el.Value.(*sessionEntry)
	if now.After(e.expires) {
		s.lru.Remove(el)
		delete(s.m, sessionID)
		return true
	}
	return e.principal == principal
}

// touch extends an existing, unexpired binding of sessionID to principal.
// It never creates a binding: only sessions the MCP server created for this
// principal (Result.BindSession at initialize) are bound, so a flood of
// invented session ids cannot evict real bindings.
func (s *sessionStore) touch(sessionID, principal string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	el, ok := s.m[sessionID]
	if !ok {
		return
	}
	e := el.Value.(*sessionEntry)
	if e.principal != principal || now.After(e.expires) {
		return
	}
	e.expires = now.Add(s.ttl)
	s.lru.MoveToFront(el)
}

// bind records (or refreshes) the binding. An existing binding to another
// principal is never overwritten.
func (s *sessionStore) bind(sessionID, principal string, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el, ok := s.m[sessionID]; ok {
		e := el.Value.(*sessionEntry)
		if e.principal != principal && !now.After(e.expires) {
			return
		}
		e.principal = principal
		e.expires = now.Add(s.ttl)
		s.lru.MoveToFront(el)
		return
	}
	for s.lru.Len() >= s.max {
		old := s.lru.Back()
		s.lru.Remove(old)
		delete(s.m, old.Value.(*sessionEntry).id)
	}
	s.m[sessionID] = s.lru.PushFront(&sessionEntry{id: sessionID, principal: principal, expires: now.Add(s.ttl)})
}

func (s *sessionStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lru.Len()
}

// validSessionID reports whether id is a syntactically valid session id:
// visible ASCII (0x21-0x7E) per the 2025-11-25 transport, at most 256 bytes.
func validSessionID(id string) bool {
	if id == "" || len(id) > maxSessionIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}
