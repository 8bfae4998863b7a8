package replay

import (
	"container/heap"
	"context"
	"fmt"
	"sync"
	"time"
)

// Defaults for [MemoryConfig].
const (
	DefaultMaxEntries   = 100_000
	DefaultMaxKeyLength = 512
)

// MemoryConfig configures [NewMemory]. The zero value is usable.
type MemoryConfig struct {
	// MaxEntries caps the number of unexpired keys held. OPTIONAL; zero
	// means DefaultMaxEntries (100,000). When the store holds MaxEntries
	// unexpired keys, CheckAndStore returns ErrFull.
	MaxEntries int
	// MaxKeyLength caps the key length in bytes. OPTIONAL; zero means
	// DefaultMaxKeyLength (512). Longer keys are refused with ErrInvalidKey.
	MaxKeyLength int
	// Now returns the current time. OPTIONAL; nil means time.Now.
	Now func() time.Time
}

// Memory is a bounded, in-process [Store]. Expired entries are dropped
// lazily, oldest expiry first, when an insert needs room; an unexpired entry
// is never evicted. The zero value is not usable; call [NewMemory].
type Memory struct {
	mu      sync.Mutex
	entries map[string]time.Time
	byExp   expHeap
	max     int
	maxKey  int
	now     func() time.Time
}

// NewMemory returns an empty Memory store. It returns an error for a
// negative MaxEntries or MaxKeyLength.
func NewMemory(cfg MemoryConfig) (*Memory, error) {
	if cfg.MaxEntries < 0 || cfg.MaxKeyLength < 0 {
		return nil, fmt.Errorf("replay: negative limit in MemoryConfig")
	}
	m := &Memory{
		entries: make(map[string]time.Time),
		max:     cfg.MaxEntries,
		maxKey:  cfg.MaxKeyLength,
		now:     cfg.Now,
	}
	if m.max == 0 {
		m.max = DefaultMaxEntries
	}
	if m.maxKey == 0 {
		m.maxKey = DefaultMaxKeyLength
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

// CheckAndStore implements [Store]. An entry whose exp is not after the
// current time is considered expired, so exp must be in the future for the
// key to be recorded; a key with exp in the past is accepted without being
// stored (it can never be replayed against a caller that also checks
// expiry). Errors wrap ErrReplay, ErrFull, ErrInvalidKey or the context's
// error.
func (m *Memory) CheckAndStore(ctx context.Context, key string, exp time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	if key == "" || len(key) > m.maxKey {
		return fmt.Errorf("%w: length %d", ErrInvalidKey, len(key))
	}
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.entries[key]; ok && old.After(now) {
		return ErrReplay
	}
	if !exp.After(now) {
		return nil
	}
	if _, ok := m.entries[key]; !ok && len(m.entries) >= m.max {
		m.pruneLocked(now)
		if len(m.entries) >= m.max {
			return fmt.Errorf("%w: %d unexpired entries", ErrFull, len(m.entries))
		}
	}
	m.entries[key] = exp
	heap.Push(&m.byExp, heapEntry{key: key, exp: exp})
	if m.byExp.Len() > 2*m.max { // stale heap entries from re-inserted keys
		m.pruneLocked(now)
	}
	return nil
}

// Len returns the number of entries held, expired ones not yet pruned
// included.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// pruneLocked drops every expired entry. Heap entries may be stale (the key
// was re-inserted with a later expiry after its first entry expired); a
// stale heap entry is dropped without touching the map.
func (m *Memory) pruneLocked(now time.Time) {
	for m.byExp.Len() > 0 {
		top := m.byExp[0]
		if top.exp.After(now) {
			return
		}
		heap.Pop(&m.byExp)
		if cur, ok := m.entries[top.key]; ok && cur.Equal(top.exp) {
			delete(m.entries, top.key)
		}
	}
}

type heapEntry struct {
	key string
	exp time.Time
}

type expHeap []heapEntry

func (h expHeap) Len() int           { return len(h) }
func (h expHeap) Less(i, j int) bool { return h[i].exp.Before(h[j].exp) }
func (h expHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *expHeap) Push(x any)        { *h = append(*h, x.(heapEntry)) }
func (h *expHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}
