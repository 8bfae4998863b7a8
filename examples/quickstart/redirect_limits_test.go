package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestRedirectListenerLimits: the loopback redirect endpoint refuses
// oversized headers (431) before its handler records an authorization
// response; a normal redirect is recorded.
func TestRedirectListenerLimits(t *testing.T) {
	l, err := newRedirectListener()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, tc := range []struct {
		name     string
		pad      int
		status   int
		recorded bool
	}{
		{"normal redirect", 0, http.StatusOK, true},
		{"oversized headers", 64 << 10, http.StatusRequestHeaderFieldsTooLarge, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l.take()
			req, _ := http.NewRequest(http.MethodGet, l.url+"?code=c&state=s", nil)
			if tc.pad > 0 {
				req.Header.Set("X-Pad", strings.Repeat("a", tc.pad))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status || (l.take() != nil) != tc.recorded {
				t.Fatalf("status %d, want %d; recorded != %v", resp.StatusCode, tc.status, tc.recorded)
			}
		})
	}
}
