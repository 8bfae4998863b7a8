package core

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWarnLogAggregated: during a key-set outage every request is refused
// and audited, but the Warn line of a kind is written once per
// WarnLogInterval, the next one carrying how many were left out.
func TestWarnLogAggregated(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		interval time.Duration
		lines    int // Warn lines for 5 refusals, then 1 after 11 s
		last     string
	}{
		{"default", 0, 2, "suppressed=4"},
		{"every line", -1, 6, ""},
		{"longer interval", time.Minute, 1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var logs bytes.Buffer
			audits := 0
			now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
			g := newGuard(t, func(c *Config) {
				c.WarnLogInterval = tc.interval
				c.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
				c.Logger = slog.New(slog.NewTextHandler(syncWriter{&mu, &logs}, nil))
				c.Audit = AuditFunc(func(context.Context, DecisionEvent) { mu.Lock(); audits++; mu.Unlock() })
			})
			for i := range 6 {
				if i == 5 {
					mu.Lock()
					now = now.Add(11 * time.Second)
					mu.Unlock()
				}
				if _, err := g.Check(context.Background(), post("down.x", toolCall("ls"))); err == nil {
					t.Fatal("allowed while the key set is down")
				}
			}
			mu.Lock()
			defer mu.Unlock()
			lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
			if audits != 6 || len(lines) != tc.lines {
				t.Fatalf("%d audit events, %d Warn lines, want 6 and %d:\n%s", audits, len(lines), tc.lines, logs.String())
			}
			if got := lines[len(lines)-1]; !strings.Contains(got, "level=WARN") || !strings.Contains(got, tc.last) ||
				(tc.last == "" && strings.Contains(got, "suppressed")) {
				t.Errorf("last line %q, want %q", got, tc.last)
			}
		})
	}
}
