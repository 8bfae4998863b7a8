package browser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/mcpauthz/mcpauthz/interop/browser"
)

// TestLoginConsentCode is the whole flow in a real browser: a client
// registers itself (RFC 7591), the authorization server sends Chromium to
// the development IdP, alice logs in, allows the consent page, and the browser lands on the client's redirect URI with a
// code. The client redeems it (PKCE) and calls the MCP server. A second
// login skips the remembered consent.
func TestLoginConsentCode(t *testing.T) {
	tab, rec := openTab(t)
	c := newRegisteredClient(t)
	p, state := newPKCE(), randomState()
	out, err := browser.Login(tab, rec, authorizeURL(c, p, state), browser.LoginOptions{
		User: "alice", Password: demoPassword, RedirectURI: c.redirectURI(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !out.ConsentShown || out.CSRF == "" {
		t.Fatalf("consent page not shown: %s", describe(out))
	}
	// The consent page names the client (with a warning: it registered
	// itself), the resource, the scopes, the user and where the browser goes
	// next.
	for _, want := range []string{c.name + " (" + c.id + ")", "registered itself", "not verified", quickstart.MCP, "mcp:tools",
		"alice@example.com", c.redirectURI()} {
		if !strings.Contains(out.ConsentText, want) {
			t.Errorf("consent page lacks %q: %s", want, out.ConsentText)
		}
	}
	cb := out.Callback
	if cb == nil || cb.Get("code") == "" || cb.Get("state") != state || cb.Get("iss") != quickstart.AS || cb.Has("error") {
		t.Fatalf("client redirect: %s", describe(out))
	}

	// Security headers of the consent page, as the browser received them.
	doc, ok := rec.LastDocument(quickstart.AS + "/callback")
	if !ok {
		t.Fatalf("no consent page document among %d", len(rec.Documents()))
	}
	checkPageHeaders(t, doc, c.srv.URL)

	tok := redeem(t, c, cb.Get("code"), p.verifier)
	names, callErr := mcpSession(t, tok.AccessToken, "echo", "delete_repo")
	if want := []string{"deploy", "echo", "list_tickets"}; !slices.Equal(names, want) {
		t.Errorf("alice sees %v, want %v", names, want)
	}
	if callErr != "" {
		t.Error(callErr)
	}

	// Consent is remembered per user and client: a new login goes straight
	// back to the client.
	p2, state2 := newPKCE(), randomState()
	out2, err := browser.Login(tab, rec, authorizeURL(c, p2, state2), browser.LoginOptions{
		User: "alice", Password: demoPassword, RedirectURI: c.redirectURI(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out2.ConsentShown || out2.Callback.Get("code") == "" || out2.Callback.Get("state") != state2 {
		t.Fatalf("second login: consent shown %v, query %v", out2.ConsentShown, redact(out2.Callback))
	}
	tok2 := redeem(t, c, out2.Callback.Get("code"), p2.verifier)

	checkNoSecretInURLs(t, rec, map[string]string{
		"password": demoPassword, "code_verifier": p.verifier, "second code_verifier": p2.verifier,
		"broker client secret": brokerSecret, "agent secret": agentSecret, "CSRF token": out.CSRF,
		"access token": tok.AccessToken, "refresh token": tok.RefreshToken,
		"second access token": tok2.AccessToken, "second refresh token": tok2.RefreshToken,
	})
	if n := len(rec.URLs()); n < 8 {
		t.Errorf("the recorder saw only %d URLs: %v", n, rec.URLs())
	}
}

// TestConsentForgery: while carol's consent page is open, a page of another
// origin posts the consent form in her browser (her login cookie goes
// along) with a guessed CSRF token. The authorization server refuses it and
// issues no code, and the pending login survives: the same post with the
// real token (which only the consent page had) then completes it. So the
// CSRF token, not the cookie, is what stops the forgery (loopback ports are
// one site, so SameSite=Lax does not help here).
func TestConsentForgery(t *testing.T) {
	tab, rec := openTab(t)
	c := newRegisteredClient(t)
	u := authorizeURL(c, newPKCE(), randomState())
	opts := browser.LoginOptions{User: "carol", Password: demoPassword, RedirectURI: c.redirectURI(), StopAtConsent: true}
	out, err := browser.Login(tab, rec, u, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !out.ConsentShown || out.CSRF == "" {
		t.Fatalf("no consent page: %s", describe(out))
	}
	ctx, cancel := context.WithTimeout(tab, 15*time.Second)
	defer cancel()
	guess := strings.Repeat("A", len(out.CSRF))
	if err := chromedp.Do(ctx, chromedp.Navigate(c.srv.URL+"/forge?csrf="+guess)); err != nil {
		t.Fatal(err)
	}
	var title string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err == nil && loc == quickstart.AS+"/consent" {
			if title, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1"))); err == nil {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = rec.Screenshot(ctx, "forged-consent")
	doc, _ := rec.LastDocument(quickstart.AS + "/consent")
	if title != "Request refused" || doc.Status != http.StatusForbidden {
		t.Fatalf("forged consent: page %q, HTTP %d", title, doc.Status)
	}
	c.mu.Lock()
	called := len(c.got)
	c.mu.Unlock()
	if called != 0 {
		t.Fatal("the forged consent reached the client")
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(c.srv.URL+"/forge?csrf="+url.QueryEscape(out.CSRF))); err != nil {
		t.Fatal(err)
	}
	for time.Now().Before(deadline.Add(10 * time.Second)) {
		c.mu.Lock()
		called = len(c.got)
		c.mu.Unlock()
		if called > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.got) != 1 || c.got[0].Get("code") == "" {
		t.Fatalf("the pending login did not survive the forgery: %d callbacks", len(c.got))
	}
}

// TestConsentDenied: the user presses Deny; the client gets access_denied
// with its state and no code.
func TestConsentDenied(t *testing.T) {
	tab, rec := openTab(t)
	c := newRegisteredClient(t)
	p, state := newPKCE(), randomState()
	out, err := browser.Login(tab, rec, authorizeURL(c, p, state), browser.LoginOptions{
		User: "carol", Password: demoPassword, RedirectURI: c.redirectURI(), Decision: "deny",
	})
	if err != nil {
		t.Fatal(err)
	}
	cb := out.Callback
	if !out.ConsentShown || cb == nil || cb.Get("error") != "access_denied" || cb.Get("state") != state || cb.Has("code") || cb.Get("iss") != quickstart.AS {
		t.Fatalf("denied consent: %s", describe(out))
	}
	checkNoSecretInURLs(t, rec, map[string]string{"password": demoPassword, "code_verifier": p.verifier, "CSRF token": out.CSRF, "broker client secret": brokerSecret})
}

// TestAccessPolicyRefusesUser: erin's group has no access rule. The broker
// shows a clear error page and never redirects to the client.
func TestAccessPolicyRefusesUser(t *testing.T) {
	tab, rec := openTab(t)
	c := newClient(t)
	p := newPKCE()
	out, err := browser.Login(tab, rec, authorizeURL(c, p, randomState()), browser.LoginOptions{
		User: "erin", Password: demoPassword, RedirectURI: c.redirectURI(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.ConsentShown || out.Callback != nil || out.Status != http.StatusForbidden || out.ErrorTitle != "Access denied" ||
		!strings.Contains(out.ErrorMessage, "access policy does not allow you") || !strings.Contains(out.ErrorMessage, quickstart.MCP) {
		t.Fatalf("refused user: %s", describe(out))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.got) != 0 {
		t.Fatalf("the client was called: %v", c.got)
	}
	doc, _ := rec.LastDocument(quickstart.AS + "/callback")
	checkPageHeaders(t, doc, "")
	checkNoSecretInURLs(t, rec, map[string]string{"password": demoPassword, "code_verifier": p.verifier, "broker client secret": brokerSecret})
}

// TestTamperedState: the state the IdP returns to the authorization server
// is altered in the browser. The broker refuses with an error page, issues no
// code and never redirects to the client.
func TestTamperedState(t *testing.T) {
	tab, rec := openTab(t)
	c := newClient(t)
	out, err := browser.Login(tab, rec, authorizeURL(c, newPKCE(), randomState()), browser.LoginOptions{
		User: "bob", Password: demoPassword, RedirectURI: c.redirectURI(), TamperState: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.ConsentShown || out.Callback != nil || out.Status != http.StatusBadRequest || out.ErrorTitle != "Sign-in failed" {
		t.Fatalf("tampered state: %s", describe(out))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.got) != 0 {
		t.Fatalf("the client was called: %v", c.got)
	}
}

// TestPagesCannotBeFramed: Chromium refuses to render the authorization
// server's pages inside another site's frame (frame-ancestors 'none',
// X-Frame-Options: DENY), while it does frame the development IdP's page,
// which sends neither (the control that shows the check can fail).
func TestPagesCannotBeFramed(t *testing.T) {
	tab, rec := openTab(t)
	c := newClient(t)
	asPage := quickstart.AS + "/authorize?client_id=unknown-client" // an error page with the broker's headers
	idpPage := quickstart.IdP + "/authorize?" + url.Values{
		"client_id": {"quickstart-agent"}, "redirect_uri": {"http://127.0.0.1/callback"}, "response_type": {"code"},
		"code_challenge": {newPKCE().challenge}, "code_challenge_method": {"S256"}, "state": {"s"},
	}.Encode()
	for _, tc := range []struct {
		name, src string
		framed    bool
	}{
		{"authorization server page", asPage, false},
		{"development IdP page (control)", idpPage, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(tab, 15*time.Second)
			defer cancel()
			frame := c.srv.URL + "/frame?src=" + url.QueryEscape(tc.src)
			if err := chromedp.Do(ctx, chromedp.Navigate(frame)); err != nil {
				t.Fatal(err)
			}
			framed, err := frameRendered(ctx, tc.src)
			if err != nil {
				t.Fatal(err)
			}
			_ = rec.Screenshot(ctx, "frame-"+tc.name)
			if framed != tc.framed {
				t.Fatalf("%s rendered in a frame: %v, want %v", tc.src, framed, tc.framed)
			}
		})
	}
}

// frameRendered reports whether a child frame shows src (a frame the
// browser blocked shows its error page instead).
func frameRendered(ctx context.Context, src string) (bool, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		r, err := chromedp.Call(ctx, page.GetFrameTree, cdp.Empty{})
		if err != nil {
			return false, err
		}
		tree := r.FrameTree
		for _, ch := range tree.ChildFrames {
			if ch.Frame.URL == src {
				return true, nil
			}
			if strings.HasPrefix(ch.Frame.URL, "chrome-error:") {
				return false, nil
			}
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("frame of %s did not settle: %d children", src, len(tree.ChildFrames))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestGoSDKAuthorizationCodeHandler: the go-sdk's standard
// AuthorizationCodeHandler (a pre-registered public client) gets its code
// from a real browser: dave logs in, allows, and the SDK's MCP session sees
// exactly the tools his groups (marketing, admins) allow.
func TestGoSDKAuthorizationCodeHandler(t *testing.T) {
	tab, rec := openTab(t)
	c := newClient(t)
	var consent bool
	h, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		PreregisteredClient: &oauthex.ClientCredentials{ClientID: publicClientID},
		RedirectURL:         c.redirectURI(),
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			out, err := browser.Login(tab, rec, args.URL, browser.LoginOptions{User: "dave", Password: demoPassword, RedirectURI: c.redirectURI()})
			if err != nil {
				return nil, err
			}
			if out.Callback == nil || out.Callback.Get("code") == "" {
				return nil, fmt.Errorf("no code: %s", describe(out))
			}
			consent = out.ConsentShown
			return &auth.AuthorizationResult{Code: out.Callback.Get("code"), State: out.Callback.Get("state"), Iss: out.Callback.Get("iss")}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := mcp.NewClient(&mcp.Implementation{Name: "browser-test", Version: "1"}, nil)
	s, err := cl.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: quickstart.MCP, OAuthHandler: h}, nil)
	if err != nil {
		t.Fatalf("connect through the broker: %v", err)
	}
	defer s.Close()
	names := toolNames(ctx, t, s)
	// admins may deploy (to any environment), so dave sees deploy too.
	if want := []string{"delete_repo", "deploy", "echo", "list_tickets"}; !slices.Equal(names, want) {
		t.Fatalf("dave sees %v, want %v", names, want)
	}
	t.Logf("consent page shown: %v (remembered per user and client after the first run)", consent)
	if _, err := s.CallTool(ctx, &mcp.CallToolParams{Name: "list_tickets"}); err != nil {
		t.Fatalf("dave (marketing) list_tickets: %v", err)
	}
}

// checkPageHeaders asserts the security headers of an authorization server
// page as the browser received them. formTarget is the client origin the
// consent form may reach ("" for error pages).
func checkPageHeaders(t *testing.T, doc browser.Document, formTarget string) {
	t.Helper()
	page := doc.URL // without the query: it carries the IdP's (used) code
	if u, err := url.Parse(doc.URL); err == nil {
		page = u.Path
	}
	csp := doc.Headers.Get("Content-Security-Policy")
	wantCSP := []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'"}
	if formTarget != "" {
		wantCSP = append(wantCSP, "form-action 'self' "+formTarget)
	}
	for _, w := range wantCSP {
		if !strings.Contains(csp, w) {
			t.Errorf("%s: Content-Security-Policy %q lacks %q", page, csp, w)
		}
	}
	for k, want := range map[string]string{
		"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
	} {
		if got := doc.Headers.Get(k); !strings.EqualFold(got, want) {
			t.Errorf("%s: %s = %q, want %q", page, k, got, want)
		}
	}
	if cc := doc.Headers.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("%s: Cache-Control %q lacks no-store", page, cc)
	}
}

// checkNoSecretInURLs fails when any secret occurs, raw or URL-encoded, in
// a URL the browser requested.
func checkNoSecretInURLs(t *testing.T, rec *browser.Recorder, secrets map[string]string) {
	t.Helper()
	urls := rec.URLs()
	if len(urls) == 0 {
		t.Fatal("the recorder saw no URL")
	}
	for name, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("secret %s is too short to search for", name)
		}
		for _, u := range urls {
			if strings.Contains(u, s) || strings.Contains(u, url.QueryEscape(s)) {
				t.Errorf("the %s appears in a URL the browser visited: %.80s...", name, u)
			}
		}
	}
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	Scope        string `json:"scope"`
}

// redeem exchanges a code at the token endpoint as the public client c.
func redeem(t *testing.T, c *client, code, verifier string) tokenResponse {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
		"redirect_uri": {c.redirectURI()}, "client_id": {c.id}, "resource": {quickstart.MCP}}
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.PostForm(quickstart.AS+"/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var tok tokenResponse
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &tok) != nil || tok.AccessToken == "" || tok.RefreshToken == "" {
		// Never print the body: it may hold tokens.
		var e struct{ Error string }
		_ = json.Unmarshal(b, &e)
		t.Fatalf("token endpoint: HTTP %d, error %q, access token %v, refresh token %v",
			resp.StatusCode, e.Error, tok.AccessToken != "", tok.RefreshToken != "")
	}
	if !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
		t.Errorf("token response Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	return tok
}

type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// mcpSession connects to the quickstart's MCP server with an access token,
// lists the tools, calls allowed (must succeed) and denied (must fail). It
// returns the sorted tool names and a description of any wrong outcome.
func mcpSession(t *testing.T, token, allowed, denied string) ([]string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := mcp.NewClient(&mcp.Implementation{Name: "browser-test", Version: "1"}, nil)
	s, err := cl.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: quickstart.MCP,
		HTTPClient: &http.Client{Transport: bearer{token}, Timeout: 20 * time.Second}}, nil)
	if err != nil {
		t.Fatalf("connect with the access token: %v", err)
	}
	defer s.Close()
	names := toolNames(ctx, t, s)
	var problems []string
	if res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: allowed, Arguments: map[string]any{"message": "hi"}}); err != nil || res.IsError {
		problems = append(problems, fmt.Sprintf("%s refused: %v", allowed, err))
	}
	if _, err := s.CallTool(ctx, &mcp.CallToolParams{Name: denied, Arguments: map[string]any{}}); err == nil {
		problems = append(problems, denied+" allowed")
	}
	return names, strings.Join(problems, "; ")
}

func toolNames(ctx context.Context, t *testing.T, s *mcp.ClientSession) []string {
	t.Helper()
	res, err := s.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}

// describe is an outcome for test output: no code, no CSRF token.
func describe(out *browser.Outcome) string {
	final := out.Final
	if u, err := url.Parse(out.Final); err == nil {
		final = u.Scheme + "://" + u.Host + u.Path
	}
	return fmt.Sprintf("ended at %s (HTTP %d), consent shown %v, callback %v, page %q %q",
		final, out.Status, out.ConsentShown, redact(out.Callback), out.ErrorTitle, out.ErrorMessage)
}

// redact hides the code of a callback query in test output.
func redact(q url.Values) url.Values {
	if q == nil {
		return nil
	}
	out := url.Values{}
	for k, v := range q {
		if k == "code" {
			v = []string{"(redacted)"}
		}
		out[k] = v
	}
	return out
}
