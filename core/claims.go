package core

import (
	"encoding/json"
	"errors"
	"fmt"
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
// A segment may be double-quoted to hold dots or slashes: the path
// `"https://corp.example/claims".teams` reads the member "teams" of the
// top-level claim "https://corp.example/claims", and
// `resource_access."my.client".roles` reads a Keycloak client id containing a
// dot. A quoted segment ends at the next double quote (names containing a
// double quote cannot be addressed); see [ValidateClaimPath].
func (c *Claims) Lookup(path string) (any, bool) {
	if c == nil || c.Raw == nil || path == "" {
		return nil, false
	}
	if v, ok := c.Raw[path]; ok {
		return v, true
	}
	if strings.IndexByte(path, '.') < 0 && strings.IndexByte(path, '"') < 0 {
		return nil, false // a plain name was looked up above
	}
	// Walk the segments without allocating (a missing claim is the common
	// case on the hot path: "roles", "tid", ... for tokens without them).
	var cur any = c.Raw
	for rest := path; ; {
		seg, next, more, ok := nextSegment(rest)
		if !ok {
			return nil, false
		}
		m, isMap := cur.(map[string]any)
		if !isMap {
			return nil, false
		}
		if cur, ok = m[seg]; !ok {
			return nil, false
		}
		if !more {
			return cur, true
		}
		rest = next
	}
}

// nextSegment splits the first segment off a claim path: a double-quoted
// segment up to the next quote, or a plain one up to the next dot. ok is
// false for a malformed path (unterminated quote, text after a closing
// quote, an empty quoted segment, a quote inside a plain segment). A plain
// segment may be empty (the claim name "").
func nextSegment(path string) (seg, rest string, more, ok bool) {
	if strings.HasPrefix(path, `"`) {
		end := strings.IndexByte(path[1:], '"')
		if end < 0 {
			return "", "", false, false
		}
		seg, rest = path[1:1+end], path[2+end:]
		if rest == "" {
			return seg, "", false, seg != ""
		}
		if rest[0] != '.' {
			return "", "", false, false
		}
		return seg, rest[1:], true, seg != "" && len(rest) > 1
	}
	seg, rest, more = strings.Cut(path, ".")
	if strings.IndexByte(seg, '"') >= 0 {
		return "", "", false, false
	}
	return seg, rest, more, true
}

// ValidateClaimPath reports whether path is usable with [Claims.Lookup]:
// non-empty, and, when it contains double quotes, made of dot-separated
// segments that are each plain or a non-empty double-quoted name. A path
// without double quotes is always valid (it may name one top-level claim
// that contains dots). Mappers call it on their configuration so that a
// typo fails at start-up rather than silently never matching.
func ValidateClaimPath(path string) error {
	if path == "" {
		return errors.New("empty claim path")
	}
	if strings.IndexByte(path, '"') < 0 {
		return nil
	}
	for rest := path; ; {
		_, next, more, ok := nextSegment(rest)
		if !ok {
			return fmt.Errorf("claim path %q: malformed quoted segment (want \"name.with.dots\".member)", path)
		}
		if !more {
			return nil
		}
		rest = next
	}
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
