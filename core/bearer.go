package core

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcpauthz/mcpauthz/internal/clip"
)

// MaxTokenBytes caps the length of a bearer token accepted from the
// Authorization header; longer tokens are refused as malformed before any
// decoding (security test plan T18).
const MaxTokenBytes = 16 << 10

// extractBearer finds the access token of a request following RFC 6750 §2:
// exactly one Authorization header, scheme "Bearer" (case-insensitive)
// followed by one or more spaces and a single token68. It refuses the other
// presentation methods of RFC 6750 (§2.2 form body, §2.3 query): MCP
// forbids them, and a token there means it already leaked.
//
// Results: a token and nil; ErrNoToken (no Authorization header, or a
// non-Bearer scheme alone: answered like no token); ErrMalformedRequest (two
// headers, token in query or form, empty or malformed Bearer credentials);
// ErrMalformedToken (token longer than MaxTokenBytes).
func extractBearer(h http.Header, rawQuery string, body []byte) (string, error) {
	tok, err := bearerCandidate(h, rawQuery, body)
	if err == nil {
		err = checkToken68(tok)
	}
	if err != nil {
		return "", err
	}
	return tok, nil
}

// bearerCandidate is extractBearer without the final test that the
// credentials are one token68 ([checkToken68]): the Guard runs that test
// only for a token its verifier's cache does not hold (see
// [CachedVerifier]).
func bearerCandidate(h http.Header, rawQuery string, body []byte) (string, error) {
	// canonical keys: the same as h.Values, without re-canonicalising
	return bearerFrom(h["Authorization"], h["Content-Type"], rawQuery, body)
}

// bearerFrom is bearerCandidate for the Authorization and Content-Type
// values of a header already looked up (reqHeader).
func bearerFrom(vals, contentType []string, rawQuery string, body []byte) (string, error) {
	if hasParam(rawQuery, "access_token") {
		return "", fmt.Errorf("%w: access_token in the query", ErrMalformedRequest)
	}
	if len(body) > 0 && isFormType(contentType) && hasParam(string(body), "access_token") {
		return "", fmt.Errorf("%w: access_token in the form body", ErrMalformedRequest)
	}
	switch len(vals) {
	case 0:
		return "", ErrNoToken
	case 1:
	default:
		return "", fmt.Errorf("%w: %d Authorization headers", ErrMalformedRequest, len(vals))
	}
	return authorizationCandidate(vals[0])
}

// parseAuthorization parses one Authorization header value.
func parseAuthorization(v string) (string, error) {
	tok, err := authorizationCandidate(v)
	if err == nil {
		err = checkToken68(tok)
	}
	if err != nil {
		return "", err
	}
	return tok, nil
}

// authorizationCandidate is parseAuthorization without [checkToken68].
func authorizationCandidate(v string) (string, error) {
	v = trimSpaceTab(v)
	scheme, rest, _ := strings.Cut(v, " ")
	if scheme == "" {
		return "", fmt.Errorf("%w: empty Authorization header", ErrMalformedRequest)
	}
	if scheme != "Bearer" && !isToken(scheme) { // "Bearer" is one
		return "", fmt.Errorf("%w: malformed auth scheme", ErrMalformedRequest)
	}
	if scheme != "Bearer" && !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("%w: scheme %s is not Bearer", ErrNoToken, clip.Quote(scheme, MaxLogField))
	}
	tok := strings.TrimLeft(rest, " ")
	if tok == "" {
		return "", fmt.Errorf("%w: Bearer without a token", ErrMalformedRequest)
	}
	if len(tok) > MaxTokenBytes {
		return "", fmt.Errorf("%w: token longer than %d bytes", ErrMalformedToken, MaxTokenBytes)
	}
	return tok, nil
}

// errNotToken68 is checkToken68's refusal.
var errNotToken68 = fmt.Errorf("%w: Bearer credentials are not one token68", ErrMalformedRequest)

// checkToken68 refuses Bearer credentials that are not one token68.
func checkToken68(tok string) error {
	if !isToken68(tok) {
		return errNotToken68
	}
	return nil
}

// trimSpaceTab is strings.Trim(v, " \t") without building a cutset.
func trimSpaceTab(v string) string {
	for v != "" && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for v != "" && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// isToken68 reports whether s matches RFC 7235 token68 (the b64token of
// RFC 6750 §2.1): 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=".
func isToken68(s string) bool {
	i := 0
	// Eight characters per step with one branch and one bounds check (a
	// cached token is ~1 KiB and scanned on every request). A word test
	// with shifts and adds measured slower than these table loads.
	t := &b64TokenChars
	for i+8 <= len(s) {
		w := s[i : i+8]
		if t[w[0]]&t[w[1]]&t[w[2]]&t[w[3]]&t[w[4]]&t[w[5]]&t[w[6]]&t[w[7]] == 0 {
			break
		}
		i += 8
	}
	for i < len(s) && t[s[i]] != 0 {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	return i == len(s)
}

// b64TokenChars marks the b64token characters except "=" (a table: tokens
// are ~1 KiB and scanned on every request).
var b64TokenChars = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		if isB64TokenChar(byte(c)) {
			t[c] = 1
		}
	}
	return t
}()

func isB64TokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '+', '/':
		return true
	}
	return false
}

// isToken reports whether s is an RFC 9110 token (an auth-scheme).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

// hasParam reports whether an application/x-www-form-urlencoded string has
// a parameter named name. It never fails: undecodable names are compared
// raw, so "access_%74oken" and "access_token;x=1" are both found.
func hasParam(s, name string) bool {
	if s == "" { // the usual query: none
		return false
	}
	if !strings.Contains(s, "access") && !strings.Contains(s, "%") {
		return false
	}
	for s != "" {
		var part string
		part, s, _ = strings.Cut(s, "&")
		for _, p := range strings.Split(part, ";") {
			k, _, _ := strings.Cut(p, "=")
			if k == name {
				return true
			}
			if dk, err := url.QueryUnescape(k); err == nil && dk == name {
				return true
			}
		}
	}
	return false
}

// isFormType reports whether the first Content-Type value (h.Get) is
// application/x-www-form-urlencoded.
func isFormType(vs []string) bool {
	var ct string
	if len(vs) > 0 {
		ct = vs[0]
	}
	const form = "application/x-www-form-urlencoded"
	if len(ct) < len(form) || !strings.EqualFold(ct[:len(form)], form) {
		return false
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/x-www-form-urlencoded")
	}
	return mt == "application/x-www-form-urlencoded"
}
