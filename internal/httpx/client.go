package httpx

import (
	"net/http"
	"time"
)

// NoRedirects returns a copy of hc (a new client when hc is nil) that never
// follows a redirect: a 3xx is returned as the response, whatever hc's own
// CheckRedirect does, so a URL nobody checked is never reached and a
// request's body (a form with a secret or an assertion) is never re-sent
// elsewhere. A timeout > 0 replaces the client's total timeout.
func NoRedirects(hc *http.Client, timeout time.Duration) *http.Client {
	c := &http.Client{}
	if hc != nil {
		*c = *hc
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if timeout > 0 {
		c.Timeout = timeout
	}
	return c
}
