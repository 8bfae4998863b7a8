package redisstore

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/core"
)

// A garbled GCRA reply refuses with core.ErrStoreUnavailable (503); it is
// never read as an allow.
func TestGCRAReplyFailsClosed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		res  []int64
		peek bool
		want authserver.LimitDecision
		bad  bool
	}{
		{name: "allow", res: []int64{1, 0, 0}, want: authserver.LimitDecision{Allowed: true}},
		{name: "allow idle peek", res: []int64{1, 0, 1}, peek: true, want: authserver.LimitDecision{Allowed: true, Idle: true}},
		{name: "idle ignored on charge", res: []int64{1, 0, 1}, want: authserver.LimitDecision{Allowed: true}},
		{name: "refuse", res: []int64{0, 1500, 0}, want: authserver.LimitDecision{RetryAfter: 1500 * time.Microsecond}},
		{name: "empty", res: nil, bad: true},
		{name: "two values", res: []int64{1, 0}, bad: true},
		{name: "four values", res: []int64{1, 0, 0, 0}, bad: true},
		{name: "allowed flag 2", res: []int64{2, 0, 0}, bad: true},
		{name: "allowed flag -1", res: []int64{-1, 0, 0}, bad: true},
		{name: "idle flag 7", res: []int64{1, 0, 7}, bad: true},
		{name: "negative retry", res: []int64{0, -5, 0}, bad: true},
		{name: "min int retry (inf in Lua)", res: []int64{0, math.MinInt64, 0}, bad: true},
		{name: "overflowing retry", res: []int64{0, math.MaxInt64, 0}, bad: true},
		{name: "allow with retry", res: []int64{1, 10, 0}, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := gcraReply(tt.res, tt.peek)
			if tt.bad {
				if !errors.Is(err, core.ErrStoreUnavailable) || got.Allowed {
					t.Fatalf("%v: %+v, %v; want ErrStoreUnavailable", tt.res, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("%v: %+v, %v; want %+v", tt.res, got, err, tt.want)
			}
		})
	}
}

// A bucket whose stored state is not a finite number (written by something
// else, or corrupted) makes the decision fail closed, on a real Redis, for
// both a charge and a peek.
func TestLimiterCorruptBucketFailsClosed(t *testing.T) {
	srv := startRedis(t)
	rc := srv.client(t)
	l, err := NewLimiter(Config{Client: rc})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	lim := authserver.Limit{PerSecond: 10, Burst: 5}
	for _, v := range []string{"nan", "-nan", "inf", "-inf", "abc", "", "1e999"} {
		key := "client-" + v
		if err := rc.Set(ctx, l.key("rl", key), v, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
		for _, peek := range []bool{false, true} {
			run := l.Allow
			if peek {
				run = l.Peek
			}
			d, err := run(ctx, key, lim)
			if !errors.Is(err, core.ErrStoreUnavailable) || d.Allowed {
				t.Errorf("bucket %q (peek %t): %+v, %v; want ErrStoreUnavailable", v, peek, d, err)
			}
		}
	}
	// A sound bucket still decides.
	if d, err := l.Allow(ctx, "client-ok", lim); err != nil || !d.Allowed {
		t.Fatalf("sound bucket: %+v, %v", d, err)
	}
}

// FuzzGCRAReply: any three-value reply decodes to a decision with a wait
// of zero or more, or to ErrStoreUnavailable; an allow never has a wait.
func FuzzGCRAReply(f *testing.F) {
	for _, s := range [][3]int64{{1, 0, 0}, {0, 1500, 1}, {2, 0, 0}, {0, -1, 0}, {1, 5, 0}, {0, math.MinInt64, 0}} {
		f.Add(s[0], s[1], s[2], false)
	}
	f.Fuzz(func(t *testing.T, a, b, c int64, peek bool) {
		d, err := gcraReply([]int64{a, b, c}, peek)
		if err != nil {
			if !errors.Is(err, core.ErrStoreUnavailable) || d.Allowed {
				t.Fatalf("%d %d %d: %+v, %v", a, b, c, d, err)
			}
			return
		}
		if d.RetryAfter < 0 || (d.Allowed && d.RetryAfter != 0) || (d.Allowed != (a == 1)) || (d.Idle && !peek) {
			t.Fatalf("%d %d %d: %+v", a, b, c, d)
		}
	})
}
