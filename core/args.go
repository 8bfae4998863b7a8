package core

import (
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpauthz/mcpauthz/internal/clip"
)

// Bounds of DecisionEvent.Args.
const (
	auditArgValueBytes = 64  // per value (a list: its joined elements)
	auditArgsBytes     = 512 // whole field
)

// auditArgs renders declared arguments for audit: sorted name=value
// pairs, values quoted and truncated, the whole bounded in bytes.
func auditArgs(args map[string]any) string {
	if len(args) == 0 {
		return ""
	}
	names := make([]string, 0, len(args))
	for k := range args {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for i, k := range names {
		var v string
		switch t := args[k].(type) {
		case string:
			v = t
		case float64:
			v = strconv.FormatFloat(t, 'g', -1, 64)
		case bool:
			v = strconv.FormatBool(t)
		case []string:
			v = "[" + strings.Join(t, ",") + "]"
		}
		if len(v) > auditArgValueBytes {
			v = clip.Prefix(v, auditArgValueBytes) + "…"
		}
		pair := k + "=" + strconv.Quote(v)
		if b.Len()+len(pair)+1 > auditArgsBytes {
			b.WriteString(" …")
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(pair)
	}
	return b.String()
}

// missingArgs is the denial of a call that lacks a declared argument
// without a default: never an allow by omission.
func missingArgs(op operation) *Error {
	return &Error{Kind: KindForbidden,
		Description: "missing required argument " + strings.Join(op.missing, ", "), ID: op.id,
		Err: errors.New("core: " + op.perm.Method + " " + op.perm.Object() + " lacks declared arguments")}
}
