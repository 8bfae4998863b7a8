package authserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// OAuth 2.0 error codes used by the token endpoint (RFC 6749 §5.2, RFC 8707
// §2). temporarily_unavailable is borrowed from RFC 6749 §4.1.2.1 for rate
// limiting and for a full or unreachable replay store.
const (
	codeInvalidRequest         = "invalid_request"
	codeInvalidClient          = "invalid_client"
	codeInvalidGrant           = "invalid_grant"
	codeUnauthorizedClient     = "unauthorized_client"
	codeUnsupportedGrantType   = "unsupported_grant_type"
	codeInvalidScope           = "invalid_scope"
	codeInvalidTarget          = "invalid_target"
	codeTemporarilyUnavailable = "temporarily_unavailable"
	codeServerError            = "server_error"
)

// ErrInvalidConfig is wrapped by every configuration error returned from
// [New], [LoadConfig] and [ParseConfig].
var ErrInvalidConfig = errors.New("authserver: invalid configuration")

// oauthError is a token endpoint failure. code and desc go to the client;
// cause is logged only (it may name claims, never token material).
type oauthError struct {
	status     int
	code       string
	desc       string // short, client-safe
	cause      error
	basic      bool // client used HTTP Basic: add WWW-Authenticate
	retryAfter int  // seconds, 0 = none
}

func (e *oauthError) Error() string {
	s := e.code
	if e.desc != "" {
		s += ": " + e.desc
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

func (e *oauthError) Unwrap() error { return e.cause }

func newErr(status int, code, desc string, cause error) *oauthError {
	return &oauthError{status: status, code: code, desc: desc, cause: cause}
}

func errRequest(desc string, cause error) *oauthError {
	return newErr(http.StatusBadRequest, codeInvalidRequest, desc, cause)
}

func errClient(desc string, cause error) *oauthError {
	return newErr(http.StatusUnauthorized, codeInvalidClient, desc, cause)
}

func errGrant(desc string, cause error) *oauthError {
	return newErr(http.StatusBadRequest, codeInvalidGrant, desc, cause)
}

func errTarget(desc string, cause error) *oauthError {
	return newErr(http.StatusBadRequest, codeInvalidTarget, desc, cause)
}

func errScope(desc string, cause error) *oauthError {
	return newErr(http.StatusBadRequest, codeInvalidScope, desc, cause)
}

func errUnavailable(status int, desc string, cause error) *oauthError {
	return newErr(status, codeTemporarilyUnavailable, desc, cause)
}

type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// writeError renders e as an RFC 6749 §5.2 response.
func writeError(w http.ResponseWriter, e *oauthError) {
	h := w.Header()
	setNoStore(h)
	h.Set("Content-Type", "application/json")
	if e.basic && e.status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="token", charset="UTF-8"`)
	}
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	b, _ := json.Marshal(errorBody{Error: e.code, Description: e.desc})
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

func setNoStore(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
}
