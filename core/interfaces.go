package core

import "context"

// TokenVerifier checks a raw bearer token and returns its verified claims.
// Implementations must be safe for concurrent use. Errors wrap the sentinels
// in this package (ErrExpired, ErrUnavailable, ...); an error whose chain has
// ErrUnavailable becomes a 503, anything else a 401 invalid_token.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (*Claims, error)
}

// ClaimMapper turns verified claims into a principal. Errors become 401
// invalid_token (wrap ErrMapping) or 503 (wrap ErrUnavailable).
type ClaimMapper interface {
	MapClaims(ctx context.Context, c *Claims) (*Principal, error)
}

// ClaimMapperFunc adapts a function to ClaimMapper.
type ClaimMapperFunc func(ctx context.Context, c *Claims) (*Principal, error)

// MapClaims calls f.
func (f ClaimMapperFunc) MapClaims(ctx context.Context, c *Claims) (*Principal, error) {
	return f(ctx, c)
}

// ObjectKind is the kind of MCP primitive a permission is about.
type ObjectKind string

const (
	ObjectTool     ObjectKind = "tool"     // name = tool name
	ObjectResource ObjectKind = "resource" // name = resource URI or URI template
	ObjectPrompt   ObjectKind = "prompt"   // name = prompt name
	ObjectServer   ObjectKind = "server"   // connection-level traffic; name = ""
)

// Actions used in permissions.
const (
	ActionCall      = "call"      // tools/call
	ActionRead      = "read"      // resources/read
	ActionGet       = "get"       // prompts/get
	ActionList      = "list"      // */list (the list request itself)
	ActionSubscribe = "subscribe" // resources/subscribe, resources/unsubscribe
	ActionComplete  = "complete"  // completion/complete
	ActionConnect   = "connect"   // initialize, ping, notifications, server/discover, responses, GET/DELETE
)

// Permission is one question to the policy: may the principal perform Action
// on the object?
type Permission struct {
	Kind   ObjectKind
	Name   string // literal tool name / URI / prompt name, never pattern-expanded
	Action string
	Method string // JSON-RPC method that caused it, e.g. "tools/call"
	// Attrs carries extra request attributes for ABAC models (may be nil).
	Attrs map[string]any
	// Args are the declared tool arguments of a tools/call, or the
	// variables of the declared URI template a resources/read or
	// (un)subscribe URI fits (Config.Inspect.Args), by declared name:
	// string, float64, bool or []string, exactly as the handler receives
	// them. nil when nothing is declared for the target. Authorizers must
	// treat the map as read-only.
	Args map[string]any
	// Listing marks a list-visibility question (tools/list filtering):
	// may the item be shown? An Authorizer may answer Allow for a tool the
	// principal may call with some arguments (casbinauthz: rules whose
	// condition reads r.args). Such an answer grants nothing: the Guard
	// uses it only to filter lists and decides every call with its own
	// arguments and Listing false.
	Listing bool
}

// Object is the policy object: "tool:<name>", "resource:<uri>",
// "prompt:<name>" or "server".
func (p Permission) Object() string {
	if p.Kind == ObjectServer {
		return "server"
	}
	return string(p.Kind) + ":" + p.Name
}

// Decision is an Authorizer's answer.
//
// Allow=false with RequiredScopes set means the policy would allow the
// operation if the token also carried those scopes: the Guard answers 403
// insufficient_scope with exactly that set (step-up), and list filtering keeps
// such items visible. Allow=false without RequiredScopes is a pure policy
// denial (403 with a JSON-RPC error body, no scope hint).
type Decision struct {
	Allow          bool
	RequiredScopes []string // complete scope set the operation needs (2026-07-28 semantics)
	Rule           string   // the policy rule that decided, for audit ("p, group:eng, tool:deploy, call, allow")
	Reason         string   // short, client-safe reason
	// PolicyVersion and PolicyDigest identify the policy that decided
	// (casbinauthz: Stats.Version and the hex SHA-256 of the policy text),
	// for audit. OPTIONAL.
	PolicyVersion uint64
	PolicyDigest  string
}

// Authorizer decides permissions. An error (policy unavailable, evaluation
// failure) is a 503 and never an allow. Implementations must be safe for
// concurrent use.
type Authorizer interface {
	Authorize(ctx context.Context, p *Principal, perm Permission) (Decision, error)
}
