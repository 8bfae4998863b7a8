package core

import "context"

// DecisionFilter is the Decision of the event recorded when a list response
// of an allowed */list request had items removed by the list filter
// (DecisionEvent.Hidden, HiddenItems): a second event for that request,
// after its DecisionAllow.
const DecisionFilter = "filter"

// MaxHiddenBytes bounds the names in DecisionEvent.HiddenItems together.
const MaxHiddenBytes = 1024

// hiddenItems collects what a list filter removed from one response, for the
// DecisionFilter audit event: the count of every hidden item and the first
// names, bounded in number (MaxLogItems), length (MaxLogField) and total
// bytes (MaxHiddenBytes). It exists only when the Guard has an audit sink
// and the request is a filtered list.
type hiddenItems struct {
	count  int
	names  []string
	bytes  int
	done   bool
	record func(ev DecisionEvent) // records to the sink with the request's context
	ev     DecisionEvent          // the request's event (bounded), set when Check records it
}

func (h *hiddenItems) add(kind ObjectKind, name string) {
	h.count++
	if len(h.names) >= MaxLogItems {
		return
	}
	n := TruncateField(string(kind)+":"+name, MaxLogField)
	if h.bytes+len(n) > MaxHiddenBytes {
		return
	}
	h.bytes += len(n)
	h.names = append(h.names, n)
}

// finish records the DecisionFilter event once, when the filtered response
// is complete and something was hidden.
func (h *hiddenItems) finish() {
	if h == nil || h.done || h.record == nil {
		return
	}
	h.done = true
	if h.count == 0 {
		return
	}
	ev := h.ev
	ev.Decision, ev.Rule, ev.Reason, ev.Args = DecisionFilter, "", "", ""
	ev.Hidden, ev.HiddenItems = h.count, h.names
	h.record(ev)
}

// watchHidden wraps res.visible to count what it hides, and arranges for
// the audit event (see hiddenItems).
func (g *Guard) watchHidden(ctx context.Context, res *Result) {
	if g.audit == nil || res.visible == nil {
		return
	}
	h := &hiddenItems{record: func(ev DecisionEvent) { ev.Time = g.now(); g.audit.Record(ctx, ev) }}
	vis := res.visible
	res.visible = func(kind ObjectKind, name string) bool {
		ok := vis(kind, name)
		if !ok {
			h.add(kind, name)
		}
		return ok
	}
	res.hidden = h
}
