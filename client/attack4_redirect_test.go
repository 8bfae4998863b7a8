package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestTokenRequestNeverFollowsRedirects (attack-4): a token endpoint that
// answers 307/308 must not make the grant re-send its form (client_secret,
// client_assertion, the ID-JAG or the subject token) to the Location, even
// with a caller-supplied HTTPClient that follows redirects (the zero
// http.Client, http.DefaultClient, a proxy-configured client). Before the
// fix, postForm set GetBody and used the configured client as is: net/http
// re-POSTed the whole form to another host (and to plain http, past
// checkURL and checkReach).
func TestTokenRequestNeverFollowsRedirects(t *testing.T) {
	t.Parallel()
	var leaked atomic.Int32
	var leakedBody atomic.Value
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		leaked.Add(1)
		leakedBody.Store(r.PostForm.Encode())
		writeJSON(w, 200, map[string]any{"access_token": "from-collector", "token_type": "Bearer"})
	}))
	t.Cleanup(collector.Close)
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, m := range []AuthMethod{AuthClientSecretPost, AuthClientSecretBasic} {
			as := newFakeAS(t, nil)
			inner := as.srv.Config.Handler
			as.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/token" {
					http.Redirect(w, r, collector.URL+"/steal", code)
					return
				}
				inner.ServeHTTP(w, r)
			})
			g, err := NewClientCredentials(ClientCredentialsConfig{
				Credentials: Credentials{ClientID: "c1", ClientSecret: "top-secret-value", Method: m},
				HTTPClient:  &http.Client{}, // follows redirects, as most callers' clients do
			})
			if err != nil {
				t.Fatal(err)
			}
			rs := newFakeRS(t, as.srv.URL)
			err = mustNew(t, Config{ServerURL: rs.url(), Grant: g}).Authorize(context.Background())
			if err == nil {
				t.Errorf("%d %s: Authorize succeeded through a redirected token endpoint", code, m)
			}
			if n := leaked.Swap(0); n != 0 {
				b, _ := leakedBody.Load().(string)
				t.Errorf("%d %s: the token request was re-sent to the redirect target (%d times; form %q, secret leaked: %v)",
					code, m, n, b, strings.Contains(b, "top-secret-value"))
			}
		}
	}
}

// TestDiscoveryNeverFollowsRedirects (attack-4): a metadata URL that
// redirects is an error, not followed, even with a caller-supplied client
// that follows redirects: a followed redirect would reach a URL that
// checkURL and checkReach never saw (a hostile server's 302 to the
// client's own machine or network).
func TestDiscoveryNeverFollowsRedirects(t *testing.T) {
	t.Parallel()
	var reached atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(target.Close)
	as := newFakeAS(t, bearerOK(3600))
	rs := newFakeRS(t, as.srv.URL)
	inner := rs.srv.Config.Handler
	rs.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, wellKnownPRM) {
			http.Redirect(w, r, target.URL+"/admin/metadata", http.StatusFound)
			return
		}
		inner.ServeHTTP(w, r)
	})
	g, err := NewClientCredentials(ClientCredentialsConfig{Credentials: Credentials{ClientID: "c1", ClientSecret: "s"}})
	if err != nil {
		t.Fatal(err)
	}
	err = mustNew(t, Config{ServerURL: rs.url(), Grant: g, HTTPClient: &http.Client{}}).Authorize(context.Background())
	if err == nil {
		t.Error("Authorize succeeded without protected resource metadata")
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("discovery followed the redirect: the target got %d requests", n)
	}
}

// TestOIDCLoginCodeExchangeNeverFollowsRedirects (attack-4): the OIDC
// login's code exchange (code, PKCE verifier and client secret) is not
// re-sent to the Location of a 307 from the IdP's token endpoint, and its
// default HTTP client follows no redirect either.
func TestOIDCLoginCodeExchangeNeverFollowsRedirects(t *testing.T) {
	t.Parallel()
	var leaked atomic.Int32
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(collector.Close)
	for _, hc := range []*http.Client{nil, {}} {
		op := newFakeOP(t)
		op.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/token" {
				http.Redirect(w, r, collector.URL+"/steal", http.StatusTemporaryRedirect)
				return
			}
			op.serve(w, r)
		})
		l, err := NewOIDCLogin(OIDCLoginConfig{Issuer: op.srv.URL, ClientID: "app", ClientSecret: "op-secret",
			OpenBrowser: browser(t), LoginTimeout: 10 * time.Second, HTTPClient: hc})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.IDToken(context.Background()); err == nil {
			t.Error("login succeeded through a redirected token endpoint")
		}
		if n := leaked.Swap(0); n != 0 {
			t.Errorf("HTTPClient %v: the code exchange was re-sent to the redirect target", hc)
		}
	}
}
