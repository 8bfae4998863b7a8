package lru

import (
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"
)

var t0 = time.Unix(1_800_000_000, 0)

func TestCache(t *testing.T) {
	c := New[string, int](3, 100)
	later := t0.Add(time.Minute)
	steps := []struct {
		name string
		do   func()
		keys map[string]int // present after the step (looked up at t0 in key order)
	}{
		{"fill", func() { c.Put("a", 1, 10, later); c.Put("b", 2, 10, later); c.Put("c", 3, 10, later) },
			map[string]int{"a": 1, "b": 2, "c": 3}},
		{"entry bound drops the least recently used", func() { _, _ = c.Get("a", t0); c.Put("d", 4, 10, later) },
			map[string]int{"a": 1, "c": 3, "d": 4}},
		{"replace", func() { c.Put("c", 30, 10, later) }, map[string]int{"a": 1, "c": 30, "d": 4}},
		{"byte bound", func() { c.Put("e", 5, 85, later) }, map[string]int{"d": 4, "e": 5}},
		{"too large for the cache drops the old entry", func() { c.Put("d", 40, 101, later) }, map[string]int{"e": 5}},
		{"delete", func() { c.Delete("e"); c.Delete("nope") }, map[string]int{}},
		{"expired", func() { c.Put("f", 6, 1, t0) }, map[string]int{}},
	}
	for _, st := range steps {
		st.do()
		for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
			v, ok := c.Get(k, t0)
			if want, in := st.keys[k]; ok != in || v != want {
				t.Errorf("%s: Get(%s) = %d %v, want %d %v", st.name, k, v, ok, want, in)
			}
		}
		if c.Len() != len(st.keys) {
			t.Errorf("%s: Len = %d, want %d", st.name, c.Len(), len(st.keys))
		}
	}
	if c.Bytes() != 0 {
		t.Errorf("Bytes of an empty cache = %d", c.Bytes())
	}
}

func TestNoEntryBound(t *testing.T) {
	c := New[int, int](0, 1000)
	for i := range 1000 {
		c.Put(i, i, 1, t0.Add(time.Hour))
	}
	if c.Len() != 1000 || c.Bytes() != 1000 {
		t.Fatalf("Len %d Bytes %d, want 1000 1000", c.Len(), c.Bytes())
	}
	c.Put(1000, 1000, 1, t0.Add(time.Hour))
	if _, ok := c.Get(0, t0); ok || c.Len() != 1000 {
		t.Fatalf("the oldest entry outlived the byte bound (Len %d)", c.Len())
	}
}

// The bounds and the accounting hold under concurrent random use.
func TestConcurrentBounds(t *testing.T) {
	c := New[string, string](50, 4000)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 2000 {
				k := strconv.Itoa(r.IntN(200))
				switch r.IntN(4) {
				case 0:
					c.Delete(k)
				case 1:
					_, _ = c.Get(k, t0.Add(time.Duration(r.IntN(3))*time.Second))
				default:
					c.Put(k, k, int64(r.IntN(150)), t0.Add(time.Duration(r.IntN(3))*time.Second))
				}
				if n, b := c.Len(), c.Bytes(); n > 50 || b > 4000 || b < 0 {
					t.Errorf("Len %d Bytes %d beyond the bounds", n, b)
					return
				}
			}
		})
	}
	wg.Wait()
	var sum int64
	for el := c.ll.Front(); el != nil; el = el.Next() {
		sum += el.Value.(*item[string, string]).size
	}
	if sum != c.Bytes() || len(c.items) != c.ll.Len() {
		t.Fatalf("accounting drifted: sum %d Bytes %d, map %d list %d", sum, c.Bytes(), len(c.items), c.ll.Len())
	}
}

// model is the plain reference: a slice, most recently used first.
type model struct {
	maxN     int
	maxBytes int64
	items    []modelItem
}

type modelItem struct {
	k     int
	v     int
	size  int64
	until time.Time
}

func (m *model) find(k int) int {
	for i, it := range m.items {
		if it.k == k {
			return i
		}
	}
	return -1
}

func (m *model) bytes() (n int64) {
	for _, it := range m.items {
		n += it.size
	}
	return n
}

func (m *model) get(k int, now time.Time) (int, bool) {
	i := m.find(k)
	if i < 0 {
		return 0, false
	}
	it := m.items[i]
	m.items = append(m.items[:i], m.items[i+1:]...)
	if !now.Before(it.until) {
		return 0, false
	}
	m.items = append([]modelItem{it}, m.items...)
	return it.v, true
}

func (m *model) put(it modelItem) {
	if i := m.find(it.k); i >= 0 {
		m.items = append(m.items[:i], m.items[i+1:]...)
	}
	if it.size > m.maxBytes {
		return
	}
	m.items = append([]modelItem{it}, m.items...)
	for (m.maxN > 0 && len(m.items) > m.maxN) || m.bytes() > m.maxBytes {
		m.items = m.items[:len(m.items)-1]
	}
}

// Random operations give the same answers as the reference model.
func TestAgainstModel(t *testing.T) {
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 2))
		maxN, maxBytes := r.IntN(8), int64(20+r.IntN(200))
		c, m := New[int, int](maxN, maxBytes), &model{maxN: maxN, maxBytes: maxBytes}
		for op := range 3000 {
			k, now := r.IntN(24), t0.Add(time.Duration(op)*time.Millisecond)
			switch r.IntN(5) {
			case 0:
				c.Delete(k)
				if i := m.find(k); i >= 0 {
					m.items = append(m.items[:i], m.items[i+1:]...)
				}
			case 1, 2:
				got, ok := c.Get(k, now)
				want, wok := m.get(k, now)
				if got != want || ok != wok {
					t.Fatalf("seed %d op %d: Get(%d) = %d %v, model %d %v", seed, op, k, got, ok, want, wok)
				}
			default:
				it := modelItem{k: k, v: op, size: int64(r.IntN(60)), until: now.Add(time.Duration(r.IntN(50)) * time.Millisecond)}
				c.Put(it.k, it.v, it.size, it.until)
				m.put(it)
			}
			if c.Len() != len(m.items) || c.Bytes() != m.bytes() {
				t.Fatalf("seed %d op %d: Len %d Bytes %d, model %d %d", seed, op, c.Len(), c.Bytes(), len(m.items), m.bytes())
			}
		}
	}
}
