package inspect

import (
	"encoding/json"
	"fmt"
)

// ErrorKind classifies an inspection failure. Every kind is a refusal: the
// Guard must not pass the request to the MCP server. ErrorKind implements
// error, so errors.Is(err, inspect.ErrHeaderMismatch) works on an *Error.
type ErrorKind uint8

// Error kinds, with the HTTP status and JSON-RPC code Inspect assigns.
const (
	// ErrMethodNotAllowed: an HTTP method the endpoint does not serve (405).
	// Error.Allow holds the value for the Allow response header.
	ErrMethodNotAllowed ErrorKind = iota + 1
	// ErrUnsupportedMediaType: Content-Type is not application/json (or has a
	// charset other than UTF-8), or Content-Encoding is not identity (415).
	ErrUnsupportedMediaType
	// ErrTooLarge: the body exceeds Options.MaxBodyBytes (413).
	ErrTooLarge
	// ErrParse: the body is not one strict JSON value: empty, a BOM, syntax
	// errors, duplicate or case-variant keys, invalid UTF-8, lone surrogates,
	// trailing data, nesting too deep (400, -32700).
	ErrParse
	// ErrInvalidRequest: valid JSON but not an acceptable JSON-RPC message:
	// wrong "jsonrpc", bad "method" or "id", a forbidden batch, a client
	// response on 2026-07-28, ambiguous header repetition (400, -32600).
	ErrInvalidRequest
	// ErrInvalidParams: the params of a targeted method lack a string
	// name/uri/ref, or a 2026-07-28 request lacks its protocol version in
	// _meta (400, -32602).
	ErrInvalidParams
	// ErrHeaderMismatch: a required MCP header is missing, repeated, or does
	// not match the body (400, -32020).
	ErrHeaderMismatch
	// ErrUnsupportedVersion: MCP-Protocol-Version is not one of
	// Options.SupportedVersions (400, -32022, Data = VersionData).
	ErrUnsupportedVersion
	// ErrUnknownMethod: a method Inspect cannot map to an authorization
	// target (404 on 2026-07-28, else 400; -32601). Only returned when
	// Options.AllowUnknownMethods is false.
	ErrUnknownMethod
)

var kindNames = [...]string{
	ErrMethodNotAllowed:     "method not allowed",
	ErrUnsupportedMediaType: "unsupported media type",
	ErrTooLarge:             "request body too large",
	ErrParse:                "parse error",
	ErrInvalidRequest:       "invalid request",
	ErrInvalidParams:        "invalid params",
	ErrHeaderMismatch:       "header mismatch",
	ErrUnsupportedVersion:   "unsupported protocol version",
	ErrUnknownMethod:        "method not found",
}

// Error returns the kind's name, prefixed with "inspect: ".
func (k ErrorKind) Error() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return "inspect: " + kindNames[k]
	}
	return fmt.Sprintf("inspect: error kind %d", uint8(k))
}

// Error is the refusal Inspect returns. Status, Code, Message and Data are
// safe to send to the client (Message never echoes long or raw input); Err
// carries the internal cause for logs.
type Error struct {
	Kind    ErrorKind
	Status  int             // HTTP status: 400, 404, 405, 413 or 415
	Code    int             // JSON-RPC error code; 0 for 405/413/415 (plain HTTP errors)
	Message string          // client-safe JSON-RPC error message
	ID      json.RawMessage // id of the offending message when known, for the error body; nil otherwise
	Data    any             // JSON-RPC error data (VersionData for ErrUnsupportedVersion), else nil
	Allow   string          // Allow header value for ErrMethodNotAllowed
	Err     error           // internal cause (may be nil); log it, never send it
}

// VersionData is the JSON-RPC error data of ErrUnsupportedVersion.
type VersionData struct {
	Supported []string `json:"supported"`
	Requested string   `json:"requested"`
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Kind.Error() + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Kind.Error() + ": " + e.Message
}

// Unwrap returns the kind and the internal cause, so errors.Is matches both
// the ErrorKind and sentinels of the cause (e.g. jsonscan.ErrDuplicateKey).
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// JSON-RPC and MCP error codes used by Inspect.
const (
	CodeParseError         = -32700
	CodeInvalidRequest     = -32600
	CodeMethodNotFound     = -32601
	CodeInvalidParams      = -32602
	CodeInternalError      = -32603
	CodeHeaderMismatch     = -32020
	CodeUnsupportedVersion = -32022
)

func newErr(kind ErrorKind, msg string, cause error) *Error {
	e := &Error{Kind: kind, Message: msg, Err: cause}
	switch kind {
	case ErrMethodNotAllowed:
		e.Status = 405
	case ErrUnsupportedMediaType:
		e.Status = 415
	case ErrTooLarge:
		e.Status = 413
	case ErrParse:
		e.Status, e.Code = 400, CodeParseError
	case ErrInvalidRequest:
		e.Status, e.Code = 400, CodeInvalidRequest
	case ErrInvalidParams:
		e.Status, e.Code = 400, CodeInvalidParams
	case ErrHeaderMismatch:
		e.Status, e.Code = 400, CodeHeaderMismatch
	case ErrUnsupportedVersion:
		e.Status, e.Code = 400, CodeUnsupportedVersion
	case ErrUnknownMethod:
		e.Status, e.Code = 400, CodeMethodNotFound
	}
	return e
}
