package inspect

import "encoding/json"

// Request is the inspected view of one HTTP request to an MCP Streamable
// HTTP endpoint. Authorization decisions must be made on Messages (decoded
// from the body), never on headers.
type Request struct {
	// Version is the effective protocol version: the MCP-Protocol-Version
	// header (OWS-trimmed, one of Options.SupportedVersions), or
	// "2025-03-26" when the header is absent.
	Version string
	// SessionID is the Mcp-Session-Id header on versions before 2026-07-28
	// ("" on 2026-07-28, where sessions do not exist and the header is
	// ignored).
	SessionID string
	// Batch reports a JSON array body (legacy versions only).
	Batch bool
	// Messages are the JSON-RPC messages of a POST body, in order: one for a
	// single message, one per element for a batch. Empty for GET and DELETE
	// (authenticated-only traffic, Target server/connect semantics).
	Messages []Message

	one [1]Message // storage for the common single-message case
}

// zero reports whether r is the zero Request, without the write-barriered
// clear of its pointer fields that resetting it costs while the collector
// marks. (Target's fields are compared one by one: comparing the struct
// calls its generated equality function.)
func (r *Request) zero() bool {
	m := &r.one[0]
	return r.Version == "" && r.SessionID == "" && !r.Batch && r.Messages == nil &&
		m.ID == nil && m.Method == "" && m.Kind == 0 &&
		m.Target.Kind == "" && m.Target.Name == "" && m.Target.Action == "" && m.Target.List == "" &&
		m.Args == nil && m.MissingArgs == nil
}

// MessageKind tells JSON-RPC requests, notifications and responses apart.
type MessageKind uint8

const (
	// KindRequest is a call: it has a method and a non-null id.
	KindRequest MessageKind = iota + 1
	// KindNotification has a method and no id (or a null id).
	KindNotification
	// KindResponse is a client's JSON-RPC response to a server request: no
	// method, an id, and result or error. Only accepted before 2026-07-28.
	KindResponse
)

func (k MessageKind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindNotification:
		return "notification"
	case KindResponse:
		return "response"
	}
	return "unknown"
}

// Message is one inspected JSON-RPC message.
type Message struct {
	// ID is the raw JSON id exactly as sent (a string or number), for echoing
	// in error bodies; nil for notifications. It aliases the body passed to
	// Inspect: do not modify the body while the Message is in use.
	ID json.RawMessage
	// Method is the decoded (unescaped) method; "" for a client response.
	Method string
	// Kind is request, notification or response.
	Kind MessageKind
	// Target is what the message acts on, for the policy.
	Target Target
	// Args holds the declared arguments (Options.Args) of a tools/call, by
	// declared name: string, float64, bool or []string, decoded exactly
	// as a tool handler decodes them, or the declared default; for a
	// resources/read or (un)subscribe, the variables of the declared URI
	// template the URI fits. nil when nothing is declared for the target.
	Args map[string]any
	// MissingArgs names the declared arguments without a default that the
	// call does not carry; the Guard denies such a call.
	MissingArgs []string
}

// Target kinds and actions; the strings equal core.ObjectKind and core.Action*
// values (this package does not import core).
const (
	TargetTool     = "tool"
	TargetResource = "resource"
	TargetPrompt   = "prompt"
	TargetServer   = "server"

	ActionCall      = "call"
	ActionRead      = "read"
	ActionGet       = "get"
	ActionList      = "list"
	ActionSubscribe = "subscribe"
	ActionComplete  = "complete"
	ActionConnect   = "connect"
)

// List names, as in Target.List and the result member of a list response.
const (
	ListTools             = "tools"
	ListResources         = "resources"
	ListResourceTemplates = "resourceTemplates"
	ListPrompts           = "prompts"
)

// Target is the object and action of one message.
type Target struct {
	// Kind is "tool", "resource", "prompt" or "server".
	Kind string
	// Name is the tool or prompt name, the resource URI, or for completion
	// of a resource the URI template; "" for "server". It is the decoded
	// literal value, never normalized.
	Name string
	// Action is "call", "read", "get", "list", "subscribe", "complete" or
	// "connect".
	Action string
	// List is set for */list methods ("tools", "resources",
	// "resourceTemplates", "prompts"): the response must be filtered with
	// FilterJSON or NewSSEFilter.
	List string
}

var connectTarget = Target{Kind: TargetServer, Action: ActionConnect}
