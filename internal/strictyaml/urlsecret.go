package strictyaml

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// LiteralURLPassword returns the path (dotted, with [i] for list items;
// in sorted order) of the first value of options, decoded without ${NAME}
// expansion, that holds a password written in the file, and true: a URL
// with a password (redis://:secret@host, or credential-shaped text that
// does not parse as a URL), or any value of a key named "password" or
// ending in "_password"; a value that is exactly ${NAME} is fine. Nested
// mappings and lists are searched. A store's options go through it so
// that, like every other secret, a password lives in the environment and
// never in the file.
func LiteralURLPassword(options map[string]any) (string, bool) {
	return literalSecret(options, "", 0)
}

func literalSecret(v any, path string, depth int) (string, bool) {
	if depth > 8 {
		return path, true // deeper than any store's options: refuse, do not guess
	}
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			p := join(path, k)
			if k == "password" || strings.HasSuffix(k, "_password") {
				if s, ok := v[k].(string); !ok || !IsEnvRef(s) {
					return p, true
				}
				continue
			}
			if p, found := literalSecret(v[k], p, depth+1); found {
				return p, true
			}
		}
	case []any:
		for i, e := range v {
			if p, found := literalSecret(e, fmt.Sprintf("%s[%d]", path, i), depth+1); found {
				return p, true
			}
		}
	case string:
		return path, urlWithPassword(v)
	}
	return "", false
}

// urlWithPassword reports whether s is a URL with a password, or
// credential-shaped text that does not parse as one, and not exactly
// ${NAME}.
func urlWithPassword(s string) bool {
	if IsEnvRef(s) || !strings.Contains(s, "@") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return strings.Contains(s, "://")
	}
	if u.User != nil {
		_, set := u.User.Password()
		return set
	}
	return false
}
