package client

import (
	"context"
	"sync"
	"testing"
	"time"
)

// countingGrant issues tokens of a fixed lifetime from a clock and counts
// the requests.
type countingGrant struct {
	mu       sync.Mutex
	n        int
	now      func() time.Time
	lifetime time.Duration
}

func (g *countingGrant) FetchToken(context.Context, *TokenRequest) (*Token, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	return &Token{AccessToken: "tok", TokenType: "Bearer", Expiry: g.now().Add(g.lifetime)}, nil
}

func (g *countingGrant) BoundIssuer() string { return "" }

func (g *countingGrant) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// A token is renewed min(ExpirySkew, lifetime/2) before it expires: a
// lifetime at or under ExpirySkew no longer means one token request per
// use.
func TestTokenRenewedAheadOfExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		lifetime time.Duration
		// at are the times of Token calls after the first fetch, and
		// fetches the token requests expected after each.
		at      []time.Duration
		fetches []int
	}{
		{"long lifetime: renewed ExpirySkew ahead", time.Hour,
			[]time.Duration{0, 30 * time.Minute, time.Hour - 31*time.Second, time.Hour - 30*time.Second},
			[]int{1, 1, 1, 2}},
		{"lifetime equal to ExpirySkew: renewed at half", 30 * time.Second,
			[]time.Duration{0, time.Second, 14 * time.Second, 15 * time.Second},
			[]int{1, 1, 1, 2}},
		{"short lifetime: renewed at half", 10 * time.Second,
			[]time.Duration{0, 4 * time.Second, 5 * time.Second, 6 * time.Second, 9 * time.Second, 10 * time.Second},
			[]int{1, 1, 2, 2, 2, 3}},
		{"lifetime just over ExpirySkew", 40 * time.Second,
			[]time.Duration{0, 10 * time.Second, 19 * time.Second, 20 * time.Second},
			[]int{1, 1, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			start := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
			now := start
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			g := &countingGrant{now: clock, lifetime: tt.lifetime}
			a := mustNew(t, Config{ServerURL: "https://mcp.example.com/mcp", Grant: g, Now: clock})
			a.d = &Discovery{Resource: "https://mcp.example.com/mcp"}
			for i, at := range tt.at {
				mu.Lock()
				now = start.Add(at)
				mu.Unlock()
				tok, err := a.Token(context.Background())
				if err != nil || tok == nil {
					t.Fatalf("Token at +%v: %v", at, err)
				}
				if got := g.count(); got != tt.fetches[i] {
					t.Fatalf("after Token at +%v: %d token requests, want %d", at, got, tt.fetches[i])
				}
			}
		})
	}
}
