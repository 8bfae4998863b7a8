package replay

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

func newClock() *testkit.Clock { return testkit.NewClock(time.Unix(1_800_000_000, 0)) }

func TestMemoryRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	tests := []struct {
		name  string
		setup func(m *Memory, c *testkit.Clock)
		ctx   context.Context
		key   string
		ttl   time.Duration
		want  error
	}{
		{name: "fresh key", key: "a", ttl: time.Minute},
		{name: "replayed key", setup: func(m *Memory, c *testkit.Clock) { mustStore(t, m, "a", c.Now().Add(time.Minute)) }, key: "a", ttl: time.Minute, want: ErrReplay},
		{name: "replay after expiry is a new use", setup: func(m *Memory, c *testkit.Clock) {
			mustStore(t, m, "a", c.Now().Add(time.Minute))
			c.Add(time.Minute)
		}, key: "a", ttl: time.Minute},
		{name: "replay one second before expiry", setup: func(m *Memory, c *testkit.Clock) {
			mustStore(t, m, "a", c.Now().Add(time.Minute))
			c.Add(59 * time.Second)
		}, key: "a", ttl: time.Minute, want: ErrReplay},
		{name: "empty key", key: "", ttl: time.Minute, want: ErrInvalidKey},
		{name: "overlong key", key: strings.Repeat("k", DefaultMaxKeyLength+1), ttl: time.Minute, want: ErrInvalidKey},
		{name: "max length key", key: strings.Repeat("k", DefaultMaxKeyLength), ttl: time.Minute},
		{name: "cancelled context", ctx: cancelled, key: "a", ttl: time.Minute, want: context.Canceled},
		{name: "other key does not collide", setup: func(m *Memory, c *testkit.Clock) { mustStore(t, m, "a", c.Now().Add(time.Minute)) }, key: "A", ttl: time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			m, err := NewMemory(MemoryConfig{Now: c.Now})
			if err != nil {
				t.Fatal(err)
			}
			if tc.setup != nil {
				tc.setup(m, c)
			}
			cx := tc.ctx
			if cx == nil {
				cx = ctx
			}
			err = m.CheckAndStore(cx, tc.key, c.Now().Add(tc.ttl))
			if tc.want == nil && err != nil {
				t.Fatalf("CheckAndStore: %v, want nil", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("CheckAndStore: %v, want %v", err, tc.want)
			}
		})
	}
}

func mustStore(t *testing.T, m *Memory, key string, exp time.Time) {
	t.Helper()
	if err := m.CheckAndStore(context.Background(), key, exp); err != nil {
		t.Fatalf("CheckAndStore(%q): %v", key, err)
	}
}

// A07: a full store fails closed and never evicts unexpired entries.
func TestMemoryFullFailsClosed(t *testing.T) {
	t.Parallel()
	c := newClock()
	m, err := NewMemory(MemoryConfig{MaxEntries: 3, MaxEntriesPerPartition: 3, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		mustStore(t, m, fmt.Sprint("k", i), c.Now().Add(time.Duration(i+1)*time.Minute))
	}
	if err := m.CheckAndStore(context.Background(), "new", c.Now().Add(time.Minute)); !errors.Is(err, ErrFull) {
		t.Fatalf("insert into full store: %v, want ErrFull", err)
	}
	// The unexpired entries are all still there: replays are still refused.
	for i := range 3 {
		if err := m.CheckAndStore(context.Background(), fmt.Sprint("k", i), c.Now().Add(time.Hour)); !errors.Is(err, ErrReplay) {
			t.Fatalf("k%d after full: %v, want ErrReplay", i, err)
		}
	}
	// Once the first entry expires there is room for exactly one key.
	c.Add(time.Minute)
	mustStore(t, m, "new", c.Now().Add(time.Minute))
	if err := m.CheckAndStore(context.Background(), "new2", c.Now().Add(time.Minute)); !errors.Is(err, ErrFull) {
		t.Fatalf("second insert: %v, want ErrFull", err)
	}
	if err := m.CheckAndStore(context.Background(), "k1", c.Now().Add(time.Hour)); !errors.Is(err, ErrReplay) {
		t.Fatalf("k1 must not have been evicted: %v", err)
	}
}

// A07: a flood of unique keys keeps the store within its cap.
func TestMemoryBoundedUnderFlood(t *testing.T) {
	t.Parallel()
	c := newClock()
	const limit = 1000
	m, err := NewMemory(MemoryConfig{MaxEntries: limit, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	var accepted, full int
	for i := range 100_000 {
		if i%5000 == 0 {
			c.Add(30 * time.Second)
		}
		err := m.CheckAndStore(context.Background(), fmt.Sprint("jti-", i), c.Now().Add(time.Minute))
		switch {
		case err == nil:
			accepted++
		case errors.Is(err, ErrFull):
			full++
		default:
			t.Fatal(err)
		}
		if n := m.Len(); n > limit {
			t.Fatalf("store holds %d entries, cap %d", n, limit)
		}
		if m.byExp.Len() > 2*limit+1 {
			t.Fatalf("heap holds %d entries", m.byExp.Len())
		}
	}
	if accepted == 0 || full == 0 {
		t.Fatalf("accepted=%d full=%d: expected both", accepted, full)
	}
}

func TestMemoryConcurrentSameKey(t *testing.T) {
	t.Parallel()
	m, err := NewMemory(MemoryConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var ok, replays atomic.Int32
	var wg sync.WaitGroup
	exp := time.Now().Add(time.Minute)
	for range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch err := m.CheckAndStore(context.Background(), "same", exp); {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, ErrReplay):
				replays.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || replays.Load() != 999 {
		t.Fatalf("ok=%d replays=%d, want 1 and 999", ok.Load(), replays.Load())
	}
}

func TestNewMemoryRejectsNegative(t *testing.T) {
	t.Parallel()
	if _, err := NewMemory(MemoryConfig{MaxEntries: -1}); err == nil {
		t.Fatal("want error")
	}
}

func BenchmarkMemoryCheckAndStore(b *testing.B) {
	m, err := NewMemory(MemoryConfig{MaxEntries: 1 << 20})
	if err != nil {
		b.Fatal(err)
	}
	exp := time.Now().Add(time.Hour)
	keys := make([]string, b.N)
	for i := range keys {
		keys[i] = fmt.Sprint("idjag|https://idp.example|", i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = m.CheckAndStore(context.Background(), keys[i], exp)
	}
}

// One partition (client or IdP) filling its share leaves room for the
// others; the global bound still holds.
func TestMemoryPartitionCap(t *testing.T) {
	t.Parallel()
	c := newClock()
	m, err := NewMemory(MemoryConfig{MaxEntries: 10, MaxEntriesPerPartition: 4, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	exp := c.Now().Add(time.Minute)
	tests := []struct {
		key  string
		want error
	}{
		{"client_assertion|greedy|1", nil},
		{"client_assertion|greedy|2", nil},
		{"client_assertion|greedy|3", nil},
		{"client_assertion|greedy|4", nil},
		{"client_assertion|greedy|5", ErrFull},
		{"client_assertion|greedy|x|y", ErrFull}, // a "|" in the jti stays in the partition
		{"client_assertion|other|1", nil},
		{"idjag|https://idp.example|1", nil},
		{"idjag|https://idp.example|2", nil},
		{"idjag|https://idp.example|3", nil},
		{"idjag|https://idp2.example|1", nil},
		{"idjag|https://idp3.example|1", nil},
		{"idjag|https://idp4.example|1", ErrFull}, // global bound: 10
		{"client_assertion|greedy|1", ErrReplay},
	}
	for _, tc := range tests {
		if err := m.CheckAndStore(context.Background(), tc.key, exp); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.key, err, tc.want)
		}
	}
	if got := Partition("client_assertion|greedy|x|y"); got != "client_assertion|greedy" {
		t.Errorf("Partition = %q", got)
	}
}

func TestMemoryByteBound(t *testing.T) {
	t.Parallel()
	c := newClock()
	m, err := NewMemory(MemoryConfig{MaxBytes: 3 * (100 + entryOverhead), MaxBytesPerPartition: 3 * (100 + entryOverhead), MaxKeyLength: 1000, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		err := m.CheckAndStore(context.Background(), fmt.Sprintf("%0100d", i), c.Now().Add(time.Minute))
		if (i < 3) != (err == nil) || (i == 3 && !errors.Is(err, ErrFull)) {
			t.Fatalf("key %d: %v", i, err)
		}
	}
}

// After a peak, expired entries are swept by the next call and the tables
// shrink, so memory returns.
func TestMemorySweepsAfterPeak(t *testing.T) {
	t.Parallel()
	c := newClock()
	m, err := NewMemory(MemoryConfig{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20_000 {
		mustStore(t, m, fmt.Sprint("idjag|iss|", i), c.Now().Add(time.Minute))
	}
	if m.Len() != 20_000 || m.Bytes() == 0 {
		t.Fatalf("Len=%d Bytes=%d", m.Len(), m.Bytes())
	}
	c.Add(time.Minute)
	mustStore(t, m, "idjag|iss|after", c.Now().Add(time.Minute))
	if m.Len() != 1 || m.Bytes() != int64(len("idjag|iss|after"))+entryOverhead {
		t.Fatalf("after expiry: Len=%d Bytes=%d", m.Len(), m.Bytes())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.peak != 1 || cap(m.byExp) > 16 || len(m.parts) != 1 {
		t.Fatalf("tables not rebuilt: peak=%d heap cap=%d parts=%d", m.peak, cap(m.byExp), len(m.parts))
	}
}

// The default partition share is a quarter of each global bound, so one
// partition never takes the whole store, whatever MaxEntries is.
func TestMemoryPartitionDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		cfg              MemoryConfig
		wantPart         int
		wantB, wantPartB int64
	}{
		{"zero", MemoryConfig{}, DefaultMaxEntriesPerPartition, DefaultMaxBytes, DefaultMaxBytes / 4},
		{"small store", MemoryConfig{MaxEntries: 1000}, 250, DefaultMaxBytes, DefaultMaxBytes / 4},
		{"tiny store", MemoryConfig{MaxEntries: 2}, 1, DefaultMaxBytes, DefaultMaxBytes / 4},
		{"big store", MemoryConfig{MaxEntries: 1 << 20}, DefaultMaxEntriesPerPartition, DefaultMaxBytes, DefaultMaxBytes / 4},
		{"explicit over global", MemoryConfig{MaxEntries: 10, MaxEntriesPerPartition: 50, MaxBytes: 4096, MaxBytesPerPartition: 1 << 20}, 10, 4096, 4096},
		{"byte budget", MemoryConfig{MaxBytes: 1 << 20}, DefaultMaxEntriesPerPartition, 1 << 20, 1 << 18},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := NewMemory(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if m.maxPart != tt.wantPart || m.maxB != tt.wantB || m.maxPB != tt.wantPartB {
				t.Fatalf("partition %d, bytes %d, partition bytes %d; want %d, %d, %d", m.maxPart, m.maxB, m.maxPB, tt.wantPart, tt.wantB, tt.wantPartB)
			}
		})
	}
	if _, err := NewMemory(MemoryConfig{MaxBytesPerPartition: -1}); err == nil {
		t.Fatal("negative MaxBytesPerPartition accepted")
	}
}

// Long keys: one partition reaches its byte share and is refused while
// another partition, and the global budget, still have room; the share
// returns once its entries expire.
func TestMemoryPartitionByteCap(t *testing.T) {
	t.Parallel()
	c := newClock()
	m, err := NewMemory(MemoryConfig{MaxBytes: 4 * 4 * (1000 + entryOverhead), MaxKeyLength: 4096, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	long := func(owner string, i int) string { return Key("client_assertion", owner, fmt.Sprintf("%0980d", i)) }
	exp := c.Now().Add(time.Minute)
	var stored int
	for i := range 100 {
		err := m.CheckAndStore(context.Background(), long("greedy", i), exp)
		if errors.Is(err, ErrFull) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		stored++
	}
	if stored == 0 || stored >= 5 {
		t.Fatalf("greedy partition stored %d long keys, want 1..4", stored)
	}
	if got := m.Bytes(); got > m.maxB/4 {
		t.Fatalf("greedy partition holds %d bytes, share %d", got, m.maxB/4)
	}
	for i := range stored {
		mustStore(t, m, long("other", i), exp)
	}
	c.Add(2 * time.Minute)
	mustStore(t, m, long("greedy", 999), c.Now().Add(time.Minute))
}
