package authserver_test

import (
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// docHost is a loopback TLS server of client ID metadata documents; each
// path has its own behaviour, and fetches are counted per path.
type docHost struct {
	srv     *httptest.Server
	fetches map[string]*atomic.Int64
}

func (d *docHost) url(p string) string { return d.srv.URL + p }

func (d *docHost) count(p string) int64 { return d.fetches[p].Load() }

func newDocHost(t *testing.T) *docHost {
	t.Helper()
	d := &docHost{fetches: map[string]*atomic.Int64{}}
	doc := func(id string, extra string) string {
		return `{"client_id":"` + id + `","client_name":"Doc Agent","redirect_uris":["http://127.0.0.1/callback"]` + extra + `}`
	}
	type route struct {
		ct, cache string
		status    int
		body      func(base string) string
		slow      bool
	}
	routes := map[string]route{
		"/good.json":     {body: func(b string) string { return doc(b+"/good.json", "") }, cache: "max-age=60"},
		"/nostore.json":  {body: func(b string) string { return doc(b+"/nostore.json", "") }, cache: "no-store"},
		"/default.json":  {body: func(b string) string { return doc(b+"/default.json", "") }},
		"/big.json":      {body: func(b string) string { return doc(b+"/big.json", `,"x":"`+strings.Repeat("a", 6<<10)+`"`) }},
		"/slow.json":     {body: func(b string) string { return doc(b+"/slow.json", "") }, slow: true},
		"/wrongid.json":  {body: func(b string) string { return doc(b+"/other.json", "") }},
		"/redirect.json": {status: http.StatusFound},
		"/garbage.json":  {body: func(string) string { return "<html>not json</html>" }},
		"/dupkey.json": {body: func(b string) string {
			return doc(b+"/dupkey.json", `,"redirect_uris":["http://evil.example/cb"]`)
		}},
		"/casekey.json": {body: func(b string) string { return doc(b+"/casekey.json", `,"Scope":"mcp:admin"`) }},
		"/secret.json":  {body: func(b string) string { return doc(b+"/secret.json", `,"client_secret":"s"`) }},
		"/basic.json": {body: func(b string) string {
			return doc(b+"/basic.json", `,"token_endpoint_auth_method":"client_secret_basic"`)
		}},
		"/badredir.json": {body: func(b string) string {
			return `{"client_id":"` + b + `/badredir.json","redirect_uris":["http://evil.example/cb"]}`
		}},
		"/bidi.json": {body: func(b string) string {
			return `{"client_id":"` + b + `/bidi.json","client_name":"Quickstart App\u202e","redirect_uris":["http://127.0.0.1/callback"]}`
		}},
		"/html.json":    {body: func(b string) string { return doc(b+"/html.json", "") }, ct: "text/html"},
		"/missing.json": {status: http.StatusNotFound},
	}
	for p := range routes {
		d.fetches[p] = &atomic.Int64{}
	}
	d.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, ok := routes[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		d.fetches[r.URL.Path].Add(1)
		if rt.slow {
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second): // past the 10 s fetch timeout
			}
		}
		switch rt.status {
		case http.StatusFound:
			http.Redirect(w, r, "/good.json", http.StatusFound)
			return
		case http.StatusNotFound:
			http.NotFound(w, r)
			return
		}
		ct := rt.ct
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		if rt.cache != "" {
			w.Header().Set("Cache-Control", rt.cache)
		}
		_, _ = fmt.Fprint(w, rt.body(d.srv.URL))
	}))
	t.Cleanup(d.srv.Close)
	return d
}

func (d *docHost) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(d.srv.Certificate())
	return p
}

// withDocuments turns client ID metadata documents on, trusting the doc
// host's certificate and (allowLoopback) its loopback address. The fetch
// timeout is generous (a loaded CI machine can take over 500 ms for a
// loopback TLS fetch), so the "slow" case waits out the whole 10 s.
func withDocuments(d *docHost, allowLoopback bool, mut func(*authserver.ClientMetadataDocuments)) func(*authserver.Config) {
	return func(c *authserver.Config) {
		m := &authserver.ClientMetadataDocuments{RootCAs: d.pool(), Timeout: 10 * time.Second,
			FetchLimitPerSource: authserver.Limit{PerSecond: 100, Burst: 1000}} // every test request comes from 127.0.0.1
		if allowLoopback {
			m.AllowNetworks = []string{"127.0.0.1/32"}
		}
		if mut != nil {
			mut(m)
		}
		c.ClientMetadataDocuments = m
	}
}

// authorizePage runs /authorize for client id (not following redirects
// to the IdP) and returns the status and the page.
func (e *brokerEnv) authorizePage(t *testing.T, id string) (int, string) {
	t.Helper()
	_, ch := pkcePair()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, body := get(t, c, e.srv.URL+"/authorize?"+e.authzParams(id, "http://127.0.0.1:40000/callback", ch).Encode())
	return resp.StatusCode, body
}

// TestMetadataDocumentEndToEnd: a client identified by its document URL
// logs a user in through the broker and redeems its code; the metadata
// advertises the feature only when it is on.
func TestMetadataDocumentEndToEnd(t *testing.T) {
	d := newDocHost(t)
	if _, ok := metadataOf(t, newBrokerEnv(t, nil))["client_id_metadata_document_supported"]; ok {
		t.Fatal("advertised while off")
	}
	e := newBrokerEnv(t, withDocuments(d, true, nil))
	if metadataOf(t, e)["client_id_metadata_document_supported"] != true {
		t.Fatal("client_id_metadata_document_supported not advertised")
	}
	id := d.url("/good.json")
	c := e.browser()
	ver, ch := pkcePair()
	redirect := "http://127.0.0.1:40001/callback"
	resp, page := get(t, c, e.srv.URL+"/authorize?"+e.authzParams(id, redirect, ch).Encode())
	if resp.StatusCode != 200 || !strings.Contains(page, "Doc Agent") || !strings.Contains(page, id) || !strings.Contains(page, "metadata document") {
		t.Fatalf("consent page %d: %s", resp.StatusCode, page)
	}
	resp = e.consent(t, c, page, "allow")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	form := codeForm(loc.Query().Get("code"), redirect, ver)
	form.Set("client_id", id)
	status, tok, _ := e.token(t, form, false)
	if status != 200 || tok["refresh_token"] == nil {
		t.Fatalf("token: %d %v", status, tok)
	}
	if n := d.count("/good.json"); n != 1 {
		t.Fatalf("fetched %d times, want 1 (cached, max-age=60)", n)
	}
}

// TestMetadataDocumentRefusals: every refused document (or URL) is a 400
// page naming the reason, never a redirect to a redirect URI.
func TestMetadataDocumentRefusals(t *testing.T) {
	d := newDocHost(t)
	e := newBrokerEnv(t, withDocuments(d, true, nil))
	strict := newBrokerEnv(t, withDocuments(d, false, nil)) // loopback not allowed
	port := d.srv.URL[strings.LastIndex(d.srv.URL, ":")+1:]
	for _, tc := range []struct {
		name string
		env  *brokerEnv
		id   string
		want string
	}{
		{"too big", e, d.url("/big.json"), "larger than 5120 bytes"},
		{"slow", e, d.url("/slow.json"), "timed out"}, // takes the whole 10 s timeout
		{"wrong client_id", e, d.url("/wrongid.json"), "client_id is not its URL"},
		{"redirect", e, d.url("/redirect.json"), "redirects are not followed"},
		{"garbage", e, d.url("/garbage.json"), "not a strict JSON object"},
		{"duplicate key", e, d.url("/dupkey.json"), "not a strict JSON object"},
		{"case variant key", e, d.url("/casekey.json"), "wrong case"},
		{"client_secret", e, d.url("/secret.json"), "client_secret"},
		{"confidential method", e, d.url("/basic.json"), "auth_method none"},
		{"bad redirect in document", e, d.url("/badredir.json"), "redirect URI"},
		{"content type", e, d.url("/html.json"), "Content-Type"},
		{"bidi override in client_name", e, d.url("/bidi.json"), "client_name"},
		{"404", e, d.url("/missing.json"), "status 404"},
		{"private address", strict, d.url("/good.json"), "is not public"},
		{"name resolving to loopback", strict, "https://localhost:" + port + "/good.json", "is not public"},
		{"http", e, strings.Replace(d.url("/good.json"), "https:", "http:", 1), "unknown client"},
		{"query", e, d.url("/good.json") + "?a=b", "no user info, query or fragment"},
		{"no path", e, d.url("/"), "path without dot segments"},
		{"dot segment", e, d.url("/x/../good.json"), "path without dot segments"},
		{"redirect uri not in document", e, d.url("/good.json"), "redirect_uri is not registered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var status int
			var page string
			if tc.name == "redirect uri not in document" {
				_, ch := pkcePair()
				c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
				resp, body := get(t, c, tc.env.srv.URL+"/authorize?"+tc.env.authzParams(tc.id, "http://evil.example/callback", ch).Encode())
				status, page = resp.StatusCode, body
			} else {
				status, page = tc.env.authorizePage(t, tc.id)
			}
			if status != http.StatusBadRequest || !strings.Contains(page, tc.want) {
				t.Fatalf("got %d, want 400 with %q: %s", status, tc.want, page)
			}
			// Checked here, not after the loop, so that each case also
			// passes when run alone (-run TestMetadataDocumentRefusals/slow).
			if n := d.count("/redirect.json"); tc.name == "redirect" && n != 1 {
				t.Errorf("redirect fetched %d times", n)
			}
		})
	}
}

// TestMetadataDocumentCaching: max-age is honoured and expires; no-store
// is fetched every time; a document without Cache-Control gets the
// default TTL; a failure is remembered for 30 s.
func TestMetadataDocumentCaching(t *testing.T) {
	d := newDocHost(t)
	e := newBrokerEnv(t, withDocuments(d, true, func(m *authserver.ClientMetadataDocuments) { m.DefaultTTL = 10 * time.Second }))
	consent := func(p string) {
		t.Helper()
		if status, page := e.authorizePage(t, d.url(p)); status != http.StatusFound {
			t.Fatalf("%s: %d %s", p, status, page)
		}
	}
	consent("/good.json")
	consent("/good.json")
	consent("/nostore.json")
	consent("/nostore.json")
	consent("/default.json")
	for p, want := range map[string]int64{"/good.json": 1, "/nostore.json": 2, "/default.json": 1} {
		if n := d.count(p); n != want {
			t.Errorf("%s fetched %d times, want %d", p, n, want)
		}
	}
	_, _ = e.authorizePage(t, d.url("/missing.json"))
	_, _ = e.authorizePage(t, d.url("/missing.json"))
	if n := d.count("/missing.json"); n != 1 {
		t.Errorf("failure fetched %d times within 30 s", n)
	}
	e.clock.Add(11 * time.Second) // default TTL over, max-age=60 not
	consent("/good.json")
	consent("/default.json")
	if d.count("/good.json") != 1 || d.count("/default.json") != 2 {
		t.Errorf("after 11 s: good %d default %d", d.count("/good.json"), d.count("/default.json"))
	}
	e.clock.Add(50 * time.Second)
	consent("/good.json")
	_, _ = e.authorizePage(t, d.url("/missing.json"))
	if d.count("/good.json") != 2 || d.count("/missing.json") != 2 {
		t.Errorf("after 61 s: good %d missing %d", d.count("/good.json"), d.count("/missing.json"))
	}
}

// TestMetadataDocumentCacheBounded: the cache holds at most CacheBytes;
// least recently used documents are fetched again.
func TestMetadataDocumentCacheBounded(t *testing.T) {
	d := newDocHost(t)
	e := newBrokerEnv(t, withDocuments(d, true, func(m *authserver.ClientMetadataDocuments) { m.CacheBytes = 1800 }))
	for _, p := range []string{"/good.json", "/default.json", "/good.json"} {
		if status, _ := e.authorizePage(t, d.url(p)); status != http.StatusFound {
			t.Fatalf("%s: %d", p, status)
		}
	}
	if d.count("/good.json") != 2 {
		t.Fatalf("a cache of 1800 bytes kept two documents: good fetched %d times", d.count("/good.json"))
	}
}

func TestMetadataDocumentConfigRules(t *testing.T) {
	for _, tc := range []struct {
		name string
		mut  func(*authserver.Config)
	}{
		{"no broker", func(c *authserver.Config) { c.Broker = nil; c.Clients = nil }},
		{"bad network", func(c *authserver.Config) { c.ClientMetadataDocuments.AllowNetworks = []string{"10.0.0.0"} }},
		{"huge document", func(c *authserver.Config) { c.ClientMetadataDocuments.MaxBytes = 1 << 20 }},
		{"long timeout", func(c *authserver.Config) { c.ClientMetadataDocuments.Timeout = time.Minute }},
		{"bad host", func(c *authserver.Config) { c.ClientMetadataDocuments.AllowHosts = []string{"*"} }},
		{"unknown scope", func(c *authserver.Config) { c.ClientMetadataDocuments.Scopes = []string{"root"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := authserver.Config{
				Issuer:         "https://as.example.com",
				Resources:      []authserver.Resource{{ID: e2eMCP, Scopes: []string{"mcp:tools"}}},
				DevGenerateKey: true,
				Clients:        []authserver.Client{{ID: "x", AuthMethods: []string{"none"}, GrantTypes: []string{"authorization_code"}, RedirectURIs: []string{brRedirect}}},
				Broker: &authserver.Broker{Upstream: authserver.Upstream{Issuer: "https://login.example.com", ClientID: "as"},
					Access: []authserver.AccessRule{{Group: "g", Resource: e2eMCP}}},
				ClientMetadataDocuments: &authserver.ClientMetadataDocuments{},
			}
			if _, err := authserver.New(cfg); err != nil {
				t.Fatalf("base config: %v", err)
			}
			tc.mut(&cfg)
			if _, err := authserver.New(cfg); err == nil || !strings.Contains(err.Error(), "client_metadata_documents") {
				t.Fatalf("accepted or refused for another reason: %v", err)
			}
		})
	}
}

// TestMetadataDocumentFetchBudget: cache misses are limited server-wide; a
// refusal for the budget is not remembered, and cached documents still
// work.
func TestMetadataDocumentFetchBudget(t *testing.T) {
	d := newDocHost(t)
	e := newBrokerEnv(t, withDocuments(d, true, func(m *authserver.ClientMetadataDocuments) {
		m.FetchLimit = authserver.Limit{PerSecond: 0.001, Burst: 2}
	}))
	if status, _ := e.authorizePage(t, d.url("/good.json")); status != http.StatusFound {
		t.Fatal("first document")
	}
	_, _ = e.authorizePage(t, d.url("/missing.json"))
	status, page := e.authorizePage(t, d.url("/default.json"))
	if status != http.StatusBadRequest || !strings.Contains(page, "too many document fetches") || d.count("/default.json") != 0 {
		t.Fatalf("over budget: %d fetched %d: %s", status, d.count("/default.json"), page)
	}
	if status, _ := e.authorizePage(t, d.url("/good.json")); status != http.StatusFound {
		t.Fatal("cached document refused over budget")
	}
}

// TestMetadataDocumentFetchBudgetPerSource: one source naming uncached
// document URLs (its own random paths) spends its own budget, not the
// server-wide one, so a legitimate client seen first from another address
// is still fetched.
func TestMetadataDocumentFetchBudgetPerSource(t *testing.T) {
	d := newDocHost(t)
	e := newBrokerEnv(t, func(c *authserver.Config) {
		withDocuments(d, true, func(m *authserver.ClientMetadataDocuments) {
			m.FetchLimit = authserver.Limit{PerSecond: 0.001, Burst: 30}
			m.FetchLimitPerSource = authserver.Limit{} // the default: a burst of 10
		})(c)
		c.ClientAddress = func(r *http.Request) string { return r.Header.Get("X-Test-Source") }
	})
	page := func(src, id string) (int, string) {
		_, ch := pkcePair()
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/authorize?"+e.authzParams(id, "http://127.0.0.1:40000/callback", ch).Encode(), nil)
		req.Header.Set("X-Test-Source", src)
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	refused := 0
	for i := range 30 {
		if _, p := page("198.51.100.7", d.url(fmt.Sprintf("/attacker-%d.json", i))); strings.Contains(p, "too many document fetches") {
			refused++
		}
	}
	if refused != 20 {
		t.Fatalf("one source: %d of 30 fetches refused, want 20 (per-source burst 10)", refused)
	}
	if status, p := page("203.0.113.9", d.url("/good.json")); status != http.StatusFound {
		t.Fatalf("legitimate client locked out by another source: %d %s", status, p)
	}
}
