package core

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// TestListAuditHidden: the items a list filter hides are audited in one
// DecisionFilter event per response (count + first names, bounded), after
// the request's allow; a list that hides nothing adds no event.
func TestListAuditHidden(t *testing.T) {
	t.Parallel()
	longName := strings.Repeat("x", 600)
	many := func(n int, name func(int) string) string {
		var b strings.Builder
		b.WriteString(`{"jsonrpc":"2.0","id":"L1","result":{"tools":[{"name":"ls","inputSchema":{"type":"object"}}`)
		for i := range n {
			fmt.Fprintf(&b, `,{"name":%q,"inputSchema":{"type":"object"}}`, name(i))
		}
		b.WriteString(`]}}`)
		return b.String()
	}
	tests := []struct {
		name      string
		ctype     string
		body      string
		wantCount int      // 0: no DecisionFilter event
		wantFirst []string // a prefix of HiddenItems
		wantItems int      // len(HiddenItems); -1: not checked
	}{
		{"json, rm hidden", "application/json", listResponse, 1, []string{"tool:rm"}, 1},
		{"sse, rm hidden", "text/event-stream", "event: message\ndata: " + listResponse + "\n\n", 1, []string{"tool:rm"}, 1},
		{"nothing hidden", "application/json", many(0, nil), 0, nil, 0},
		{"many hidden: count all, name the first", "application/json", many(500, func(i int) string { return fmt.Sprint("secret-", i) }),
			500, []string{"tool:secret-0", "tool:secret-1"}, MaxLogItems},
		{"long names: byte bound", "application/json", many(20, func(i int) string { return fmt.Sprint(i, longName) }),
			20, nil, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var evs []DecisionEvent
			g := newGuard(t, func(c *Config) {
				c.Audit = AuditFunc(func(_ context.Context, ev DecisionEvent) { mu.Lock(); evs = append(evs, ev); mu.Unlock() })
			})
			res, err := g.Check(context.Background(), post(tokAlice, toolsList))
			if err != nil || !res.NeedsFilter() {
				t.Fatalf("Check: %v", err)
			}
			rec := httptest.NewRecorder()
			fw := res.WrapResponseWriter(rec)
			fw.Header().Set("Content-Type", tc.ctype)
			fw.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(fw, tc.body)
			if err := fw.Close(); err != nil {
				t.Fatal(err)
			}
			if err := fw.Close(); err != nil { // idempotent: still one event
				t.Fatal(err)
			}
			if bytes.Contains(rec.Body.Bytes(), []byte("secret-")) || bytes.Contains(rec.Body.Bytes(), []byte(`"rm"`)) {
				t.Fatal("a hidden item reached the response")
			}
			mu.Lock()
			defer mu.Unlock()
			if len(evs) == 0 || evs[0].Decision != DecisionAllow {
				t.Fatalf("events %+v: want the allow first", evs)
			}
			if tc.wantCount == 0 {
				if len(evs) != 1 {
					t.Fatalf("%d events, want only the allow: %+v", len(evs), evs[1:])
				}
				return
			}
			if len(evs) != 2 {
				t.Fatalf("%d events, want allow + filter", len(evs))
			}
			ev := evs[1]
			if ev.Decision != DecisionFilter || ev.Hidden != tc.wantCount || ev.Subject != evs[0].Subject || ev.Method != "tools/list" {
				t.Fatalf("filter event %+v", ev)
			}
			if tc.wantItems >= 0 && len(ev.HiddenItems) != tc.wantItems {
				t.Errorf("%d hidden names, want %d", len(ev.HiddenItems), tc.wantItems)
			}
			for i, w := range tc.wantFirst {
				if i >= len(ev.HiddenItems) || ev.HiddenItems[i] != w {
					t.Errorf("HiddenItems = %q, want prefix %q", ev.HiddenItems, tc.wantFirst)
					break
				}
			}
			n := 0
			for _, s := range ev.HiddenItems {
				if len(s) > MaxLogField {
					t.Errorf("name of %d bytes", len(s))
				}
				n += len(s)
			}
			if n > MaxHiddenBytes || len(ev.HiddenItems) > MaxLogItems {
				t.Errorf("%d names, %d bytes: over the bound", len(ev.HiddenItems), n)
			}
		})
	}
}

// TestListAuditSlog: SlogAudit writes the hidden count and names.
func TestListAuditSlog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	g := newGuard(t, func(c *Config) { c.Audit = SlogAudit(slog.New(slog.NewTextHandler(&buf, nil))) })
	res, err := g.Check(context.Background(), post(tokAlice, toolsList))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.FilterBody("application/json", []byte(listResponse)); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); !strings.Contains(out, "decision=filter") || !strings.Contains(out, "hidden=1") || !strings.Contains(out, "tool:rm") {
		t.Fatalf("no filter record:\n%s", out)
	}
}
