package depfloor

import (
	"strconv"
	"strings"
)

// Floor is a minimum version for a module path.
type Floor struct {
	Path string
	Min  string // semantic version with a leading "v"
	Why  string
}

// Floors returns the enforced minimum versions (a new slice each call).
func Floors() []Floor {
	return []Floor{
		{"github.com/go-jose/go-jose/v4", "v4.1.4", "CVE-2026-34986 (JWE panic), CVE-2025-27144, CVE-2024-28180"},
		{"github.com/coreos/go-oidc/v3", "v3.15.0", "signature verified before claims parsing (go-oidc PR #464)"},
		{"github.com/golang-jwt/jwt/v5", "v5.2.2", "CVE-2025-30204 (excessive allocation in header parsing)"},
	}
}

// Compare compares two semantic versions ("v1.2.3", "v1.2.3-rc.1",
// "v0.0.0-20240101000000-abcdef", "+incompatible" ignored) and returns -1, 0
// or +1. ok is false when either is not a valid semantic version; callers
// must then treat the version as failing the floor.
func Compare(a, b string) (c int, ok bool) {
	pa, okA := parse(a)
	pb, okB := parse(b)
	if !okA || !okB {
		return 0, false
	}
	for i := 0; i < 3; i++ {
		if pa.num[i] != pb.num[i] {
			if pa.num[i] < pb.num[i] {
				return -1, true
			}
			return 1, true
		}
	}
	return comparePre(pa.pre, pb.pre), true
}

type version struct {
	num [3]uint64
	pre []string
}

func parse(v string) (version, bool) {
	var out version
	if !strings.HasPrefix(v, "v") {
		return out, false
	}
	v = strings.TrimSuffix(v[1:], "+incompatible")
	if i := strings.IndexByte(v, '+'); i >= 0 {
		v = v[:i] // build metadata does not order
	}
	core, pre, hasPre := strings.Cut(v, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return out, false
	}
	for i, p := range parts {
		if p == "" || (len(p) > 1 && p[0] == '0') {
			return out, false
		}
		n, err := strconv.ParseUint(p, 10, 64)
		if err != nil {
			return out, false
		}
		out.num[i] = n
	}
	if hasPre {
		if pre == "" {
			return out, false
		}
		out.pre = strings.Split(pre, ".")
		for _, id := range out.pre {
			if id == "" {
				return out, false
			}
		}
	}
	return out, true
}

// comparePre orders pre-release identifiers per SemVer 2.0.0 §11: no
// pre-release > any pre-release; numeric identifiers < alphanumeric ones.
func comparePre(a, b []string) int {
	switch {
	case len(a) == 0 && len(b) == 0:
		return 0
	case len(a) == 0:
		return 1
	case len(b) == 0:
		return -1
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] == b[i] {
			continue
		}
		na, errA := strconv.ParseUint(a[i], 10, 64)
		nb, errB := strconv.ParseUint(b[i], 10, 64)
		switch {
		case errA == nil && errB == nil:
			if na < nb {
				return -1
			}
			return 1
		case errA == nil:
			return -1
		case errB == nil:
			return 1
		case a[i] < b[i]:
			return -1
		default:
			return 1
		}
	}
	switch {
	case len(a) < len(b):
		return -1
	case len(a) > len(b):
		return 1
	}
	return 0
}

// Violations checks "go list -m all" output lines ("path version" or
// "path version => replacement [version]") against the floors and returns
// one message per module below its floor (or with an unparsable version).
func Violations(goListOutput string, floors []Floor) []string {
	var out []string
	for _, line := range strings.Split(goListOutput, "\n") {
		fields := strings.Fields(line)
		// Check the module itself and, if replaced, the replacement.
		var pairs [][2]string
		if len(fields) >= 2 && fields[1] != "=>" {
			pairs = append(pairs, [2]string{fields[0], fields[1]})
		}
		for i, f := range fields {
			if f == "=>" && i+2 < len(fields) {
				pairs = append(pairs, [2]string{fields[i+1], fields[i+2]})
			}
		}
		for _, p := range pairs {
			for _, fl := range floors {
				if p[0] != fl.Path {
					continue
				}
				if c, ok := Compare(p[1], fl.Min); !ok || c < 0 {
					out = append(out, p[0]+" "+p[1]+" is below the floor "+fl.Min+": "+fl.Why)
				}
			}
		}
	}
	return out
}
