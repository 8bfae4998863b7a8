package core

import (
	"encoding/json"
	"strings"
	"time"
)

// Claims is the verified content of an access token, produced by a
// [TokenVerifier]. For JWTs the registered claims are parsed strictly (no
// duplicate or case-variant keys); Raw holds every claim, with numbers as
// json.Number, for custom mappers.
type Claims struct {
	Issuer    string    // "iss"
	Subject   string    // "sub"
	Audience  []string  // "aud", always a list
	ClientID  string    // "client_id" (RFC 9068), else "azp"/"appid" where a preset maps it
	Scopes    []string  // "scope" (space-delimited) or "scp" (string or list)
	Expiry    time.Time // "exp"
	NotBefore time.Time // "nbf", zero if absent
	IssuedAt  time.Time // "iat", zero if absent
	ID        string    // "jti"

	// Token metadata, from the JOSE header for JWTs. Empty for introspection.
	Type      string // "typ"
	KeyID     string // "kid"
	Algorithm string // "alg"

	// Raw is every claim of the token (or of the introspection response).
	Raw map[string]any

	// Memo, set by a verifier that caches verified tokens, is shared by
	// every Claims it returns for one token: the Guard keeps the principal
	// it maps from them there ([TokenMemo]). nil: mapped on every request.
	Memo *TokenMemo
}

// Lookup returns the claim at path. A path is first tried as one top-level
// claim name (so namespaced claims such as "https://example.com/roles" work),
// then as a dot-separated path into nested objects ("realm_access.roles").
func (c *Claims) Lookup(path string) (any, bool) {
	if c == nil || c.Raw == nil || path == "" {
		return nil, false
	}
	if v, ok := c.Raw[path]; ok {
		return v, true
	}
	if strings.IndexByte(path, '.') < 0 {
		return nil, false // a plain name was looked up above
	}
	// Walk the segments without allocating (a missing claim is the common
	// case on the hot path: "roles", "tid", ... for tokens without them).
	var cur any = c.Raw
	for rest, more := path, true; more; {
		var seg string
		seg, rest, more = strings.Cut(rest, ".")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[seg]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// Strings returns the claim at path as a list of strings. A JSON string is
// returned as one element (or split on spaces when splitSpaces is true, as for
// "scope"); a list keeps only its string elements in order. Anything else,
// and a missing claim, yields nil.
func (c *Claims) Strings(path string, splitSpaces bool) []string {
	v, ok := c.Lookup(path)
	if !ok {
		return nil
	}
	switch t := v.(type) {
	case string:
		if splitSpaces {
			return strings.Fields(t)
		}
		if t == "" {
			return nil
		}
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// String returns the claim at path if it is a JSON string.
func (c *Claims) String(path string) (string, bool) {
	v, ok := c.Lookup(path)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	return s, ok
}

// Decode re-encodes Raw and decodes it into v (a struct pointer), for callers
// that prefer typed custom claims.
func (c *Claims) Decode(v any) error {
	b, err := json.Marshal(c.Raw)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
