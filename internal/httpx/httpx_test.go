package httpx

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

func TestAllowGet(t *testing.T) {
	for _, tc := range []struct {
		method string
		ok     bool
	}{
		{http.MethodGet, true},
		{http.MethodHead, true},
		{http.MethodPost, false},
		{http.MethodPut, false},
		{http.MethodDelete, false},
		{http.MethodOptions, false},
		{"get", false}, // methods are case-sensitive
	} {
		w := httptest.NewRecorder()
		ok := AllowGet(w, httptest.NewRequest(tc.method, "/", nil))
		if ok != tc.ok {
			t.Errorf("%s: allowed %v, want %v", tc.method, ok, tc.ok)
		}
		if ok {
			if w.Code != http.StatusOK || w.Body.Len() != 0 || len(w.Header()) != 0 {
				t.Errorf("%s: allowed but wrote %d %v %q", tc.method, w.Code, w.Header(), w.Body)
			}
			continue
		}
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d Allow %q, want 405 and GET, HEAD", tc.method, w.Code, w.Header().Get("Allow"))
		}
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for _, tc := range []struct {
		host string
		want bool
	}{
		{"localhost", true},
		{"LocalHost", true},
		{"127.0.0.1", true},
		{"127.1.2.3", true},
		{"::1", true},
		{"::ffff:127.0.0.1", true},
		{"", false},
		{"localhost.", false},
		{"sub.localhost", false},
		{"127.0.0.1.example.com", false},
		{"10.0.0.1", false},
		{"0.0.0.0", false},
		{"::", false},
		{"[::1]", false}, // Hostname() strips the brackets; with them it is not an IP
		{"example.com", false},
	} {
		if got := IsLoopbackHost(tc.host); got != tc.want {
			t.Errorf("IsLoopbackHost(%q) = %v, want %v", tc.host, got, tc.want)
		}
	}
}

func TestIsScopeToken(t *testing.T) {
	for _, tc := range []struct {
		s    string
		want bool
	}{
		{"mcp:tools", true},
		{"!#[]~", true},
		{"a/b?c=d&e", true},
		{"", false},
		{"a b", false},
		{"a\tb", false},
		{`a"b`, false},
		{`a\b`, false},
		{"a\x7f", false},
		{"\x00", false},
		{"é", false},
	} {
		if got := IsScopeToken(tc.s); got != tc.want {
			t.Errorf("IsScopeToken(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
	// Byte by byte against the RFC's ranges.
	for c := 0; c < 256; c++ {
		want := c == 0x21 || c >= 0x23 && c <= 0x5b || c >= 0x5d && c <= 0x7e
		if got := IsScopeToken(string([]byte{byte(c)})); got != want {
			t.Errorf("IsScopeToken(%#x) = %v, want %v", c, got, want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		raw       string
		allowHTTP bool
		ok        bool
		insecure  bool // the error wraps ErrInsecureURL
	}{
		{raw: "https://as.example.com", ok: true},
		{raw: "https://as.example.com:8443/tenant/a?x=1", ok: true},
		{raw: "http://127.0.0.1:8080/mcp", ok: true},
		{raw: "http://[::1]/mcp", ok: true},
		{raw: "http://LOCALHOST/mcp", ok: true},
		{raw: "http://as.example.com", allowHTTP: true, ok: true},
		{raw: "http://as.example.com", insecure: true},
		{raw: "http://localhost.example.com", insecure: true},
		{raw: "ftp://as.example.com", insecure: true},
		{raw: "ftp://as.example.com", allowHTTP: true, insecure: true},
		{raw: ""},
		{raw: "://x"},
		{raw: "/relative/path"},
		{raw: "https:opaque"},
		{raw: "https://user@as.example.com"},
		{raw: "https://user:pw@as.example.com"},
		{raw: "https://as.example.com/#frag"},
		{raw: "https://as.example.com/#"},
		{raw: "as.example.com"},
	} {
		u, err := CheckURL(tc.raw, tc.allowHTTP)
		if tc.ok {
			if err != nil || u == nil || u.String() != tc.raw {
				t.Errorf("CheckURL(%q, %v) = %v, %v; want the URL", tc.raw, tc.allowHTTP, u, err)
			}
			continue
		}
		if err == nil || u != nil {
			t.Errorf("CheckURL(%q, %v) = %v, nil; want an error", tc.raw, tc.allowHTTP, u)
			continue
		}
		if errors.Is(err, ErrInsecureURL) != tc.insecure {
			t.Errorf("CheckURL(%q, %v): %v; insecure %v, want %v", tc.raw, tc.allowHTTP, err, !tc.insecure, tc.insecure)
		}
	}
}

func TestReadBounded(t *testing.T) {
	for _, tc := range []struct {
		n, limit int
		ok       bool
	}{
		{0, 0, true},
		{1, 0, false},
		{10, 10, true},
		{11, 10, false},
		{1 << 20, 10, false},
	} {
		r := &countingReader{r: strings.NewReader(strings.Repeat("x", tc.n))}
		b, err := ReadBounded(r, int64(tc.limit))
		if tc.ok != (err == nil) || tc.ok && len(b) != tc.n {
			t.Errorf("%d bytes, limit %d: %d bytes, %v", tc.n, tc.limit, len(b), err)
		}
		if !tc.ok && (!errors.Is(err, ErrTooLarge) || b != nil) {
			t.Errorf("%d bytes, limit %d: %v, want ErrTooLarge and no bytes", tc.n, tc.limit, err)
		}
		if r.read > int64(tc.limit)+1 {
			t.Errorf("%d bytes, limit %d: read %d bytes, want at most limit+1", tc.n, tc.limit, r.read)
		}
	}
	boom := errors.New("boom")
	if _, err := ReadBounded(iotest.ErrReader(boom), 10); !errors.Is(err, boom) || errors.Is(err, ErrTooLarge) {
		t.Errorf("reader error: %v, want boom", err)
	}
}

type countingReader struct {
	r    io.Reader
	read int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += int64(n)
	return n, err
}

func TestIsJSON(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json":                true,
		"application/json; charset=utf-8": true,
		"Application/JSON":                true,
		"":                                false,
		"text/json":                       false,
		"application/json-seq":            false,
		"application/jsonx":               false,
		"application/json; charset":       false,
		"text/html; application/json":     false,
	} {
		if got := IsJSON(ct); got != want {
			t.Errorf("IsJSON(%q) = %v, want %v", ct, got, want)
		}
	}
}

func TestNoRedirects(t *testing.T) {
	var reached atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached.Add(1) }))
	defer target.Close()
	redirect := httptest.NewServer(http.RedirectHandler(target.URL, http.StatusFound))
	defer redirect.Close()
	follows := &http.Client{Timeout: time.Minute, Transport: redirect.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return nil }}
	for _, tc := range []struct {
		name    string
		hc      *http.Client
		timeout time.Duration
		want    time.Duration
	}{
		{"nil", nil, 0, 0},
		{"nil with timeout", nil, 5 * time.Second, 5 * time.Second},
		{"keeps the timeout", follows, 0, time.Minute},
		{"replaces the timeout", follows, time.Second, time.Second},
	} {
		c := NoRedirects(tc.hc, tc.timeout)
		if c == tc.hc || c.Timeout != tc.want {
			t.Errorf("%s: same client %v, timeout %v, want a copy with %v", tc.name, c == tc.hc, c.Timeout, tc.want)
		}
		resp, err := c.Get(redirect.URL)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Errorf("%s: status %d, want the 302 itself", tc.name, resp.StatusCode)
		}
	}
	if follows.CheckRedirect(nil, nil) != nil {
		t.Error("the caller's client was changed")
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the redirect target was reached %d times", n)
	}
}
