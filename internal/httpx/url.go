package httpx

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// ErrInsecureURL is the error of CheckURL for a URL that is neither https
// nor plain http that is allowed.
var ErrInsecureURL = errors.New("must use https (http is allowed only for loopback hosts)")

// CheckURL parses raw as the URL of an HTTP service (an issuer, an endpoint,
// a resource) and applies the one rule set for such URLs: absolute with a
// host, no user info, no fragment (an empty "#" included); https, or http
// when allowHTTP is set or the host is loopback ([IsLoopbackHost]). The
// error is a phrase for the caller to prefix with what the URL is; a scheme
// that is refused wraps [ErrInsecureURL].
func CheckURL(raw string, allowHTTP bool) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("is not a URL")
	}
	if u.Host == "" || u.Opaque != "" || u.User != nil || u.Fragment != "" || strings.Contains(raw, "#") {
		return nil, errors.New("must be an absolute URL without user info or fragment")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowHTTP && !IsLoopbackHost(u.Hostname()) {
			return nil, ErrInsecureURL
		}
	default:
		return nil, ErrInsecureURL
	}
	return u, nil
}

// IsLoopbackHost reports whether h, a URL's Hostname(), names the local
// machine: "localhost" in any case, or a loopback IP literal (127.0.0.0/8,
// ::1, an IPv4-mapped loopback). Names are not resolved. It is the one rule
// behind "plain http only for loopback hosts".
func IsLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
