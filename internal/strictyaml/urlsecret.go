package strictyaml

import (
	"maps"
	"net/url"
	"slices"
	"strings"
)

// LiteralURLPassword returns the first key (in sorted order) of options,
// decoded without ${NAME} expansion, whose value is a URL with a password
// written in the file (redis://:secret@host, or credential-shaped text that
// does not parse as a URL), and true; a value that is exactly ${NAME} is
// fine. A store's options go through it so that, like every other secret, a
// password lives in the environment and never in the file.
func LiteralURLPassword(options map[string]any) (string, bool) {
	for _, k := range slices.Sorted(maps.Keys(options)) {
		s, ok := options[k].(string)
		if !ok || IsEnvRef(s) || !strings.Contains(s, "@") {
			continue
		}
		u, err := url.Parse(s)
		if err != nil {
			if strings.Contains(s, "://") {
				return k, true
			}
			continue
		}
		if u.User != nil {
			if _, set := u.User.Password(); set {
				return k, true
			}
		}
	}
	return "", false
}
