package core

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Claims is the verified content of an access token, produced by a
// [TokenVerifier]. The registered claims are the typed fields, filled when
// the token is verified; every claim, registered or not, is in Raw, kept as
// the strictly validated JSON text and decoded only on demand (see
// [RawClaims]).
//
// A Claims returned by a verifier is shared: a caching verifier hands the
// same *Claims to every request carrying the token. Treat it, and the
// slices in it, as read-only; copy it (and clone Audience and Scopes) to
// change anything.
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

	// Raw is every claim of the token (or of the introspection response),
	// decoded on demand.
	Raw RawClaims

	// Memo, set by a verifier that caches verified tokens, is shared by
	// every request of one token: the Guard keeps the principal it maps
	// from the claims there ([TokenMemo]). nil: mapped on every request.
	Memo *TokenMemo
}

// Lookup returns the claim at path, decoded from Raw. A path is first tried
// as one top-level claim name (so namespaced claims such as
// "https://example.com/roles" work), then as a dot-separated path into
// nested objects ("realm_access.roles").
// A segment may be double-quoted to hold dots or slashes: the path
// `"https://corp.example/claims".teams` reads the member "teams" of the
// top-level claim "https://corp.example/claims", and
// `resource_access."my.client".roles` reads a Keycloak client id containing a
// dot. A quoted segment ends at the next double quote (names containing a
// double quote cannot be addressed); see [ValidateClaimPath]. Only the value
// found is decoded; numbers are json.Number.
func (c *Claims) Lookup(path string) (any, bool) {
	if c == nil {
		return nil, false
	}
	return c.Raw.Lookup(path)
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
// and a missing claim, yields nil. Each call returns a new slice.
func (c *Claims) Strings(path string, splitSpaces bool) []string {
	if c == nil {
		return nil
	}
	return c.Raw.strings(path, splitSpaces)
}

// String returns the claim at path if it is a JSON string.
func (c *Claims) String(path string) (string, bool) {
	if c == nil {
		return "", false
	}
	return c.Raw.string(path)
}
