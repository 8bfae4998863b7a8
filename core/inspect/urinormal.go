package inspect

import (
	"errors"
	"strings"
)

// checkResourceURI refuses a resources/read or resources/subscribe URI
// that another spelling of the same resource could evade a policy with.
// The policy object is the URI exactly as sent ("resource:<uri>"), matched
// by literal text and globs, while a handler commonly percent-decodes the
// path (url.Parse(uri).Path) and cleans it. So a URI is refused when, in
// its path, it has
//
//   - a percent-escape of an unreserved character (RFC 3986 §2.3: "%68r"
//     is "hr"; normalisation decodes them, §6.2.2.2), in any case;
//   - an encoded '/' or '\' ("hr%2Fsalaries" is "hr/salaries" once
//     decoded);
//   - a "." or ".." segment, or an empty segment ("docs//hr"), which a
//     cleaned path removes (§6.2.2.3);
//   - a malformed escape;
//
// and anywhere in the URI a malformed escape or an escaped unreserved
// character. Every URI the go-sdk lists in normal form passes unchanged,
// as do escapes of other characters ("%20").
func checkResourceURI(uri string) error {
	pathStart, pathEnd := uriPath(uri)
	for i := 0; i < len(uri); i++ {
		if uri[i] != '%' {
			continue
		}
		if i+2 >= len(uri) || unhex(uri[i+1]) == 0xff || unhex(uri[i+2]) == 0xff {
			return errors.New("malformed percent-escape")
		}
		c := unhex(uri[i+1])<<4 | unhex(uri[i+2])
		if unreserved(c) {
			return errors.New("percent-escape of an unreserved character (not in normal form)")
		}
		if (c == '/' || c == '\\') && i >= pathStart && i < pathEnd {
			return errors.New("encoded '/' or '\\' in the path")
		}
		i += 2
	}
	p := uri[pathStart:pathEnd]
	if p == "" {
		return nil
	}
	segs := strings.Split(p, "/")
	for j, s := range segs {
		switch {
		case s == "." || s == "..":
			return errors.New("dot segment in the path")
		case s == "" && j > 0 && j < len(segs)-1:
			return errors.New("empty segment in the path")
		}
	}
	return nil
}

// uriPath returns the bounds of the path of uri: after "scheme:" and a
// "//authority", up to '?' or '#'. Without a scheme the whole URI up to
// '?' or '#' is the path.
func uriPath(uri string) (start, end int) {
	end = len(uri)
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		end = i
	}
	i := strings.IndexByte(uri[:end], ':')
	if i <= 0 || strings.ContainsAny(uri[:i], "/%") {
		return 0, end // no scheme: no authority either
	}
	start = i + 1
	if strings.HasPrefix(uri[start:end], "//") {
		start += 2
		if j := strings.IndexByte(uri[start:end], '/'); j >= 0 {
			start += j
		} else {
			start = end
		}
	}
	return start, end
}
