package introspect

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

const activeBody = `{"active":true,"iss":"https://as.example.com","aud":"https://mcp.example.com/mcp",
	"sub":"U019488227","client_id":"f53f191f9311af35","scope":"mcp:tools mcp:resources:read",
	"exp":1767229200,"iat":1767225600,"nbf":1767225600,"jti":"b1e0","username":"alice","token_type":"Bearer",
	"groups":["eng",1]}`

func TestVerifyActive(t *testing.T) {
	t.Parallel()
	as := newFakeAS()
	as.set("tok-1", answer{body: activeBody})
	clk := newClock()
	v, err := New(baseConfig(as.server(t).URL, clk))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), "tok-1")
	if err != nil {
		t.Fatal(err)
	}
	if c.Issuer != testIss || c.Subject != "U019488227" || c.ClientID != "f53f191f9311af35" || c.ID != "b1e0" {
		t.Errorf("claims = %+v", c)
	}
	if len(c.Audience) != 1 || c.Audience[0] != testAud {
		t.Errorf("Audience = %q", c.Audience)
	}
	if strings.Join(c.Scopes, ",") != "mcp:tools,mcp:resources:read" {
		t.Errorf("Scopes = %q", c.Scopes)
	}
	if !c.Expiry.Equal(time.Unix(1767229200, 0)) || !c.IssuedAt.Equal(time.Unix(1767225600, 0)) || !c.NotBefore.Equal(time.Unix(1767225600, 0)) {
		t.Errorf("times = %v %v %v", c.Expiry, c.IssuedAt, c.NotBefore)
	}
	if u, _ := c.String("username"); u != "alice" {
		t.Errorf("Raw username = %v", u)
	}
	if g := c.Strings("groups", false); len(g) != 1 || g[0] != "eng" {
		t.Errorf("Raw groups = %v", g)
	}

	// Wire format: client_secret_basic with form-urlencoded id and secret.
	as.mu.Lock()
	req, form := as.last, as.form
	as.mu.Unlock()
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("rs%3A1:s3cr+et%26%3D"))
	if got := req.Header.Get("Authorization"); got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
	if form.Get("token") != "tok-1" || form.Get("token_type_hint") != "access_token" || form.Has("client_secret") {
		t.Errorf("form = %v", form)
	}
	if req.Header.Get("Accept") != "application/json" {
		t.Errorf("Accept = %q", req.Header.Get("Accept"))
	}

	// Second call: cache hit, no upstream request; the claims are a copy.
	c.Scopes[0] = "mutated"
	c2, err := v.Verify(context.Background(), "tok-1")
	if err != nil {
		t.Fatal(err)
	}
	if n := as.calls.Load(); n != 1 {
		t.Errorf("upstream calls = %d, want 1", n)
	}
	if c2.Scopes[0] != "mcp:tools" {
		t.Errorf("cache shared the Scopes slice: %q", c2.Scopes)
	}
}

func TestAuthStyles(t *testing.T) {
	t.Parallel()
	as := newFakeAS()
	as.set("tok", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp"}`})
	srv := as.server(t)
	for _, style := range []AuthStyle{AuthStylePost, AuthStyleNone} {
		cfg := baseConfig(srv.URL, newClock())
		cfg.AuthStyle = style
		cfg.PositiveTTL = -1
		v, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(context.Background(), "tok"); err != nil {
			t.Fatal(err)
		}
		as.mu.Lock()
		req, form := as.last, as.form
		as.mu.Unlock()
		if req.Header.Get("Authorization") != "" {
			t.Errorf("style %d sent Authorization", style)
		}
		wantID := map[AuthStyle]string{AuthStylePost: "rs:1", AuthStyleNone: ""}[style]
		if form.Get("client_id") != wantID || (style == AuthStylePost) != form.Has("client_secret") {
			t.Errorf("style %d form = %v", style, form)
		}
	}
}

func TestResponses(t *testing.T) {
	t.Parallel()
	as := newFakeAS()
	srv := as.server(t)
	big := `{"active":true,"aud":"https://mcp.example.com/mcp","pad":"` + strings.Repeat("x", DefaultMaxResponseBytes) + `"}`
	cases := []struct {
		name    string
		a       answer
		allow   bool // AllowMissingAudience
		want    error
		wantAud []string
	}{
		{"inactive", answer{body: `{"active":false}`}, false, core.ErrInactiveToken, nil},
		{"inactive with extras", answer{body: `{"active":false,"aud":"https://mcp.example.com/mcp"}`}, false, core.ErrInactiveToken, nil},
		{"active missing", answer{body: `{"aud":"https://mcp.example.com/mcp"}`}, false, core.ErrUnavailable, nil},
		{"active string", answer{body: `{"active":"true","aud":"https://mcp.example.com/mcp"}`}, false, core.ErrUnavailable, nil},
		{"active 1", answer{body: `{"active":1}`}, false, core.ErrUnavailable, nil},
		{"active null", answer{body: `{"active":null}`}, false, core.ErrUnavailable, nil},
		{"duplicate active", answer{body: `{"active":false,"active":true,"aud":"https://mcp.example.com/mcp"}`}, false, core.ErrUnavailable, nil},
		{"case variant key", answer{body: `{"active":true,"Active":false,"aud":"https://mcp.example.com/mcp"}`}, false, core.ErrUnavailable, nil},
		{"trailing data", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp"} {}`}, false, core.ErrUnavailable, nil},
		{"array body", answer{body: `[{"active":true}]`}, false, core.ErrUnavailable, nil},
		{"sub not a string", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","sub":7}`}, false, core.ErrUnavailable, nil},
		{"huge body", answer{body: big}, false, core.ErrUnavailable, nil},
		{"500", answer{status: 500, body: `{"active":true}`}, false, core.ErrUnavailable, nil},
		{"401 bad client creds", answer{status: 401, body: `{"error":"invalid_client"}`}, false, core.ErrUnavailable, nil},
		{"redirect not followed", answer{status: 302, body: ``}, false, core.ErrUnavailable, nil},
		{"html", answer{ctype: "text/html", body: `{"active":true}`}, false, core.ErrUnavailable, nil},
		{"json with charset", answer{ctype: "application/json; charset=utf-8", body: `{"active":true,"aud":"https://mcp.example.com/mcp"}`}, false, nil, []string{testAud}},
		{"refresh token_type", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","token_type":"refresh_token"}`}, false, core.ErrTokenType, nil},
		// Duende IdentityServer (7.1 on) names the kind of token.
		{"duende access token_type", answer{body: `{"iss":"https://as.example.com","nbf":1767225000,"iat":1767225000,"exp":1767228600,"aud":"https://mcp.example.com/mcp","client_id":"client","sub":"alice","jti":"44FD2DE9E9F8E9F4DDD141CD7C244BE9","scope":"mcp","token_type":"access_token","active":true}`}, false, nil, []string{testAud}},
		{"duende refresh token_type", answer{body: `{"iss":"https://as.example.com","aud":"https://mcp.example.com/mcp","client_id":"client","sub":"alice","scope":"mcp offline_access","token_type":"refresh_token","active":true}`}, false, core.ErrTokenType, nil},
		{"id_token token_type", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","token_type":"id_token"}`}, false, core.ErrTokenType, nil},
		{"bearer lower case", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","token_type":"bearer"}`}, false, nil, []string{testAud}},
		{"keycloak refresh typ", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","typ":"Refresh"}`}, false, core.ErrTokenType, nil},
		{"keycloak offline typ", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","typ":"Offline"}`}, false, core.ErrTokenType, nil},
		{"keycloak bearer typ", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","typ":"Bearer"}`}, false, nil, []string{testAud}},
		{"hydra refresh token_use", answer{body: `{"active":true,"aud":["https://mcp.example.com/mcp"],"token_type":"Bearer","token_use":"refresh_token"}`}, false, core.ErrTokenType, nil},
		{"hydra access token_use", answer{body: `{"active":true,"aud":["https://mcp.example.com/mcp"],"token_type":"Bearer","token_use":"access_token"}`}, false, nil, []string{testAud}},
		{"id token_use", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","token_use":"id"}`}, false, core.ErrTokenType, nil},
		{"token_use not a string", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","token_use":1}`}, false, core.ErrTokenType, nil},
		{"cnf", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","cnf":{"jkt":"x"}}`}, false, core.ErrTokenType, nil},
		// RFC 7662 makes "sub" optional; a response that names a resource
		// owner ("username") without it is a user's token, which the
		// mappers would take for its client's (no subject, a client_id).
		{"username without sub", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","client_id":"app","username":"joe"}`}, false, core.ErrInvalidClaims, nil},
		{"username with empty sub", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","client_id":"app","sub":"","username":"joe"}`}, false, core.ErrInvalidClaims, nil},
		{"client token without sub or username", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","client_id":"app"}`}, false, nil, []string{testAud}},
		{"wrong iss", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","iss":"https://as.example.com/"}`}, false, core.ErrIssuer, nil},
		{"iss absent uses config", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp"}`}, false, nil, []string{testAud}},
		{"aud missing", answer{body: `{"active":true}`}, false, core.ErrAudience, nil},
		{"aud missing allowed", answer{body: `{"active":true}`}, true, nil, nil},
		{"aud wrong", answer{body: `{"active":true,"aud":"https://other.example.com/mcp"}`}, false, core.ErrAudience, nil},
		{"aud trailing slash", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp/"}`}, false, core.ErrAudience, nil},
		{"aud empty list", answer{body: `{"active":true,"aud":[]}`}, true, core.ErrAudience, nil},
		{"aud empty string", answer{body: `{"active":true,"aud":[""]}`}, false, core.ErrAudience, nil},
		{"aud number", answer{body: `{"active":true,"aud":123}`}, false, core.ErrAudience, nil},
		{"aud null", answer{body: `{"active":true,"aud":null}`}, true, core.ErrAudience, nil},
		{"aud mixed list", answer{body: `{"active":true,"aud":["https://mcp.example.com/mcp",1]}`}, false, core.ErrAudience, nil},
		{"aud list with ours", answer{body: `{"active":true,"aud":["x","https://mcp.example.com/mcp"]}`}, false, nil, []string{"x", testAud}},
		{"expired", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","exp":1767225000}`}, false, core.ErrExpired, nil},
		{"exp at leeway edge", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","exp":1767225570}`}, false, core.ErrExpired, nil},
		{"exp within leeway", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","exp":1767225571}`}, false, nil, []string{testAud}},
		{"exp float", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","exp":1767229200.5}`}, false, nil, []string{testAud}},
		{"exp string", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","exp":"1767229200"}`}, false, core.ErrInvalidClaims, nil},
		{"exp huge", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","exp":1e300}`}, false, core.ErrInvalidClaims, nil},
		{"exp negative", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","exp":-1}`}, false, core.ErrInvalidClaims, nil},
		{"nbf future", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","nbf":1767225631}`}, false, core.ErrNotYetValid, nil},
		{"nbf at leeway edge", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","nbf":1767225630}`}, false, nil, []string{testAud}},
		{"iat future", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","iat":1767225631}`}, false, core.ErrIssuedInFuture, nil},
	}
	for _, tc := range cases {
		tok := "tok-" + strings.ReplaceAll(tc.name, " ", "_")
		as.set(tok, tc.a)
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := baseConfig(srv.URL, newClock())
			cfg.AllowMissingAudience = tc.allow
			v, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			c, err := v.Verify(context.Background(), tok)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if strings.Join(c.Audience, " ") != strings.Join(tc.wantAud, " ") {
					t.Fatalf("Audience = %q, want %q", c.Audience, tc.wantAud)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			// Exactly one class: a token error is never also "unavailable".
			if tc.want != core.ErrUnavailable && errors.Is(err, core.ErrUnavailable) {
				t.Fatalf("err = %v also wraps ErrUnavailable", err)
			}
		})
	}
}

// TestRevocationAndNegativeCache shows how revocation at the AS takes
// effect: an active answer is reused for PositiveTTL, then the inactive
// answer is reused for NegativeTTL.
func TestRevocationAndNegativeCache(t *testing.T) {
	t.Parallel()
	as := newFakeAS()
	as.set("tok", answer{body: activeBody})
	clk := newClock()
	cfg := baseConfig(as.server(t).URL, clk)
	cfg.PositiveTTL = 20 * time.Second
	cfg.NegativeTTL = 5 * time.Second
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	steps := []struct {
		advance time.Duration
		set     string // new answer body, "" = unchanged
		want    error
		calls   int64
	}{
		{0, "", nil, 1},
		{0, `{"active":false}`, nil, 1},                 // revoked at the AS, still cached
		{19 * time.Second, "", nil, 1},                  // within PositiveTTL
		{time.Second, "", core.ErrInactiveToken, 2},     // PositiveTTL over: introspected again
		{0, activeBody, core.ErrInactiveToken, 2},       // negative cache holds
		{4 * time.Second, "", core.ErrInactiveToken, 2}, // still within NegativeTTL
		{time.Second, "", nil, 3},                       // NegativeTTL over
	}
	for i, s := range steps {
		clk.Add(s.advance)
		if s.set != "" {
			as.set("tok", answer{body: s.set})
		}
		_, err := v.Verify(ctx, "tok")
		if !errors.Is(err, s.want) || (s.want == nil && err != nil) {
			t.Fatalf("step %d: err = %v, want %v", i, err, s.want)
		}
		if n := as.calls.Load(); n != s.calls {
			t.Fatalf("step %d: upstream calls = %d, want %d", i, n, s.calls)
		}
	}
}

func TestPositiveTTLCappedByExp(t *testing.T) {
	t.Parallel()
	as := newFakeAS()
	clk := newClock()
	// exp 10s from now; PositiveTTL 30s.
	as.set("tok", answer{body: `{"active":true,"aud":"https://mcp.example.com/mcp","exp":1767225610}`})
	v, err := New(baseConfig(as.server(t).URL, clk))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := v.Verify(ctx, "tok"); err != nil {
		t.Fatal(err)
	}
	clk.Add(9 * time.Second)
	if _, err := v.Verify(ctx, "tok"); err != nil || as.calls.Load() != 1 {
		t.Fatalf("before exp: err=%v calls=%d", err, as.calls.Load())
	}
	clk.Add(time.Second) // now == exp: the entry is gone, the AS is asked again
	as.set("tok", answer{body: `{"active":false}`})
	if _, err := v.Verify(ctx, "tok"); !errors.Is(err, core.ErrInactiveToken) || as.calls.Load() != 2 {
		t.Fatalf("at exp: err=%v calls=%d", err, as.calls.Load())
	}
}

func TestUnavailableIsNotCached(t *testing.T) {
	t.Parallel()
	as := newFakeAS()
	as.set("tok", answer{status: http.StatusInternalServerError, body: "oops"})
	clk := newClock()
	v, err := New(baseConfig(as.server(t).URL, clk))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := v.Verify(context.Background(), "tok"); !errors.Is(err, core.ErrUnavailable) {
			t.Fatalf("err = %v", err)
		}
		clk.Add(DefaultBackoffMax) // past the backoff step
	}
	if n := as.calls.Load(); n != 3 {
		t.Fatalf("upstream calls = %d, want 3 (5xx must not be cached)", n)
	}
	as.set("tok", answer{body: activeBody})
	if _, err := v.Verify(context.Background(), "tok"); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestUnreachableAndTimeout(t *testing.T) {
	t.Parallel()
	as := newFakeAS()
	srv := as.server(t)
	url := srv.URL
	srv.Close()
	v, err := New(baseConfig(url, newClock()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), "tok"); !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("closed server: %v", err)
	}

	slow := newFakeAS()
	slow.gate = make(chan struct{})
	slowSrv := slow.server(t)
	t.Cleanup(func() { close(slow.gate) })
	cfg := baseConfig(slowSrv.URL, newClock())
	cfg.Timeout = 50 * time.Millisecond
	v, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), "tok"); !errors.Is(err, core.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout: %v", err)
	}
}

func TestMalformedTokens(t *testing.T) {
	t.Parallel()
	as := newFakeAS()
	v, err := New(baseConfig(as.server(t).URL, newClock()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{"", " tok", "tok tok", "a=b", "=", "tok\n", "ä", strings.Repeat("a", DefaultMaxTokenBytes+1)} {
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, core.ErrMalformedToken) {
			t.Errorf("%q: err = %v", tok, err)
		}
	}
	for _, tok := range []string{"abc", "a-b.c_d~e+f/g==", strings.Repeat("a", DefaultMaxTokenBytes)} {
		if _, err := v.Verify(context.Background(), tok); !errors.Is(err, core.ErrInactiveToken) {
			t.Errorf("%q: err = %v", tok, err)
		}
	}
	if n := as.calls.Load(); n != 3 {
		t.Errorf("upstream calls = %d, want 3 (malformed tokens must not be sent)", n)
	}
}

func TestCacheBound(t *testing.T) {
	t.Parallel()
	as := newFakeAS()
	cfg := baseConfig(as.server(t).URL, newClock())
	cfg.MaxEntries = 5
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		tok := "tok" + string(rune('a'+i))
		as.set(tok, answer{body: activeBody})
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if n := v.cacheLen(); n > 5 {
			t.Fatalf("cache holds %d entries, bound is 5", n)
		}
	}
	// The five most recent tokens are hits; the oldest is a miss.
	before := as.calls.Load()
	for i := 15; i < 20; i++ {
		if _, err := v.Verify(ctx, "tok"+string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	if n := as.calls.Load(); n != before {
		t.Fatalf("recent tokens caused %d upstream calls", n-before)
	}
	if _, err := v.Verify(ctx, "toka"); err != nil {
		t.Fatal(err)
	}
	if n := as.calls.Load(); n != before+1 {
		t.Fatalf("evicted token did not cause an upstream call")
	}
}

func TestNewErrors(t *testing.T) {
	t.Parallel()
	ok := baseConfig("https://as.example.com/introspect", newClock())
	mod := func(f func(*Config)) Config { c := ok; f(&c); return c }
	bad := map[string]Config{
		"no endpoint":      mod(func(c *Config) { c.Endpoint = "" }),
		"relative":         mod(func(c *Config) { c.Endpoint = "/introspect" }),
		"http remote":      mod(func(c *Config) { c.Endpoint = "http://as.example.com/introspect" }),
		"userinfo":         mod(func(c *Config) { c.Endpoint = "https://u:p@as.example.com/introspect" }),
		"fragment":         mod(func(c *Config) { c.Endpoint = "https://as.example.com/introspect#x" }),
		"ftp":              mod(func(c *Config) { c.Endpoint = "ftp://as.example.com/introspect" }),
		"no client id":     mod(func(c *Config) { c.ClientID = "" }),
		"no issuer":        mod(func(c *Config) { c.Issuer = "" }),
		"no audience":      mod(func(c *Config) { c.Audience = nil }),
		"empty audience":   mod(func(c *Config) { c.Audience = []string{testAud, ""} }),
		"leeway too large": mod(func(c *Config) { c.Leeway = 2 * time.Minute }),
		"bad auth style":   mod(func(c *Config) { c.AuthStyle = 9 }),
	}
	for name, cfg := range bad {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
	good := map[string]Config{
		"https":          ok,
		"http loopback4": mod(func(c *Config) { c.Endpoint = "http://127.0.0.1:8080/i" }),
		"http loopback6": mod(func(c *Config) { c.Endpoint = "http://[::1]:8080/i" }),
		"http localhost": mod(func(c *Config) { c.Endpoint = "http://localhost/i" }),
		"no auth":        mod(func(c *Config) { c.ClientID = ""; c.AuthStyle = AuthStyleNone }),
	}
	for name, cfg := range good {
		if _, err := New(cfg); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestCallerClientNeverFollowsRedirects: a redirect from the introspection
// endpoint is refused (ErrUnavailable) also with a caller's HTTPClient
// (mTLS, a proxy), whose default policy follows it: a 307 or 308 would
// re-send the form, the token and (client_secret_post) the secret, to
// whatever the Location names.
func TestCallerClientNeverFollowsRedirects(t *testing.T) {
	t.Parallel()
	var leaked atomic.Int64
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"active":true,"aud":"https://mcp.example.com/mcp"}`)
	}))
	t.Cleanup(elsewhere.Close)
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			as := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, elsewhere.URL+"/introspect", status)
			}))
			t.Cleanup(as.Close)
			cfg := baseConfig(as.URL, newClock())
			cfg.AuthStyle = AuthStylePost
			cfg.HTTPClient = &http.Client{}
			v, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Verify(context.Background(), "tok-redirected"); !errors.Is(err, core.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
		})
	}
	t.Cleanup(func() {
		if n := leaked.Load(); n != 0 {
			t.Errorf("the redirect target received %d introspection requests", n)
		}
	})
}
