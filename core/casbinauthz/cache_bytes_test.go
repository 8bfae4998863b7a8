package casbinauthz

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

// rssBytes is the resident set size of this process (Linux).
func rssBytes(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Fatalf("reading RSS: %v", err)
	}
	f := strings.Fields(string(b))
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return pages * int64(os.Getpagesize())
}

func settledRSS(t *testing.T) int64 {
	runtime.GC()
	debug.FreeOSMemory()
	return rssBytes(t)
}

// TestHugeNamesDoNotGrowMemory is the §2 cache figure: 150 denied calls
// with distinct 900 KB tool names grow RSS by < 20 MB, by the cache bound
// alone (the authorizer is called directly, without the inspection caps).
// Not parallel: it measures the process.
func TestHugeNamesDoNotGrowMemory(t *testing.T) {
	for _, model := range []string{"rbac", "abac"} {
		t.Run(model, func(t *testing.T) {
			pol := "p, *, tool:echo, call, allow\n"
			if model == "abac" {
				pol = "p, *, tool:echo, call, true, allow\n"
			}
			a, err := New(Config{Model: mustModel(t, model), Source: StringSource(pol)})
			if err != nil {
				t.Fatal(err)
			}
			p := user("mallory", "eng")
			before := settledRSS(t)
			for i := range 150 {
				name := strings.Repeat(string(rune('a'+i%26)), 900<<10) + strconv.Itoa(i)
				d, err := a.Authorize(context.Background(), p, core.Permission{Kind: core.ObjectTool, Name: name, Action: core.ActionCall, Method: "tools/call"})
				if err != nil || d.Allow {
					t.Fatalf("call %d: %+v %v", i, d, err)
				}
			}
			after := settledRSS(t)
			cached := a.cur.Load().cache.size()
			t.Logf("RSS %d → %d KiB (+%d KiB), cache %d entries / %d bytes", before>>10, after>>10, (after-before)>>10, a.cur.Load().cache.len(), cached)
			if grow := after - before; grow >= 20<<20 {
				t.Fatalf("RSS grew by %d MiB", grow>>20)
			}
			if cached > DefaultCacheMaxEntry*2 {
				t.Fatalf("cache holds %d bytes after oversized requests", cached)
			}
		})
	}
}

// TestCacheBoundedInBytes: whatever the key sizes, the cache never holds
// more than its byte bound, and entries above the per-entry cap are not
// cached.
func TestCacheBoundedInBytes(t *testing.T) {
	t.Parallel()
	c := newDecisionCache(cacheLimits{entries: 1 << 20, bytes: 64 << 10, maxEntry: 2048})
	for i := range 5000 {
		k := strings.Repeat("k", i%3000) + strconv.Itoa(i)
		c.put(k, core.Decision{Rule: "p, *, tool:x, call, allow", Reason: ReasonAllowed})
		if c.size() > 64<<10 {
			t.Fatalf("cache holds %d bytes", c.size())
		}
		_, ok := c.get([]byte(k))
		if want := int(entrySize(k, core.Decision{Rule: "p, *, tool:x, call, allow", Reason: ReasonAllowed})) <= 2048; ok != want {
			t.Fatalf("key of %d bytes: cached=%t, want %t", len(k), ok, want)
		}
	}
}

// TestAppendLen: appendLen writes exactly strconv.AppendInt's digits, on
// both sides of its one- and two-digit shortcuts.
func TestAppendLen(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 9, 10, 11, 42, 99, 100, 101, 999, 1000, 65535, 1 << 40} {
		if got, want := string(appendLen([]byte("k"), n)), "k"+strconv.Itoa(n); got != want {
			t.Errorf("appendLen(%d) = %q, want %q", n, got, want)
		}
	}
}
