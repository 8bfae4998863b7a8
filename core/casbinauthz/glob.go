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
//
// Patterns with no literal suffix (all "tool:*x*" or "tool:[a-z]x*" share
// the bucket of prefix "tool:" and suffix "") that contain a literal run of
// at least 3 bytes after their prefix are indexed instead by a 3-byte piece
// of that run (byGram): every object they match contains it, so a lookup
// probes one map entry per 3 bytes of the object, not the whole bucket.
type globIndex struct {
	globs      []glob
	pos        []int32
	byPrefix   map[string]*suffixBuckets
	prefixLens []int              // distinct prefix lengths, ascending
	byGram     map[string][]int32 // 3-byte piece of a required run -> indexes into globs
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
	if suf == "" {
		if gram := requiredGram(pattern[len(pre):]); gram != "" {
			if gi.byGram == nil {
				gi.byGram = map[string][]int32{}
			}
			gi.byGram[gram] = append(gi.byGram[gram], i)
			return
		}
	}
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
	if gi.byGram != nil && len(obj) >= 3 {
		n := len(dst)
		for j := 0; j+3 <= len(obj); j++ {
			for _, i := range gi.byGram[obj[j:j+3]] {
				p := gi.pos[i]
				if keep != nil && !keep(p) || slices.Contains(dst[n:], p) { // a piece found twice in obj
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

// requiredGram returns a 3-byte substring that every string matched by the
// glob rest (a pattern after its literal prefix) contains, or "" when it
// cannot tell: the last 3 bytes of the longest run of literal bytes outside
// braces and character classes, runs cut at "/" (doublestar lets "**/"
// match nothing). Patterns with an escape, a class it cannot delimit,
// unbalanced braces or invalid UTF-8 get "".
func requiredGram(rest string) string {
	if strings.IndexByte(rest, '\\') >= 0 || !utf8.ValidString(rest) {
		return ""
	}
	best, run, depth := "", 0, 0
	flush := func(end int) {
		if depth == 0 && run > len(best) {
			best = rest[end-run : end]
		}
		run = 0
	}
	for i := 0; i < len(rest); i++ {
		switch c := rest[i]; c {
		case '[':
			flush(i)
			j := i + 1
			if j < len(rest) && (rest[j] == '!' || rest[j] == '^') {
				j++
			}
			j++ // a "]" first in the class is a member
			k := strings.IndexByte(rest[min(j, len(rest)):], ']')
			if k < 0 {
				return ""
			}
			i = j + k
		case ']':
			return ""
		case '{':
			flush(i)
			depth++
		case '}':
			if depth == 0 {
				return ""
			}
			depth--
			run = 0 // what was inside the braces is not required
		case '*', '?', '/', ',':
			if c == ',' && depth == 0 {
				run++
				continue
			}
			flush(i)
		default:
			run++
		}
	}
	if depth != 0 {
		return ""
	}
	flush(len(rest))
	if len(best) < 3 {
		return ""
	}
	return best[len(best)-3:]
}
