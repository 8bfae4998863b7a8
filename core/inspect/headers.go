package inspect

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"
)

// checkStandardHeaders validates Mcp-Method and Mcp-Name against the body of
// a single message. On 2026-07-28, Mcp-Method is required on requests (calls)
// and Mcp-Name on tools/call, resources/read and prompts/get; on every version
// a header that is present must match. Values are OWS-trimmed; Mcp-Name may
// use the =?base64?...?= sentinel. Decisions never use the header values.
// isNew is whether the version is 2026-07-28 or later.
func checkStandardHeaders(h *Header, isNew bool, m *Message) error {
	if m.Kind == KindResponse {
		return nil
	}
	mismatch := func(msg string) error {
		e := newErr(ErrHeaderMismatch, msg, nil)
		e.ID = m.ID
		return e
	}
	methods := h.Method // single's rules
	switch {
	case len(methods) > 1:
		return mismatch("Header mismatch: repeated Mcp-Method header")
	case len(methods) == 0 && isNew && m.Kind == KindRequest:
		return mismatch("Header mismatch: missing required Mcp-Method header")
	case len(methods) == 0:
	case trimOWS(methods[0]) != m.Method:
		return mismatch("Header mismatch: Mcp-Method header value does not match body value")
	}
	if len(h.Name) == 0 && !isNew {
		return nil // Mcp-Name is absent and not required: nothing left to check
	}
	switch m.Method {
	case "tools/call", "resources/read", "prompts/get":
	default:
		return nil
	}
	vals := h.Name
	switch {
	case len(vals) > 1:
		return mismatch("Header mismatch: repeated Mcp-Name header")
	case len(vals) == 0:
		if isNew {
			return mismatch("Header mismatch: missing required Mcp-Name header")
		}
		return nil
	}
	name, ok := DecodeHeaderValue(vals[0])
	if !ok || name != m.Target.Name {
		return mismatch("Header mismatch: Mcp-Name header value does not match body value")
	}
	return nil
}

const (
	sentinelPrefix = "=?base64?"
	sentinelSuffix = "?="
)

// DecodeHeaderValue decodes an MCP standard header value (Mcp-Name,
// Mcp-Param-*): leading and trailing OWS (SP, HTAB) is removed, then a value
// of the form =?base64?<standard base64>?= (exact lower-case markers) is
// decoded and must be valid UTF-8. ok is false for a malformed sentinel.
func DecodeHeaderValue(v string) (string, bool) {
	v = trimOWS(v)
	if len(v) < len(sentinelPrefix)+len(sentinelSuffix) ||
		!strings.HasPrefix(v, sentinelPrefix) || !strings.HasSuffix(v, sentinelSuffix) {
		return v, true
	}
	enc := v[len(sentinelPrefix) : len(v)-len(sentinelSuffix)]
	// The decoder skips CR and LF; a header value cannot hold them, but
	// refuse them explicitly so that only canonical text decodes.
	if strings.ContainsAny(enc, "\r\n") {
		return "", false
	}
	b, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil || !utf8.Valid(b) {
		return "", false
	}
	return string(b), true
}
