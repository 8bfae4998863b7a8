package core

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// bindErr is a session store whose Bind fails with err.
type bindErr struct {
	*MemorySessions
	err error
}

func (b bindErr) Bind(context.Context, string, string, time.Duration, int) error { return b.err }

// TestBindRefusalAudited: a binding refused when the server's answer
// creates the session is recorded as a second event with the status the
// client got, and logged; the first event (the request's) says allow/200.
func TestBindRefusalAudited(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error    // Bind's error (nil: the memory store)
		ids    []string // Mcp-Session-Id values of the server's answer
		status int
		reason string
		warn   bool
	}{
		{"store down", errors.New("redis: connection reset"), []string{"S1"}, http.StatusServiceUnavailable, "unavailable", true},
		{"cap race", ErrSessionLimit, []string{"S1"}, http.StatusTooManyRequests, "session_limit", false},
		{"already bound", ErrSessionBound, []string{"S1"}, http.StatusNotFound, "session", false},
		{"two ids", nil, []string{"S1", "S2"}, http.StatusInternalServerError, "internal", true},
		{"invalid id", nil, []string{"S 1"}, http.StatusInternalServerError, "internal", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem, err := NewMemorySessions(MemorySessionsConfig{})
			if err != nil {
				t.Fatal(err)
			}
			var mu sync.Mutex
			var evs []DecisionEvent
			var logs bytes.Buffer
			g := newGuard(t, func(c *Config) {
				c.Sessions = mem
				if tc.err != nil {
					c.Sessions = bindErr{mem, tc.err}
				}
				c.Logger = slog.New(slog.NewTextHandler(syncWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
				c.Audit = AuditFunc(func(_ context.Context, ev DecisionEvent) { mu.Lock(); evs = append(evs, ev); mu.Unlock() })
			})
			body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`
			r := httptest.NewRequest(http.MethodPost, "/mcp", strings.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+tokAlice)
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Accept", "application/json, text/event-stream")
			w := httptest.NewRecorder()
			g.Serve(w, r, func(w http.ResponseWriter, r *http.Request) {
				for _, id := range tc.ids {
					w.Header().Add("Mcp-Session-Id", id)
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":1,"result":{}}`))
			})
			mu.Lock()
			defer mu.Unlock()
			if w.Code != tc.status {
				t.Fatalf("client got %d, want %d", w.Code, tc.status)
			}
			if len(evs) != 2 {
				t.Fatalf("got %d audit events, want 2 (allow, then the refusal): %+v", len(evs), evs)
			}
			if evs[0].Decision != DecisionAllow || evs[0].Status != http.StatusOK {
				t.Errorf("first event %s/%d, want allow/200", evs[0].Decision, evs[0].Status)
			}
			ev := evs[1]
			if ev.Decision == DecisionAllow || ev.Status != tc.status || !strings.HasPrefix(ev.Reason, tc.reason) {
				t.Errorf("refusal event %s/%d %q, want %d %q", ev.Decision, ev.Status, ev.Reason, tc.status, tc.reason)
			}
			if ev.Subject == "" || ev.Method != "initialize" {
				t.Errorf("refusal event lost the request's identity: sub=%q method=%q", ev.Subject, ev.Method)
			}
			line := "level=DEBUG"
			if tc.warn {
				line = "level=WARN"
			}
			if !strings.Contains(logs.String(), line) || !strings.Contains(logs.String(), "kind="+tc.reason) {
				t.Errorf("no %s log line for kind %s: %q", line, tc.reason, logs.String())
			}
		})
	}
}
