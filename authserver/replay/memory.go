package replay

import (
	"container/heap"
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Defaults for [MemoryConfig].
const (
	DefaultMaxEntries             = 100_000
	DefaultMaxEntriesPerPartition = 25_000
	DefaultMaxBytes               = 64 << 20
	DefaultMaxKeyLength           = 4096
)

// entryOverhead approximates the bytes one entry costs beyond its key (map
// slot, heap slot, time values, partition count share).
const entryOverhead = 128

// MemoryConfig configures [NewMemory]. The zero value is usable.
//
// Keys are partitioned by their first two "|"-separated fields: the server
// uses [Key]: "idjag|<idp issuer>|<jti>" and "client_assertion|<client
// id>|<jti>" with "%" and "|" escaped in the issuer or client id, so a
// partition is one IdP or one client. A key with fewer than two "|"
// belongs to the partition "".
type MemoryConfig struct {
	// MaxEntries caps the number of unexpired keys held in all. OPTIONAL;
	// zero means DefaultMaxEntries (100,000).
	MaxEntries int
	// MaxEntriesPerPartition caps the unexpired keys of one partition, so
	// that one client or IdP cannot fill the store and make every other
	// one's grants fail. OPTIONAL; zero means a quarter of MaxEntries (at
	// least 1), at most DefaultMaxEntriesPerPartition (25,000); a value
	// above MaxEntries means MaxEntries.
	MaxEntriesPerPartition int
	// MaxBytes caps the memory held, counted as len(key) + 128 bytes per
	// entry. OPTIONAL; zero means DefaultMaxBytes (64 MiB).
	MaxBytes int64
	// MaxBytesPerPartition caps the memory one partition holds, counted
	// as for MaxBytes, so that long keys cannot let one client take the
	// whole byte budget. OPTIONAL; zero means a quarter of MaxBytes; a
	// value above MaxBytes means MaxBytes.
	MaxBytesPerPartition int64
	// MaxKeyLength caps the key length in bytes. OPTIONAL; zero means
	// DefaultMaxKeyLength (4096, room for every key the authorization
	// server composes with [Key]: an escaped owner, up to three
	// times its length, and a jti).
	// Longer keys are refused with ErrInvalidKey.
	MaxKeyLength int
	// Now returns the current time. OPTIONAL; nil means time.Now.
	Now func() time.Time
}

// Memory is a bounded, in-process [Store]. Every call first sweeps the
// entries that have expired (oldest expiry first, amortised O(log n) each),
// and the tables are rebuilt smaller once they hold under a quarter of their
// peak, so memory returns after a burst. An unexpired entry is never
// evicted: when the store, the key's partition or the byte budget is full,
// CheckAndStore returns ErrFull. The zero value is not usable; call
// [NewMemory].
//
// The global bound is MaxEntries entries and MaxBytes bytes (defaults
// 100,000 and 64 MiB); one partition (one client or IdP) holds at most a
// quarter of each by default (25,000 entries, 16 MiB), so a client that
// floods the store with valid assertions makes only its own grants fail
// while every other client and IdP keeps at least three quarters.
type Memory struct {
	mu      sync.Mutex
	entries map[string]time.Time
	parts   map[string]partUse
	byExp   expHeap
	bytes   int64
	peak    int
	max     int
	maxPart int
	maxB    int64
	maxPB   int64
	maxKey  int
	now     func() time.Time
}

// NewMemory returns an empty Memory store. It returns an error for a
// negative limit.
func NewMemory(cfg MemoryConfig) (*Memory, error) {
	if cfg.MaxEntries < 0 || cfg.MaxKeyLength < 0 || cfg.MaxEntriesPerPartition < 0 || cfg.MaxBytes < 0 || cfg.MaxBytesPerPartition < 0 {
		return nil, fmt.Errorf("replay: negative limit in MemoryConfig")
	}
	m := &Memory{
		entries: make(map[string]time.Time),
		parts:   make(map[string]partUse),
		max:     cfg.MaxEntries,
		maxPart: cfg.MaxEntriesPerPartition,
		maxB:    cfg.MaxBytes,
		maxPB:   cfg.MaxBytesPerPartition,
		maxKey:  cfg.MaxKeyLength,
		now:     cfg.Now,
	}
	if m.max == 0 {
		m.max = DefaultMaxEntries
	}
	if m.maxPart == 0 {
		m.maxPart = min(DefaultMaxEntriesPerPartition, max(1, m.max/4))
	}
	m.maxPart = min(m.maxPart, m.max)
	if m.maxB == 0 {
		m.maxB = DefaultMaxBytes
	}
	if m.maxPB == 0 {
		m.maxPB = max(1, m.maxB/4)
	}
	m.maxPB = min(m.maxPB, m.maxB)
	if m.maxKey == 0 {
		m.maxKey = DefaultMaxKeyLength
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

// Partition returns the partition of key (see [MemoryConfig]).
func Partition(key string) string {
	i := strings.IndexByte(key, '|')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(key[i+1:], '|')
	if j < 0 {
		return ""
	}
	return key[:i+1+j]
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
	m.pruneLocked(now)
	if old, ok := m.entries[key]; ok && old.After(now) {
		return ErrReplay
	}
	if !exp.After(now) {
		return nil
	}
	part := Partition(key)
	cost := int64(len(key)) + entryOverhead
	switch {
	case len(m.entries) >= m.max:
		return fmt.Errorf("%w: %d unexpired entries", ErrFull, len(m.entries))
	case m.parts[part].n >= m.maxPart:
		return fmt.Errorf("%w: %d unexpired entries in this partition", ErrFull, m.parts[part].n)
	case m.parts[part].bytes+cost > m.maxPB:
		return fmt.Errorf("%w: %d bytes held in this partition", ErrFull, m.parts[part].bytes)
	case m.bytes+cost > m.maxB:
		return fmt.Errorf("%w: %d bytes held", ErrFull, m.bytes)
	}
	m.entries[key] = exp
	u := m.parts[part]
	m.parts[part] = partUse{n: u.n + 1, bytes: u.bytes + cost}
	m.bytes += cost
	m.peak = max(m.peak, len(m.entries))
	heap.Push(&m.byExp, heapEntry{key: key, exp: exp})
	return nil
}

// Len returns the number of entries held, expired ones not yet pruned
// included.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}

// pruneLocked drops every expired entry, then shrinks the tables when they
// hold under a quarter of their peak. (An expired key is always removed from
// the map before it can be inserted again, so heap entries are never stale.)
func (m *Memory) pruneLocked(now time.Time) {
	for m.byExp.Len() > 0 {
		top := m.byExp[0]
		if top.exp.After(now) {
			break
		}
		heap.Pop(&m.byExp)
		delete(m.entries, top.key)
		part := Partition(top.key)
		cost := int64(len(top.key)) + entryOverhead
		if u := m.parts[part]; u.n <= 1 {
			delete(m.parts, part)
		} else {
			m.parts[part] = partUse{n: u.n - 1, bytes: u.bytes - cost}
		}
		m.bytes -= cost
	}
	if m.peak > 1024 && len(m.entries) < m.peak/4 {
		entries := make(map[string]time.Time, len(m.entries))
		for k, v := range m.entries {
			entries[k] = v
		}
		m.entries = entries
		m.byExp = append(expHeap(nil), m.byExp...)
		m.peak = len(m.entries)
	}
}

// Bytes returns the memory held as counted against MaxBytes.
func (m *Memory) Bytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bytes
}

// partUse is what one partition holds.
type partUse struct {
	n     int
	bytes int64
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
