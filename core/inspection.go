package core

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// This file is the only place that calls core/inspect for request
// inspection: it turns an inspect.Request into the operations to authorize.

// JSON-RPC codes used in bodies the Guard writes itself.
const (
	codeInvalidRequest = -32600
	codeInvalidParams  = -32602
	codeInternalError  = -32603
)

// inspection is what the Guard needs from an inspected request.
type inspection struct {
	version   string
	sessionID string
	ops       []operation
	list      string // inspect list name of a single */list request
	// initialize: the body contains an initialize request (it may create a
	// legacy session).
	initialize bool
	one        [1]operation
	// req is the inspect.Request itself, kept here rather than allocated
	// (inspect.InspectInto); zeroed with the rest when the check ends.
	req inspect.Request
}

// operation is one permission to check, with the JSON-RPC id to echo.
type operation struct {
	perm Permission
	id   json.RawMessage
	// missing names declared arguments without default that the call
	// lacks: the operation is denied without asking the Authorizer.
	missing []string
}

func (ins *inspection) firstID() json.RawMessage {
	for _, op := range ins.ops {
		if op.id != nil {
			return op.id
		}
	}
	return nil
}

// initializeID is the id of the first initialize request ("" if none).
func (ins *inspection) initializeID() json.RawMessage {
	for _, op := range ins.ops {
		if op.perm.Method == "initialize" && op.id != nil {
			return op.id
		}
	}
	return nil
}

// methods joins the JSON-RPC methods for audit ("" when there are none).
func (ins *inspection) methods() string {
	if len(ins.ops) == 1 {
		return ins.ops[0].perm.Method
	}
	var b strings.Builder
	for i, op := range ins.ops {
		if op.perm.Method == "" {
			continue
		}
		if i > 0 && b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(op.perm.Method)
	}
	return b.String()
}

// inspect runs core/inspect on r with its header fields h and converts its
// result or refusal into ins. name, when it has capacity, is memory of a
// per-request object that is never reused (Serve's httpState, Check's
// resultBox): a single message's target name may be kept in it instead of
// allocated (inspect.InspectHeaderName), and Permission.Name, audit events
// and whatever the Authorizer keeps then point into it.
func (g *Guard) inspect(r *Request, h *inspect.Header, ins *inspection, name []byte) *Error {
	ir := &ins.req
	if err := inspect.InspectHeaderName(ir, r.Method, h, r.Body, g.inspectOpts, name); err != nil {
		var ie *inspect.Error
		if !errors.As(err, &ie) {
			return &Error{Kind: KindInternal, Description: "internal error", Err: err}
		}
		if ie.Kind == inspect.ErrTooLarge {
			return &Error{Kind: KindTooLarge, Description: "request body too large", Err: ie}
		}
		return &Error{Kind: KindMessage, Status: ie.Status, Code: ie.Code, Description: ie.Message,
			ID: ie.ID, Data: ie.Data, Allow: ie.Allow, Err: ie}
	}
	ins.version, ins.sessionID = ir.Version, ir.SessionID
	if len(ir.Messages) == 0 {
		// GET (legacy SSE stream) and DELETE (legacy session end):
		// connection-level traffic of an authenticated principal.
		ins.one[0] = operation{perm: Permission{Kind: ObjectServer, Action: ActionConnect, Method: r.Method}}
		ins.ops = ins.one[:1]
		return nil
	}
	// initialize: any initialize request, alone or in a 2025-03-26 batch,
	// may create a session that must be bound.
	for i := range ir.Messages {
		if ir.Messages[i].Method == "initialize" && ir.Messages[i].Kind == inspect.KindRequest {
			ins.initialize = true
		}
	}
	ins.ops = ins.one[:0]
	if len(ir.Messages) > 1 {
		ins.ops = make([]operation, 0, len(ir.Messages))
	}
	for i := range ir.Messages {
		m := &ir.Messages[i]
		switch ObjectKind(m.Target.Kind) {
		case ObjectTool, ObjectResource, ObjectPrompt, ObjectServer:
		default:
			return &Error{Kind: KindInternal, Description: "internal error",
				Err: errors.New("core: inspect returned an unknown target kind")}
		}
		// Filled in place: the single message's operation is ins.one[0].
		ins.ops = ins.ops[:len(ins.ops)+1]
		op := &ins.ops[len(ins.ops)-1]
		op.perm = Permission{
			Kind:   ObjectKind(m.Target.Kind),
			Name:   m.Target.Name,
			Action: m.Target.Action,
			Method: m.Method,
			Args:   m.Args,
		}
		op.id, op.missing = m.ID, m.MissingArgs
		if m.Target.List != "" {
			if ir.Batch {
				// A list response inside a batch response cannot be
				// filtered: refuse rather than leak unfiltered items.
				return &Error{Kind: KindMessage, Status: http.StatusBadRequest, Code: codeInvalidRequest,
					Description: "list methods cannot be batched", ID: m.ID}
			}
			ins.list = m.Target.List
		}
	}
	return g.checkInitializeVersion(r, ins)
}
