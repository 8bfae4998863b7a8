package core

import (
	"slices"
	"strings"

	"github.com/mcpauthz/mcpauthz/internal/clip"
)

// auditBatchArgsBytes bounds DecisionEvent.Args of a batch: the declared
// arguments of every call in it, each prefixed by its object.
const auditBatchArgsBytes = 4 * auditArgsBytes

// batchAudit collects, for the audit record of an allowed JSON-RPC batch
// (2025-03-26), what every operation in it did: the record of a single
// message names its one operation, and a batch runs all of its operations,
// so naming only the last would hide the others from the audit trail.
type batchAudit struct {
	targets, rules []string // distinct, in order
	args           []string // "<object> <args>" of the calls with declared arguments, distinct
}

func (b *batchAudit) add(op *operation, rule string) {
	obj := op.perm.Object()
	if !slices.Contains(b.targets, obj) {
		b.targets = append(b.targets, obj)
	}
	if rule != "" && !slices.Contains(b.rules, rule) {
		b.rules = append(b.rules, rule)
	}
	if a := auditArgs(op.perm.Args); a != "" {
		if a = obj + " " + a; !slices.Contains(b.args, a) {
			b.args = append(b.args, a)
		}
	}
}

// fill sets ev's Target (objects joined by ",", as Method joins the
// methods), Rule (joined by " | ") and Args (joined by "; ", at most
// auditBatchArgsBytes, ending with "…" when cut). Record bounds Target and
// Rule to MaxLogField with the TruncateField marker.
func (b *batchAudit) fill(ev *DecisionEvent) {
	ev.Target = strings.Join(b.targets, ",")
	ev.Rule = strings.Join(b.rules, " | ")
	if a := strings.Join(b.args, "; "); len(a) > auditBatchArgsBytes {
		ev.Args = clip.Prefix(a, auditBatchArgsBytes) + "…"
	} else {
		ev.Args = a
	}
}
