package casbinauthz

import (
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

// TestLastForFull: lastFor answers only a decision of the live policy
// version for the same object, action and domain, and reports the memo
// full (so Authorize skips remember) only when every slot holds a
// decision of that version; an empty or stale slot leaves room.
func TestLastForFull(t *testing.T) {
	t.Parallel()
	const live, old = 7, 6
	ld := func(version uint64, name string, allow bool) *lastDecision {
		return &lastDecision{version: version, kind: core.ObjectTool, name: name, action: core.ActionCall, dom: "d", d: core.Decision{Allow: allow}}
	}
	tests := []struct {
		name             string
		slots            []*lastDecision
		ask              string
		wantOK, wantFull bool
		wantAllow        bool
	}{
		{"empty", nil, "t1", false, false, false},
		{"hit", []*lastDecision{ld(live, "t0", false), ld(live, "t1", true)}, "t1", true, false, true},
		{"old version never served", []*lastDecision{ld(old, "t1", true)}, "t1", false, false, false},
		{"old version, memo otherwise full", []*lastDecision{ld(live, "t0", false), ld(old, "t1", true), ld(live, "t2", false), ld(live, "t3", false)}, "t1", false, false, false},
		{"room left", []*lastDecision{ld(live, "t0", true), ld(live, "t2", true), ld(live, "t3", true)}, "t1", false, false, false},
		{"full of other objects", []*lastDecision{ld(live, "t0", true), ld(live, "t2", true), ld(live, "t3", true), ld(live, "t4", true)}, "t1", false, true, false},
		{"full, hit in the last slot", []*lastDecision{ld(live, "t0", false), ld(live, "t2", false), ld(live, "t3", false), ld(live, "t1", true)}, "t1", true, false, true},
		{"other action", []*lastDecision{{version: live, kind: core.ObjectTool, name: "t1", action: core.ActionRead, dom: "d", d: core.Decision{Allow: true}}}, "t1", false, false, false},
		{"other domain", []*lastDecision{{version: live, kind: core.ObjectTool, name: "t1", action: core.ActionCall, dom: "e", d: core.Decision{Allow: true}}}, "t1", false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var m principalMemo
			for i, s := range tt.slots {
				m.last[i].Store(s)
			}
			d, ok, full := m.lastFor(live, core.Permission{Kind: core.ObjectTool, Name: tt.ask, Action: core.ActionCall}, "d")
			if ok != tt.wantOK || full != tt.wantFull || d.Allow != tt.wantAllow {
				t.Errorf("lastFor = allow %v, ok %v, full %v; want %v, %v, %v", d.Allow, ok, full, tt.wantAllow, tt.wantOK, tt.wantFull)
			}
		})
	}
}
