package mapper

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mcpauthz/mcpauthz/core"
)

// withRaw returns c itself when it has raw claims, else a copy whose Raw is
// built from the typed registered claims.
func withRaw(c *core.Claims) (*core.Claims, error) {
	if c.Raw.Len() != 0 {
		return c, nil
	}
	cp := *c
	raw := make(map[string]any, 6)
	put := func(k, v string) {
		if v != "" {
			raw[k] = v
		}
	}
	put("iss", c.Issuer)
	put("sub", c.Subject)
	put("client_id", c.ClientID)
	put("jti", c.ID)
	if len(c.Scopes) > 0 {
		raw["scope"] = strings.Join(c.Scopes, " ")
	}
	if len(c.Audience) > 0 {
		aud := make([]any, len(c.Audience))
		for i, a := range c.Audience {
			aud[i] = a
		}
		raw["aud"] = aud
	}
	var err error
	if cp.Raw, err = core.RawClaimsFromMap(raw); err != nil {
		return nil, fmt.Errorf("%w: %w", core.ErrMapping, err)
	}
	return &cp, nil
}

// optString returns the string claim at path; "" when absent or empty. A
// present non-string value is an error.
func optString(c *core.Claims, path string) (string, error) {
	v, ok := c.Lookup(path)
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%w: claim %q is not a string", core.ErrMapping, path)
	}
	return s, nil
}

// firstString returns the first non-empty string among paths.
func firstString(c *core.Claims, paths []string) (string, error) {
	for _, p := range paths {
		s, err := optString(c, p)
		if err != nil {
			return "", err
		}
		if s != "" {
			return s, nil
		}
	}
	return "", nil
}

// collect merges the values of list claims: strings (split on spaces when
// split is set) and the string elements of lists. Empty strings are dropped,
// duplicates removed, first-seen order kept. It returns nil when empty.
//
// core.Claims.Strings returns a new slice on every call, so the first list
// is filtered in place; duplicates are found by a linear scan while the
// result is short and with a set beyond that.
func collect(c *core.Claims, paths []string, split bool) []string {
	var out []string
	var seen map[string]struct{}
	for _, p := range paths {
		vals := c.Strings(p, split)
		if out == nil {
			out = vals[:0]
		}
		for _, s := range vals {
			if s == "" {
				continue
			}
			if seen == nil && len(out) >= linearDedup {
				seen = make(map[string]struct{}, 2*len(out))
				for _, o := range out {
					seen[o] = struct{}{}
				}
			}
			if seen != nil {
				if _, dup := seen[s]; dup {
					continue
				}
				seen[s] = struct{}{}
			} else if slices.Contains(out, s) {
				continue
			}
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// linearDedup is the result length up to which collect finds duplicates
// by scanning.
const linearDedup = 16

// attribute converts the claim at path to an attribute value.
func attribute(c *core.Claims, path string) (any, bool) {
	v, ok := c.Lookup(path)
	if !ok {
		return nil, false
	}
	return attrValue(v)
}

func attrValue(v any) (any, bool) {
	switch t := v.(type) {
	case string, bool, json.Number:
		return t, true
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, false
		}
		return json.Number(strconv.FormatFloat(t, 'g', -1, 64)), true
	case int64:
		return json.Number(strconv.FormatInt(t, 10)), true
	case int:
		return json.Number(strconv.Itoa(t)), true
	case []string:
		return append([]string(nil), t...), true
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out, true
	}
	return nil, false
}
