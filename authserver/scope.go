package authserver

import (
	"errors"
	"slices"
	"strings"

	"github.com/mcpauthz/mcpauthz/internal/httpx"
)

var errScopeSyntax = errors.New("malformed scope")

// maxScopeTokens bounds the scope-tokens of one scope string: removing
// duplicates compares each token with the earlier ones, so a 64 KiB token
// request of distinct short tokens cost about 0.45 s of CPU.
const maxScopeTokens = 256

// parseScope splits a space-delimited scope string (RFC 6749 §3.3). Every
// scope-token must use the characters %x21 / %x23-5B / %x5D-7E; tokens are
// separated by exactly one space; at most maxScopeTokens tokens. Duplicates
// are removed, order kept.
func parseScope(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	if strings.Count(s, " ") >= maxScopeTokens {
		return nil, errScopeSyntax
	}
	parts := strings.Split(s, " ")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if len(p) > 256 || !httpx.IsScopeToken(p) {
			return nil, errScopeSyntax
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// decideScopes returns the scopes to grant. available is what the grant
// could carry at most (already intersected with the client's and the
// resource's scopes, in a stable order). requested is the request's "scope"
// parameter ("" when absent).
//
//   - no scope requested: grant every available scope;
//   - scopes requested: grant requested ∩ available (request order); in
//     strict mode any requested scope outside available is invalid_scope;
//     an empty result is invalid_scope in both modes.
func decideScopes(available []string, requested string, strict bool) ([]string, *oauthError) {
	req, err := parseScope(requested)
	if err != nil {
		return nil, errScope("malformed scope parameter", err)
	}
	if req == nil {
		return available, nil
	}
	out := make([]string, 0, len(req))
	for _, s := range req {
		if slices.Contains(available, s) {
			out = append(out, s)
		} else if strict {
			return nil, errScope("requested scope cannot be granted", errors.New("scope "+truncateForLog(s)+" not grantable"))
		}
	}
	if len(out) == 0 {
		return nil, errScope("none of the requested scopes can be granted", nil)
	}
	return out, nil
}

// intersect keeps the elements of a that are in every set, in a's order.
func intersect(a []string, sets ...map[string]bool) []string {
	out := make([]string, 0, len(a))
outer:
	for _, s := range a {
		for _, set := range sets {
			if !set[s] {
				continue outer
			}
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func toSet(list []string) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		m[s] = true
	}
	return m
}
