package casbinauthz

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/casbin/casbin/v2/util"
)

// globShape says how a compiled glob is tested. The common shapes are plain
// string tests; every other pattern goes through Casbin's globMatch
// (doublestar). Both give the same answer: the differential tests and
// FuzzGlobShapes compare them.
type globShape uint8

const (
	shapeGeneric      globShape = iota // util.GlobMatch
	shapeAny                           // "*": any object without "/"
	shapePrefix                        // "P*": prefix P, no "/" after it
	shapeSuffix                        // "*S": suffix S, no "/" before it
	shapePrefixSuffix                  // "P*S": both, no "/" in between
	shapeTree                          // "P/**": P itself or anything under "P/"
)

// glob is one compiled object pattern.
type glob struct {
	pat      string
	shape    globShape
	pre, suf string // literal parts used by the shape
}

const globMeta = `*?[]{}\`

func isLiteral(s string) bool { return !strings.ContainsAny(s, globMeta) }

// compileGlob recognises the common shapes of p. P and S are literal (no
// metacharacter) and, for the single-star shapes, contain no "/" next to
// the star's side only when doublestar agrees (checked in match).
func compileGlob(p string) glob {
	g := glob{pat: p}
	switch {
	case p == "*":
		g.shape = shapeAny
	case strings.HasSuffix(p, "/**") && len(p) > 3 && isLiteral(p[:len(p)-3]) && !strings.HasSuffix(p[:len(p)-3], "/"):
		g.shape, g.pre = shapeTree, p[:len(p)-3]
	case strings.Count(p, "*") == 1 && isLiteral(strings.Replace(p, "*", "", 1)):
		i := strings.IndexByte(p, '*')
		g.pre, g.suf = p[:i], p[i+1:]
		switch {
		case g.pre == "":
			g.shape = shapeSuffix
		case g.suf == "":
			g.shape = shapePrefix
		default:
			g.shape = shapePrefixSuffix
		}
	}
	return g
}

// match reports whether obj matches the pattern, exactly as Casbin's
// globMatch(obj, pattern) does when obj is valid UTF-8 (doublestar compares
// runes, so an invalid byte equals U+FFFD; [globIndex.matches] sends such
// objects to globMatch).
func (g *glob) match(obj string) (bool, error) {
	switch g.shape {
	case shapeAny:
		return strings.IndexByte(obj, '/') < 0, nil
	case shapePrefix:
		return strings.HasPrefix(obj, g.pre) && strings.IndexByte(obj[len(g.pre):], '/') < 0, nil
	case shapeSuffix:
		return strings.HasSuffix(obj, g.suf) && strings.IndexByte(obj[:len(obj)-len(g.suf)], '/') < 0, nil
	case shapePrefixSuffix:
		return len(obj) >= len(g.pre)+len(g.suf) && strings.HasPrefix(obj, g.pre) && strings.HasSuffix(obj, g.suf) &&
			strings.IndexByte(obj[len(g.pre):len(obj)-len(g.suf)], '/') < 0, nil
	case shapeTree:
		return obj == g.pre || len(obj) > len(g.pre) && obj[len(g.pre)] == '/' && strings.HasPrefix(obj, g.pre), nil
	}
	return util.GlobMatch(obj, g.pat)
}

// literalSuffix is a suffix every string matched by the glob p has: the
// part after the last metacharacter, cut after its first "/" because
// doublestar lets "**/x" match "x".
func literalSuffix(p string) string {
	i := strings.LastIndexAny(p, globMeta)
	if i < 0 {
		return p
	}
	suf := p[i+1:]
	if j := strings.IndexByte(suf, '/'); j >= 0 {
		suf = suf[j+1:]
	}
	return suf
}

// globIndex finds the patterns that match an object without testing every
// pattern: patterns are bucketed by their literal prefix, then by their
// literal suffix, and a lookup probes only the buckets whose prefix and
// suffix the object has (one map lookup per distinct prefix and suffix
// length). Positions are opaque int32 values given by the caller (rule
// positions in policy order).
type globIndex struct {
	globs      []glob
	pos        []int32
	byPrefix   map[string]*suffixBuckets
	prefixLens []int // distinct prefix lengths, ascending
	n          int
}

type suffixBuckets struct {
	bySuffix   map[string][]int32 // suffix -> indexes into globs
	suffixLens []int
}

func (gi *globIndex) add(pattern string, pos int32) {
	if gi.byPrefix == nil {
		gi.byPrefix = map[string]*suffixBuckets{}
	}
	i := int32(len(gi.globs))
	gi.globs = append(gi.globs, compileGlob(pattern))
	gi.pos = append(gi.pos, pos)
	gi.n++
	pre, suf := literalPrefix(pattern), literalSuffix(pattern)
	sb := gi.byPrefix[pre]
	if sb == nil {
		sb = &suffixBuckets{bySuffix: map[string][]int32{}}
		gi.byPrefix[pre] = sb
		if _, found := slices.BinarySearch(gi.prefixLens, len(pre)); !found {
			gi.prefixLens = append(gi.prefixLens, len(pre))
			slices.Sort(gi.prefixLens)
		}
	}
	if _, ok := sb.bySuffix[suf]; !ok {
		if _, found := slices.BinarySearch(sb.suffixLens, len(suf)); !found {
			sb.suffixLens = append(sb.suffixLens, len(suf))
			slices.Sort(sb.suffixLens)
		}
	}
	sb.bySuffix[suf] = append(sb.bySuffix[suf], i)
}

// matches appends to dst the positions of every pattern that matches obj,
// in ascending order. keep, when non-nil, filters positions before their
// pattern is tested.
func (gi *globIndex) matches(dst []int32, obj string, keep func(int32) bool) ([]int32, error) {
	if gi == nil || gi.n == 0 {
		return dst, nil
	}
	start := len(dst)
	if !utf8.ValidString(obj) {
		// Bytes and runes disagree: test every pattern with globMatch.
		for i, g := range gi.globs {
			if keep != nil && !keep(gi.pos[i]) {
				continue
			}
			ok, err := util.GlobMatch(obj, g.pat)
			if err != nil {
				return dst[:start], err
			}
			if ok {
				dst = append(dst, gi.pos[i])
			}
		}
		slices.Sort(dst[start:])
		return dst, nil
	}
	for _, pl := range gi.prefixLens {
		if pl > len(obj) {
			break
		}
		sb := gi.byPrefix[obj[:pl]]
		if sb == nil {
			continue
		}
		for _, sl := range sb.suffixLens {
			if sl > len(obj) {
				break
			}
			for _, i := range sb.bySuffix[obj[len(obj)-sl:]] {
				p := gi.pos[i]
				if keep != nil && !keep(p) {
					continue
				}
				ok, err := gi.globs[i].match(obj)
				if err != nil {
					return dst[:start], err
				}
				if ok {
					dst = append(dst, p)
				}
			}
		}
	}
	if len(dst)-start > 1 {
		slices.Sort(dst[start:])
	}
	return dst, nil
}
