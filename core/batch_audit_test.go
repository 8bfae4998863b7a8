package core

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// TestBatchAuditNamesEveryOperation: an allowed 2025-03-26 batch executes
// every call in it, so its one audit record must name every call. The
// record used to name only the last operation: a deploy with its
// arguments, followed by an echo, was logged as target=tool:echo with no
// arguments, so the audit trail never showed the deploy.
func TestBatchAuditNamesEveryOperation(t *testing.T) {
	decls, err := inspect.NewArgDecls([]inspect.ToolArgs{{Tool: "ls", Args: []inspect.ArgSpec{
		{Name: "env", Type: inspect.ArgString, Default: "staging"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	call := func(id, name, args string) string {
		return `{"jsonrpc":"2.0","id":` + id + `,"method":"tools/call","params":{"name":"` + name + `","arguments":` + args + `}}`
	}
	for _, tc := range []struct {
		name       string
		body       string
		wantTarget string
		wantArgs   []string // substrings of Args
		wantNot    []string
	}{
		{"single call unchanged", call("1", "ls", `{"env":"production"}`), "tool:ls", []string{`env="production"`}, []string{"tool:"}},
		{"batch: hidden first call", "[" + call("1", "ls", `{"env":"production"}`) + "," + call("2", "echo", `{}`) + "]",
			"tool:ls,tool:echo", []string{`tool:ls env="production"`}, nil},
		{"batch: repeated targets listed once", "[" + call("1", "echo", `{}`) + "," + call("2", "echo", `{}`) + "," +
			call("3", "ls", `{"env":"a"}`) + "," + call("4", "ls", `{"env":"b"}`) + "]",
			"tool:echo,tool:ls", []string{`tool:ls env="a"`, `tool:ls env="b"`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var evs []DecisionEvent
			g := newGuard(t, func(c *Config) {
				c.Inspect.Args = decls
				c.Audit = AuditFunc(func(_ context.Context, ev DecisionEvent) { mu.Lock(); evs = append(evs, ev); mu.Unlock() })
			})
			if _, err := g.Check(context.Background(), post(tokAlice, tc.body, "Mcp-Protocol-Version", "")); err != nil {
				t.Fatalf("Check: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(evs) != 1 {
				t.Fatalf("got %d audit events, want 1", len(evs))
			}
			ev := evs[0]
			if ev.Decision != DecisionAllow || ev.Target != tc.wantTarget {
				t.Errorf("decision %s target %q, want allow %q", ev.Decision, ev.Target, tc.wantTarget)
			}
			for _, s := range tc.wantArgs {
				if !strings.Contains(ev.Args, s) {
					t.Errorf("args %q do not contain %q", ev.Args, s)
				}
			}
			for _, s := range tc.wantNot {
				if strings.Contains(ev.Args, s) {
					t.Errorf("args %q contain %q", ev.Args, s)
				}
			}
		})
	}
}

// TestBatchAuditBounded: a batch of many distinct calls still gives a
// record bounded in bytes, and a cut field says so.
func TestBatchAuditBounded(t *testing.T) {
	decls, err := inspect.NewArgDecls([]inspect.ToolArgs{{Tool: "ls", Args: []inspect.ArgSpec{
		{Name: "env", Type: inspect.ArgString, Default: "staging"},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("[")
	for i := range 60 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"jsonrpc":"2.0","id":` + strings.Repeat("1", 1+i%3) + `,"method":"tools/call","params":{"name":"ls","arguments":{"env":"` +
			strings.Repeat(string(rune('a'+i%26)), 40+i) + `"}}}`)
	}
	b.WriteString("]")
	var ev DecisionEvent
	g := newGuard(t, func(c *Config) {
		c.Inspect.Args = decls
		c.Audit = AuditFunc(func(_ context.Context, e DecisionEvent) { ev = e })
	})
	if _, err := g.Check(context.Background(), post(tokAlice, b.String(), "Mcp-Protocol-Version", "")); err != nil {
		t.Fatalf("Check: %v", err)
	}
	if len(ev.Args) > auditBatchArgsBytes+8 || !strings.HasSuffix(ev.Args, "…") {
		t.Errorf("args of %d bytes, want at most %d and a cut marker: %q", len(ev.Args), auditBatchArgsBytes, ev.Args)
	}
	if len(ev.Target) > MaxLogField || len(ev.Rule) > MaxLogField {
		t.Errorf("target %d bytes, rule %d bytes, want ≤ %d", len(ev.Target), len(ev.Rule), MaxLogField)
	}
}
