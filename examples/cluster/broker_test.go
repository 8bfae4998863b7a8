package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauthz/mcpauthz/stores/redis/redistest"
)

// browser is a scripted browser: a cookie jar, no automatic redirects, and
// the replica (X-Cluster-Replica) of each answer of the AS proxy.
type browser struct {
	t        *testing.T
	hc       *http.Client
	replicas map[string]string // step → replica
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, replicas: map[string]string{}, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends one request and returns the status, the Location and the body.
func (b *browser) do(step, method, target string, form url.Values) (int, string, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s: %v", step, err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if r := resp.Header.Get("X-Cluster-Replica"); r != "" {
		b.replicas[step] = r
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(page)
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]+)"`)
	hiddenCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// TestClusterBrokerLogin: a user logs in through the broker of the example
// (3 AS replicas, every store in a real Redis, the development IdP as
// upstream) and each step lands on another replica than the step before:
// the login started at one replica finishes at others, the code is redeemed
// and refreshed at others again, and the token works on the MCP replicas.
// A second login skips the consent page at another replica (the consent is
// in Redis). With Redis stopped in the middle of a third login, the IdP's
// redirect back answers 503 and no code is issued.
func TestClusterBrokerLogin(t *testing.T) {
	srv := redistest.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan [2]string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-redis", srv.URL(), "-as-addr", "127.0.0.1:0", "-mcp-addr", "127.0.0.1:0", "-idp-addr", "127.0.0.1:0"},
			func(k string) string { return map[string]string{"DEMO_CLIENT_SECRET": "test-secret-0123456789"}[k] }, io.Discard,
			func(a, m string) { urls <- [2]string{a, m} })
	}()
	var asURL, mcpURL string
	select {
	case u := <-urls:
		asURL, mcpURL = u[0], u[1]
	case err := <-done:
		t.Fatal(err)
	case <-time.After(20 * time.Second):
		t.Fatal("not ready")
	}
	const redirect = "http://127.0.0.1:7777/callback"
	verifier := strings.Repeat("v", 43)
	// toCallback runs the browser from /authorize through the IdP's login
	// form and returns the IdP's redirect back to the AS (not followed).
	toCallback := func(b *browser) string {
		t.Helper()
		q := url.Values{"response_type": {"code"}, "client_id": {"demo-native"}, "redirect_uri": {redirect},
			"code_challenge": {s256(verifier)}, "code_challenge_method": {"S256"}, "resource": {mcpURL},
			"scope": {"mcp:tools"}, "state": {"st-1"}}
		st, loc, _ := b.do("authorize", "GET", asURL+"/authorize?"+q.Encode(), nil)
		if st != http.StatusFound || !strings.Contains(loc, "/authorize?") {
			t.Fatalf("authorize: %d %q", st, loc)
		}
		st, _, page := b.do("idp login page", "GET", loc, nil)
		m := formAction.FindStringSubmatch(page)
		if st != 200 || m == nil {
			t.Fatalf("IdP login page: %d %.300s", st, page)
		}
		form := url.Values{}
		for _, in := range regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)"`).FindAllStringSubmatch(page, -1) {
			form.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
		}
		form.Set("username", "alice")
		form.Set("password", devPassword)
		st, loc, _ = b.do("idp login", "POST", html.UnescapeString(m[1]), form)
		if st != http.StatusFound || !strings.HasPrefix(loc, asURL+"/callback?") {
			t.Fatalf("IdP login: %d", st)
		}
		return loc
	}
	// login runs the browser to the consent page and returns the consent
	// form's action and fields.
	login := func(b *browser) (string, url.Values) {
		t.Helper()
		st, _, page := b.do("callback", "GET", toCallback(b), nil)
		m, c := formAction.FindStringSubmatch(page), hiddenCSRF.FindStringSubmatch(page)
		if st != 200 || m == nil || c == nil {
			t.Fatalf("consent page: %d %.300s", st, page)
		}
		action := html.UnescapeString(m[1])
		if strings.HasPrefix(action, "/") {
			action = asURL + action
		}
		return action, url.Values{"csrf": {html.UnescapeString(c[1])}, "decision": {"allow"}}
	}

	b := newBrowser(t)
	action, form := login(b)
	st, loc, _ := b.do("consent", "POST", action, form)
	cb, err := url.Parse(loc)
	if st != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc, redirect+"?") || cb.Query().Get("state") != "st-1" || cb.Query().Get("iss") != asURL {
		t.Fatalf("consent: %d, redirect to %s", st, cb.Redacted())
	}
	tokenReq := func(step string, form url.Values) map[string]any {
		t.Helper()
		st, _, body := b.do(step, "POST", asURL+"/token", form)
		var m map[string]any
		if st != 200 || json.Unmarshal([]byte(body), &m) != nil {
			t.Fatalf("%s: %d %s", step, st, body)
		}
		return m
	}
	tok := tokenReq("token", url.Values{"grant_type": {"authorization_code"}, "code": {cb.Query().Get("code")}, "redirect_uri": {redirect},
		"code_verifier": {verifier}, "client_id": {"demo-native"}, "resource": {mcpURL}})
	refreshed := tokenReq("refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}, "client_id": {"demo-native"}})
	steps := []string{"authorize", "callback", "consent", "token", "refresh"}
	for i := 1; i < len(steps); i++ {
		prev, cur := b.replicas[steps[i-1]], b.replicas[steps[i]]
		if prev == "" || cur == "" || prev == cur {
			t.Fatalf("%s at replica %q after %s at replica %q: want another replica (%v)", steps[i], cur, steps[i-1], prev, b.replicas)
		}
	}
	// The token is alice's, on every MCP replica.
	cl := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil)
	sess, err := cl.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: mcpURL,
		HTTPClient: &http.Client{Transport: bearer{refreshed["access_token"].(string)}, Timeout: 10 * time.Second}, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		res, err := sess.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}})
		if err != nil || res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "hi") {
			t.Fatalf("echo: %v %+v", err, res)
		}
	}
	_ = sess.Close()

	// Another login: the consent given at one replica is remembered at the
	// replica the callback lands on, which redirects with a code at once.
	// The Guards' key set fetches also go through the AS proxy, so the
	// landing replica is not predictable: log in until it differs.
	for i := 0; ; i++ {
		b2 := newBrowser(t)
		if st, loc, _ := b2.do("callback", "GET", toCallback(b2), nil); st != http.StatusSeeOther || !strings.HasPrefix(loc, redirect+"?code=") {
			t.Fatalf("second login's callback: %d, want the code without the consent page", st)
		}
		if b2.replicas["callback"] != b.replicas["consent"] {
			break
		}
		if i == 5 {
			t.Fatalf("6 callbacks landed on the replica of the consent (%v)", b.replicas)
		}
	}
	// Redis stops between the IdP's login and its redirect back of a third
	// login: the callback cannot be marked once, so a 503 page and no code.
	b3 := newBrowser(t)
	cbURL := toCallback(b3)
	srv.Stop()
	if st, loc, _ := b3.do("callback", "GET", cbURL, nil); st != http.StatusServiceUnavailable || loc != "" {
		t.Fatalf("callback with Redis down: %d, redirect %v", st, loc != "")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
