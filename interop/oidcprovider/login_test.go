package oidcprovider

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// The IdP application registered in op-server.mjs (client_secret_post).
const (
	idpClientID     = "idp-app"
	idpClientSecret = "idp-app-secret"
	idpRedirectURI  = "http://127.0.0.1:9/callback" // never contacted
)

var (
	formActionRE = regexp.MustCompile(`<form[^>]*\saction="([^"]*)"`)
	formPromptRE = regexp.MustCompile(`name="prompt" value="([a-z]+)"`)
)

// loginIDToken logs user in at the OP with the authorization code flow + PKCE
// through its devInteractions pages (login form, then consent form), without
// a browser, and returns the ID token from the code exchange.
func loginIDToken(t *testing.T, ctx context.Context, o *op, user string) string {
	t.Helper()
	verifier, state, nonce := randomString(t), randomString(t), randomString(t)
	sum := sha256.Sum256([]byte(verifier))
	authURL := o.Meta.AuthorizationEndpoint + "?" + url.Values{
		"client_id": {idpClientID}, "response_type": {"code"}, "redirect_uri": {idpRedirectURI},
		"scope": {"openid email groups"}, "state": {state}, "nonce": {nonce},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"},
	}.Encode()

	opURL, err := url.Parse(o.Issuer)
	if err != nil {
		t.Fatalf("OP issuer: %v", err)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookie jar: %v", err)
	}
	hc := &http.Client{Timeout: httpTimeout, Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		switch {
		case strings.HasPrefix(req.URL.String(), idpRedirectURI+"?"):
			return http.ErrUseLastResponse // the code is for us, not for 127.0.0.1:9
		case req.URL.Host != opURL.Host:
			return fmt.Errorf("redirect away from the OP to %s", req.URL.Redacted())
		case len(via) >= 10:
			return errors.New("too many redirects")
		}
		return nil
	}}
	do := func(method, u string, form url.Values) (*http.Response, string) {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequestWithContext(ctx, method, u, body)
		if err != nil {
			t.Fatalf("login %s %s: %v", method, u, err)
		}
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("login %s %s: %v", method, u, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			t.Fatalf("login %s %s: %v", method, u, err)
		}
		return resp, string(b)
	}

	resp, page := do(http.MethodGet, authURL, nil)
	var prompts []string
	for len(prompts) < 4 && resp.StatusCode == http.StatusOK {
		action, prompt := formActionRE.FindStringSubmatch(page), formPromptRE.FindStringSubmatch(page)
		if action == nil || prompt == nil {
			t.Fatalf("login: page %s has no interaction form:\n%.2000s", resp.Request.URL.Path, page)
		}
		target, err := resp.Request.URL.Parse(html.UnescapeString(action[1]))
		if err != nil || target.Host != opURL.Host {
			t.Fatalf("login: form action %q: %v", action[1], err)
		}
		form := url.Values{"prompt": {prompt[1]}}
		switch prompt[1] {
		case "login":
			form.Set("login", user)
			form.Set("password", "x")
		case "consent":
		default:
			t.Fatalf("login: unexpected prompt %q", prompt[1])
		}
		prompts = append(prompts, prompt[1])
		resp, page = do(http.MethodPost, target.String(), form)
	}
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || !strings.HasPrefix(loc, idpRedirectURI+"?") {
		t.Fatalf("login: after prompts %v got status %d Location %q, want a redirect to %s:\n%.2000s", prompts, resp.StatusCode, loc, idpRedirectURI, page)
	}
	cb, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("login: callback URL: %v", err)
	}
	q := cb.Query()
	if q.Get("error") != "" || q.Get("state") != state || q.Get("code") == "" || q.Get("iss") != o.Issuer {
		t.Fatalf("login: callback error=%q state ok=%v code present=%v iss=%q", q.Get("error"), q.Get("state") == state, q.Get("code") != "", q.Get("iss"))
	}

	status, tr := tokenRequest(t, ctx, o.Meta.TokenEndpoint, url.Values{
		"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {idpRedirectURI},
		"code_verifier": {verifier}, "client_id": {idpClientID}, "client_secret": {idpClientSecret},
	}, "", "")
	if status != http.StatusOK || tr.IDToken == "" {
		t.Fatalf("login: code exchange: status %d error=%q %q, id_token present=%v", status, tr.Error, tr.ErrorDesc, tr.IDToken != "")
	}
	h, c := jwtParts(t, tr.IDToken)
	if c["sub"] != user || c["aud"] != idpClientID || c["iss"] != o.Issuer || c["nonce"] != nonce {
		t.Fatalf("login: ID token claims sub=%v aud=%v iss=%v nonce ok=%v", c["sub"], c["aud"], c["iss"], c["nonce"] == nonce)
	}
	step(t, ctx, "IdP headless login %s: GET /auth -> prompts %v -> %s?code=…&state=…&iss=… -> code+PKCE exchange (client_secret_post) -> ID token alg=%v kid=%v sub=%v aud=%v email=%v",
		user, prompts, idpRedirectURI, h["alg"], h["kid"], c["sub"], c["aud"], c["email"])
	return tr.IDToken
}

// randomString is 32 random bytes, base64url.
func randomString(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("rand: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
