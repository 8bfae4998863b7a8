package authserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestAddressAllowed: the dial-time check refuses every non-public
// address, including IPv4 embedded in IPv6 forms.
func TestAddressAllowed(t *testing.T) {
	allow := []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}
	for _, tc := range []struct {
		addr string
		dev  bool
		want bool
	}{
		{"93.184.215.14", false, true},
		{"2606:4700::1111", false, true},
		{"127.0.0.1", false, false},
		{"127.0.0.1", true, true},
		{"::1", false, false},
		{"::ffff:127.0.0.1", false, false},
		{"::ffff:10.0.0.1", false, false},
		{"10.0.0.1", false, false},
		{"10.9.1.1", false, true}, // allow-listed
		{"172.16.0.1", false, false},
		{"192.168.1.1", false, false},
		{"169.254.169.254", false, false}, // cloud metadata
		{"100.64.0.1", false, false},
		{"0.0.0.0", false, false},
		{"255.255.255.255", false, false},
		{"224.0.0.1", false, false},
		{"198.18.0.1", false, false},
		{"fe80::1", false, false},
		{"fc00::1", false, false},
		{"::", false, false},
		{"64:ff9b::7f00:1", false, false},
		{"2002:7f00:1::", false, false},
		{"2001:0:4136:e378::1", false, false},
		{"0.1.2.3", false, false},             // "this network" 0/8
		{"::127.0.0.1", false, false},         // IPv4-compatible (deprecated) embeds loopback
		{"::a9fe:a9fe", false, false},         // IPv4-compatible 169.254.169.254
		{"::ffff:0:7f00:1", false, false},     // IPv4-translated (SIIT) 127.0.0.1
		{"::ffff:0:a00:1", false, false},      // IPv4-translated 10.0.0.1
		{"fec0::1", false, false},             // deprecated site-local
		{"100::1", false, false},              // discard-only
		{"fe80::1%eth0", false, false},        // zone id
		{"2001:4860:4860::8888", false, true}, // public IPv6 still allowed
	} {
		if got := addressAllowed(netip.MustParseAddr(tc.addr), allow, tc.dev); got != tc.want {
			t.Errorf("%s (dev %v): %v, want %v", tc.addr, tc.dev, got, tc.want)
		}
	}
}

func TestCacheTTL(t *testing.T) {
	c := &cimd{defTTL: 5 * time.Minute, maxTTL: time.Hour}
	for _, tc := range []struct {
		cc   []string
		want time.Duration
	}{
		{nil, 5 * time.Minute},
		{[]string{"max-age=60"}, time.Minute},
		{[]string{"public, max-age=600"}, 10 * time.Minute},
		{[]string{"max-age=999999"}, time.Hour},
		{[]string{"no-store"}, 0},
		{[]string{"max-age=60, no-cache"}, 0},
		{[]string{"max-age=60", "no-store"}, 0},
		{[]string{"max-age=-1"}, 0},
		{[]string{"max-age=abc"}, 0},
		{[]string{`max-age="120"`}, 2 * time.Minute},
	} {
		h := http.Header{}
		for _, v := range tc.cc {
			h.Add("Cache-Control", v)
		}
		if got := c.cacheTTL(h); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.cc, got, tc.want)
		}
	}
}

// FuzzDocumentURL: an accepted client_id URL is https with a host and a
// path, without user info, query, fragment or dot segments.
func FuzzDocumentURL(f *testing.F) {
	for _, s := range []string{"https://a.example.com/c.json", "https://a.example.com/", "https://u@a.example.com/x", "https://a.example.com/x/../y",
		"https://a.example.com/x?q", "http://a.example.com/x", "https://a.example.com/%2e%2e/x", "https://[::1]:8/x", "https:/x"} {
		f.Add(s)
	}
	c := &cimd{}
	f.Fuzz(func(t *testing.T, raw string) {
		if c.checkDocumentURL(raw) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || len(u.EscapedPath()) < 2 {
			t.Fatalf("accepted %q", raw)
		}
		for _, seg := range strings.Split(u.Path, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("dot segment accepted: %q", raw)
			}
		}
	})
}

// Client lookup at /authorize and the token endpoint: configured,
// registered, and a cached metadata document (no fetch).
func BenchmarkClientLookup(b *testing.B) {
	e := newEnv(b, func(c *Config) {
		brokerConfig(c)
		c.Registration = &Registration{LoopbackRedirects: true}
		c.ClientMetadataDocuments = &ClientMetadataDocuments{}
	})
	ctx := context.Background()
	now := e.s.now()
	reg := &RegisteredClient{ID: registeredIDPrefix + randomToken(), AuthMethod: AuthNone, GrantTypes: []string{GrantAuthorizationCode},
		RedirectURIs: []string{"http://127.0.0.1/cb"}}
	if err := e.s.registrar.store.Register(ctx, *reg); err != nil {
		b.Fatal(err)
	}
	docID := "https://app.example.com/client.json"
	dc := &client{id: docID, public: true, origin: originDocument}
	e.s.cimd.cache.Put(docID, docResult{c: dc}, docBytes(docID, dc, nil), now.Add(time.Hour))
	for _, bc := range []struct{ name, id string }{{"kind=config", "native"}, {"kind=registered", reg.ID}, {"kind=document", docID}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if c, err := e.s.lookupClient(ctx, bc.id, ""); c == nil || err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDocumentClientHardened: the document client never uses a proxy
// (HTTPS_PROXY would hide the address checked at dial time), never
// inflates compressed bodies, caps response headers and follows no
// redirect.
func TestDocumentClientHardened(t *testing.T) {
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:9")
	hc := documentClient(nil, false, nil, time.Second)
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		t.Fatalf("transport %T", hc.Transport)
	}
	if tr.Proxy != nil {
		t.Error("a proxy function is set")
	}
	if !tr.DisableCompression || tr.MaxResponseHeaderBytes <= 0 || tr.MaxResponseHeaderBytes > 64<<10 {
		t.Errorf("compression off %v, header cap %d", tr.DisableCompression, tr.MaxResponseHeaderBytes)
	}
	if tr.ForceAttemptHTTP2 {
		t.Error("HTTP/2 forced")
	}
	if hc.CheckRedirect == nil || hc.CheckRedirect(nil, nil) != http.ErrUseLastResponse {
		t.Error("redirects followed")
	}
}

// lateTransport answers every request with a valid document after delay,
// ignoring the request's context: a transport (or a scheduler) that
// delivers a response after the fetch deadline.
type lateTransport struct{ delay time.Duration }

func (l lateTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	time.Sleep(l.delay)
	body := `{"client_id":"` + r.URL.String() + `","redirect_uris":["http://127.0.0.1/callback"]}`
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: r}, nil
}

// TestDocumentFetchDeadlineAuthoritative: a document that arrives after
// the fetch timeout is refused, even when the transport delivers it
// without an error (before, it was accepted: the timeout was only as good
// as the transport's reaction to it; once seen at 0.31 s with 300 ms).
// One that arrives in time is accepted.
func TestDocumentFetchDeadlineAuthoritative(t *testing.T) {
	const timeout = 300 * time.Millisecond
	for _, tc := range []struct {
		delay time.Duration
		ok    bool
	}{{0, true}, {3 * timeout / 2, false}} {
		e := newEnv(t, func(c *Config) {
			brokerConfig(c)
			c.ClientMetadataDocuments = &ClientMetadataDocuments{Timeout: timeout}
		})
		e.s.cimd.hc = &http.Client{Transport: lateTransport{tc.delay}}
		id := "https://app.example.com/client.json"
		cl, err := e.s.cimd.client(context.Background(), e.s, id, "")
		if tc.ok {
			if err != nil || cl == nil {
				t.Fatalf("delay %s: %v", tc.delay, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "timed out") {
			t.Fatalf("delay %s past the %s timeout: accepted (%v)", tc.delay, timeout, err)
		}
	}
}

// docTransport answers every request with body as a JSON document.
type docTransport struct{ body string }

func (d docTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(d.body)), ContentLength: int64(len(d.body)), Request: r}, nil
}

// TestDocumentFailureCharged: a refused document is cached (for
// metadataDocumentFailureTTL) with its error, and the cache is charged
// that error's text besides the fixed 256 B and the URL (before, the text
// was not charged; a value of the document in it can take MaxLogField
// bytes).
func TestDocumentFailureCharged(t *testing.T) {
	id := "https://app.example.com/client.json"
	for _, tc := range []struct {
		name, body string
	}{
		{"grant type", `{"client_id":"` + id + `","redirect_uris":["http://127.0.0.1/cb"],"grant_types":["authorization_code","` + strings.Repeat("x", 4096) + `"]}`},
		{"empty document", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) {
				brokerConfig(c)
				c.ClientMetadataDocuments = &ClientMetadataDocuments{}
			})
			e.s.cimd.hc = &http.Client{Transport: docTransport{tc.body}}
			_, err := e.s.cimd.client(context.Background(), e.s, id, "")
			if !errors.Is(err, ErrMetadataDocument) {
				t.Fatalf("err = %v, want ErrMetadataDocument", err)
			}
			if e.s.cimd.cache.Len() != 1 {
				t.Fatalf("%d cached entries, want the failure", e.s.cimd.cache.Len())
			}
			if got, want := e.s.cimd.cache.Bytes(), int64(256+len(id)+len(err.Error())); got != want {
				t.Fatalf("failure charged %d bytes, want %d (error text %d bytes)", got, want, len(err.Error()))
			}
		})
	}
}

// BenchmarkDocumentFetchChargeParallel is the fetch budget's charge (one
// per document fetched: the source's bucket, then the server-wide one, in
// the in-process MemoryLimiter behind one mutex) from every P at once,
// each from sources of its own: "flood" with the default limits (the
// server-wide bucket is empty after its burst, so nearly every charge is
// refused, as under a flood of uncached client ids), "allowed" with
// limits nothing exhausts. Compare ns/op across -cpu 1,2,...: without
// contention it falls as P grows.
func BenchmarkDocumentFetchChargeParallel(b *testing.B) {
	for _, bc := range []struct {
		name string
		lim  Limit
	}{{"flood", Limit{}}, {"allowed", Limit{PerSecond: 1e12, Burst: 1 << 30}}} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b, func(c *Config) {
				brokerConfig(c)
				c.ClientMetadataDocuments = &ClientMetadataDocuments{FetchLimit: bc.lim, FetchLimitPerSource: bc.lim}
			})
			var next atomic.Int64
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				src := "203.0.113." + strconv.FormatInt(next.Add(1), 10)
				for pb.Next() {
					_ = e.s.cimd.charge(ctx, src)
				}
			})
		})
	}
}
