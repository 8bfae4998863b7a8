package core

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// Response is a complete HTTP answer as data. Adapters copy it verbatim:
// every header value with Add (there may be several), then Status, then
// Body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Render turns an error from [Guard.Check] into the exact response. It is
// the only place where refusals become status codes, challenges and bodies:
//
//   - KindNoToken: 401, WWW-Authenticate: Bearer resource_metadata="…",
//     scope="…" (scope omitted when empty; no error code, RFC 6750 §3.1).
//   - KindInvalidRequest, KindInvalidToken: 400 / 401 with
//     error="invalid_request" / "invalid_token", error_description and
//     resource_metadata; body {"error","error_description"} (RFC 6749 §5.2).
//   - KindInsufficientScope: 403, error="insufficient_scope", scope= the
//     complete set, resource_metadata, error_description; JSON-RPC error body
//     echoing the id with code Config.DenyCode.
//   - KindForbidden: 403, JSON-RPC error body with Config.DenyCode and no
//     challenge (more scope cannot help).
//   - KindOrigin: 403; KindSession: 404; KindSessionLimit: 429; KindTooLarge: 413; KindMessage: the
//     inspector's status (405 with Allow); all with JSON-RPC error bodies.
//   - KindUnavailable: 503 with Retry-After, JSON-RPC error body, and no
//     challenge, so clients keep their token.
//   - KindBadGateway, KindGatewayTimeout (package proxy): 502 / 504 with a
//     JSON-RPC error body (code -32603) and no challenge.
//   - anything else, including a nil error or one that is not an *Error:
//     500 (fail closed).
//
// Every response has Content-Type application/json and Cache-Control
// no-store. Challenge values are quoted by one escaping function and never
// contain token bytes or internal causes.
func (g *Guard) Render(err error) *Response {
	if g == nil {
		return nilGuardResponse() // ErrNilGuard: 500 whatever err is
	}
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Kind: KindInternal, Err: err}
	}
	resp := &Response{Status: g.status(e), Header: http.Header{}}
	resp.Header.Set("Content-Type", "application/json")
	resp.Header.Set("Cache-Control", "no-store")
	desc := g.description(e)
	switch e.Kind {
	case KindNoToken:
		resp.Header.Set("WWW-Authenticate", challenge("resource_metadata", g.metadataURL, "scope", g.challengeScopes))
		resp.Body = oauthBody("", desc)
	case KindInvalidRequest, KindInvalidToken:
		resp.Header.Set("WWW-Authenticate", challenge("error", string(e.Kind), "error_description", desc, "resource_metadata", g.metadataURL))
		resp.Body = oauthBody(string(e.Kind), desc)
	case KindInsufficientScope:
		resp.Header.Set("WWW-Authenticate", challenge("error", string(KindInsufficientScope), "scope", strings.Join(validScopes(e.Scopes), " "),
			"resource_metadata", g.metadataURL, "error_description", desc))
		resp.Body = rpcErrorBody(e.ID, g.code(e), desc, e.Data)
	case KindUnavailable:
		resp.Header.Set("Retry-After", g.retryAfter)
		resp.Body = rpcErrorBody(e.ID, g.code(e), desc, nil)
	case KindMessage:
		if resp.Status == http.StatusMethodNotAllowed {
			allow := e.Allow
			if allow == "" {
				allow = http.MethodPost
			}
			resp.Header.Set("Allow", allow)
		}
		resp.Body = rpcErrorBody(e.ID, g.code(e), desc, e.Data)
	default:
		resp.Body = rpcErrorBody(e.ID, g.code(e), desc, e.Data)
	}
	return resp
}

// status is the HTTP status of a refusal.
func (g *Guard) status(e *Error) int {
	switch e.Kind {
	case KindNoToken, KindInvalidToken:
		return http.StatusUnauthorized
	case KindInvalidRequest:
		return http.StatusBadRequest
	case KindInsufficientScope, KindForbidden, KindOrigin:
		return http.StatusForbidden
	case KindSession:
		return http.StatusNotFound
	case KindSessionLimit:
		return http.StatusTooManyRequests
	case KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case KindUnavailable:
		return http.StatusServiceUnavailable
	case KindBadGateway:
		return http.StatusBadGateway
	case KindGatewayTimeout:
		return http.StatusGatewayTimeout
	case KindMessage:
		switch e.Status {
		case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed,
			http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
			return e.Status
		}
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// code is the JSON-RPC error code of a refusal with a JSON-RPC body.
func (g *Guard) code(e *Error) int {
	if e.Code != 0 {
		return e.Code
	}
	switch e.Kind {
	case KindInsufficientScope, KindForbidden:
		return g.denyCode
	case KindUnavailable, KindInternal, KindBadGateway, KindGatewayTimeout:
		return codeInternalError
	}
	return codeInvalidRequest
}

// description is the client-safe text of a refusal.
func (g *Guard) description(e *Error) string {
	if e.Description != "" {
		return e.Description
	}
	switch e.Kind {
	case KindNoToken:
		return "authentication required"
	case KindInvalidRequest:
		return "malformed authorization request"
	case KindInvalidToken:
		return "invalid token"
	case KindInsufficientScope:
		return "insufficient scope"
	case KindForbidden:
		return "forbidden by policy"
	case KindOrigin:
		return "origin not allowed"
	case KindSession:
		return "session not found"
	case KindTooLarge:
		return "request body too large"
	case KindUnavailable:
		return "service temporarily unavailable"
	case KindBadGateway:
		return "the MCP server is unavailable"
	case KindGatewayTimeout:
		return "the MCP server did not answer in time"
	case KindMessage:
		return "invalid request"
	}
	return "internal error"
}

// validScopes drops values that are not RFC 6749 scope tokens, so a
// misbehaving Authorizer cannot break the scope list.
func validScopes(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if isScopeToken(s) {
			out = append(out, s)
		}
	}
	return out
}

type oauthError struct {
	Error            string `json:"error,omitempty"`
	ErrorDescription string `json:"error_description,omitempty"`
}

func oauthBody(code, desc string) []byte {
	b, _ := json.Marshal(oauthError{Error: code, ErrorDescription: desc})
	return b
}

type rpcErrorObject struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

type rpcErrorResponse struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Error   rpcErrorObject  `json:"error"`
}

// rpcErrorBody is a JSON-RPC 2.0 error response. An id that is not a JSON
// string or number becomes null; data that cannot be marshalled is dropped.
func rpcErrorBody(id json.RawMessage, code int, msg string, data any) []byte {
	if !validID(id) {
		id = nil
	}
	b, err := json.Marshal(rpcErrorResponse{JSONRPC: "2.0", ID: id, Error: rpcErrorObject{Code: code, Message: msg, Data: data}})
	if err != nil {
		b, _ = json.Marshal(rpcErrorResponse{JSONRPC: "2.0", ID: id, Error: rpcErrorObject{Code: code, Message: msg}})
	}
	return b
}

func validID(id json.RawMessage) bool {
	if len(id) == 0 || !json.Valid(id) {
		return false
	}
	switch id[0] {
	case '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return true
	}
	return false
}
