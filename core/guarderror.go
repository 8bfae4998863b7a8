package core

import (
	"encoding/json"
	"strings"
)

// ErrorKind classifies a refusal of the [Guard]. [Guard.Render] maps each kind
// to exactly one HTTP status and challenge; nothing else in the library
// chooses a status code.
type ErrorKind string

// Error kinds, with the response [Guard.Render] produces for each.
const (
	// KindNoToken: no credentials, or credentials in a scheme other than
	// Bearer. 401 with a WWW-Authenticate challenge carrying resource_metadata
	// and scope but no error code (RFC 6750 §3.1).
	KindNoToken ErrorKind = "no_token"
	// KindInvalidRequest: credentials presented wrongly (two Authorization
	// headers, a token in the query or form body, a malformed header). 400
	// with error="invalid_request".
	KindInvalidRequest ErrorKind = "invalid_request"
	// KindInvalidToken: the token failed verification or mapping. 401 with
	// error="invalid_token".
	KindInvalidToken ErrorKind = "invalid_token"
	// KindInsufficientScope: the policy would allow the operation with more
	// scopes. 403 with error="insufficient_scope" and scope= the complete set,
	// plus a JSON-RPC error body echoing the id.
	KindInsufficientScope ErrorKind = "insufficient_scope"
	// KindForbidden: a pure policy denial that more scope cannot fix. 403
	// with a JSON-RPC error body (code Config.DenyCode) and no challenge, so
	// clients do not loop on step-up.
	KindForbidden ErrorKind = "forbidden"
	// KindOrigin: the Origin header is present and not allowed. 403 with a
	// JSON-RPC error body without id (MCP transports, "Security Warning").
	KindOrigin ErrorKind = "origin"
	// KindSession: the Mcp-Session-Id belongs to another principal. 404, as
	// for an unknown session, so the response does not confirm that the
	// session exists.
	KindSession ErrorKind = "session"
	// KindSessionLimit: an initialize of a principal that already holds
	// Config.MaxSessionsPerPrincipal live sessions. 429 with a JSON-RPC
	// error body (code CodeSessionLimit) echoing the initialize id.
	KindSessionLimit ErrorKind = "session_limit"
	// KindMessage: the MCP request itself is unacceptable (from inspection):
	// Status is 400, 404, 405 or 415; the body is a JSON-RPC error with Code,
	// Description as message, Data and ID. 405 carries Allow.
	KindMessage ErrorKind = "message"
	// KindTooLarge: the body exceeds Config.MaxBodyBytes. 413.
	KindTooLarge ErrorKind = "too_large"
	// KindUnavailable: keys, introspection or policy are unavailable (cause
	// wraps ErrUnavailable) or the authorizer failed. 503 with Retry-After and
	// no WWW-Authenticate, so clients keep their (good) token.
	KindUnavailable ErrorKind = "unavailable"
	// KindInternal: an unexpected failure. 500, never an allow.
	KindInternal ErrorKind = "internal"
	// KindBadGateway: a reverse proxy in front of the MCP server (package
	// proxy) could not get a response from it: connection refused or
	// reset, a malformed response. 502 with a JSON-RPC error body echoing
	// the request's id; the request may or may not have reached the server.
	KindBadGateway ErrorKind = "bad_gateway"
	// KindGatewayTimeout: the MCP server behind a reverse proxy did not
	// answer in time (connect or response-header timeout). 504 with a
	// JSON-RPC error body echoing the request's id.
	KindGatewayTimeout ErrorKind = "gateway_timeout"
)

// Error is the only error type [Guard.Check] returns. Every field but Err is
// safe to send to the client; Err is the cause, logged and never sent.
type Error struct {
	Kind ErrorKind
	// Description is client-safe text (error_description or the JSON-RPC
	// error message). It never contains token bytes or internal detail.
	Description string
	// Scopes is the complete scope set for KindInsufficientScope.
	Scopes []string
	// ID is the JSON-RPC id to echo in a JSON-RPC error body (nil = null).
	ID json.RawMessage
	// Code is the JSON-RPC error code for JSON-RPC bodies (0 = a default
	// chosen by Render for the kind).
	Code int
	// Data is the JSON-RPC error data (may be nil).
	Data any
	// Status is the HTTP status for KindMessage (400, 404, 405, 413, 415);
	// ignored for every other kind.
	Status int
	// Allow is the Allow header value for a 405 KindMessage.
	Allow string
	// Err is the internal cause, for logs and errors.Is; never sent.
	Err error
}

// Error describes the refusal for logs: kind, description and cause.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("core: ")
	b.WriteString(string(e.Kind))
	if e.Description != "" {
		b.WriteString(": ")
		b.WriteString(e.Description)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause, so errors.Is(err, ErrExpired) works on an *Error.
func (e *Error) Unwrap() error { return e.Err }
