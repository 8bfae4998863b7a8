package client

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	jose4 "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// idjagOK issues a distinct ID-JAG per exchange.
func idjagOK(tokenType string) func(recorded) (int, any) {
	var n atomic.Int32
	return func(r recorded) (int, any) {
		return 200, map[string]any{"access_token": fmt.Sprintf("idjag-%d", n.Add(1)),
			"issued_token_type": TokenTypeIDJAG, "token_type": tokenType, "expires_in": 300}
	}
}

type emaEnv struct {
	idp, as *fakeAS
	rs      *fakeRS
	a       *Authorizer
	clk     *testkit.Clock
}

func newEMA(t *testing.T, idpToken, asToken func(recorded) (int, any), mod func(*EnterpriseManagedConfig)) *emaEnv {
	t.Helper()
	e := &emaEnv{clk: testkit.NewClock(time.Unix(1_800_000_000, 0))}
	e.idp = newFakeAS(t, idpToken)
	e.as = newFakeAS(t, asToken)
	e.as.meta["grant_types_supported"] = []string{GrantTypeJWTBearer}
	e.rs = newFakeRS(t, e.as.srv.URL)
	cfg := EnterpriseManagedConfig{
		IDTokens:    StaticIDToken("id-token-1"),
		IdP:         IdPConfig{TokenEndpoint: e.idp.srv.URL + "/token", Credentials: Credentials{ClientID: "idp-client"}},
		Credentials: Credentials{ClientID: "as-client", ClientSecret: "as-secret"},
		Now:         e.clk.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	g, err := NewEnterpriseManaged(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.a = mustNew(t, Config{ServerURL: e.rs.url(), Grant: g, Now: e.clk.Now})
	return e
}

func TestEnterpriseManagedFlow(t *testing.T) {
	t.Parallel()
	e := newEMA(t, idjagOK("N_A"), bearerOK(3600), nil)
	e.rs.headerScope = "mcp:tools"
	if resp := doGet(t, e.a.HTTPClient(nil), e.rs.url()); resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	x := e.idp.rec.all()
	if len(x) != 1 {
		t.Fatalf("exchanges = %d", len(x))
	}
	want := map[string]string{
		"grant_type": GrantTypeTokenExchange, "requested_token_type": TokenTypeIDJAG, "audience": e.as.srv.URL,
		"resource": e.rs.url(), "scope": "mcp:tools", "subject_token": "id-token-1",
		"subject_token_type": TokenTypeIDToken, "client_id": "idp-client",
	}
	for k, v := range want {
		if got := x[0].Form.Get(k); got != v {
			t.Errorf("exchange %s = %q, want %q", k, got, v)
		}
	}
	if len(x[0].Form) != len(want) || x[0].Header.Get("Authorization") != "" {
		t.Errorf("exchange form %v", x[0].Form)
	}
	j := e.as.rec.all()
	if len(j) != 1 {
		t.Fatalf("jwt-bearer requests = %d", len(j))
	}
	f := j[0].Form
	if f.Get("grant_type") != GrantTypeJWTBearer || f.Get("assertion") != "idjag-1" || f.Get("resource") != e.rs.url() ||
		f.Get("scope") != "mcp:tools" || f.Has("client_secret") {
		t.Errorf("jwt-bearer form %v", f)
	}
	if u, p, ok := (&http.Request{Header: j[0].Header}).BasicAuth(); !ok || u != "as-client" || p != "as-secret" {
		t.Errorf("basic %q %q", u, p)
	}
}

func TestEnterpriseManagedRenewalUsesFreshIDJAG(t *testing.T) {
	t.Parallel()
	e := newEMA(t, idjagOK("n_a"), bearerOK(60), nil)
	ctx := context.Background()
	if err := e.a.Authorize(ctx); err != nil {
		t.Fatal(err)
	}
	t1, err := e.a.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Add(20 * time.Second) // still valid (60 s - 30 s skew)
	if t2, _ := e.a.Token(ctx); t2 != t1 {
		t.Fatal("token renewed too early")
	}
	e.clk.Add(15 * time.Second) // within the skew window
	t3, err := e.a.Token(ctx)
	if err != nil || t3.AccessToken == t1.AccessToken {
		t.Fatalf("no renewal: %v %v", t3, err)
	}
	if n := len(e.idp.rec.all()); n != 2 {
		t.Errorf("token exchanges = %d, want 2", n)
	}
	seen := map[string]bool{}
	for _, r := range e.as.rec.all() {
		a := r.Form.Get("assertion")
		if seen[a] {
			t.Errorf("ID-JAG %q re-submitted", a)
		}
		seen[a] = true
	}
	if len(seen) != 2 {
		t.Errorf("jwt-bearer requests = %d, want 2", len(seen))
	}
}

func TestEnterpriseManagedErrors(t *testing.T) {
	t.Parallel()
	oauthErr := func(status int, code string) func(recorded) (int, any) {
		return func(recorded) (int, any) {
			return status, map[string]string{"error": code, "error_description": "denied by policy"}
		}
	}
	tests := []struct {
		name          string
		idp, as       func(recorded) (int, any)
		ids           IDTokenSource
		wantErr       error
		wantOAuth     string
		wantLeg       string
		wantExchanges int
		wantAS        int
	}{
		{name: "exchange invalid_grant", idp: oauthErr(400, "invalid_grant"), as: bearerOK(60),
			wantOAuth: "invalid_grant", wantLeg: "token_exchange", wantExchanges: 1},
		{name: "exchange access_denied", idp: oauthErr(403, "access_denied"), as: bearerOK(60),
			wantOAuth: "access_denied", wantLeg: "token_exchange", wantExchanges: 1},
		{name: "wrong issued_token_type", as: bearerOK(60), wantErr: ErrTokenResponse, wantExchanges: 1,
			idp: func(recorded) (int, any) {
				return 200, map[string]any{"access_token": "x", "issued_token_type": "urn:ietf:params:oauth:token-type:access_token", "token_type": "N_A"}
			}},
		{name: "token_type Bearer from exchange", idp: idjagOK("Bearer"), as: bearerOK(60), wantErr: ErrTokenResponse, wantExchanges: 1},
		{name: "AS invalid_grant", idp: idjagOK("N_A"), as: oauthErr(400, "invalid_grant"),
			wantOAuth: "invalid_grant", wantLeg: "jwt_bearer", wantExchanges: 1, wantAS: 1},
		{name: "AS invalid_client", idp: idjagOK("N_A"), as: oauthErr(401, "invalid_client"),
			wantOAuth: "invalid_client", wantLeg: "jwt_bearer", wantExchanges: 1, wantAS: 1},
		{name: "no ID token", idp: idjagOK("N_A"), as: bearerOK(60), ids: StaticIDToken(""), wantErr: ErrIDToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEMA(t, tc.idp, tc.as, func(c *EnterpriseManagedConfig) {
				if tc.ids != nil {
					c.IDTokens = tc.ids
				}
			})
			_, err := e.a.HTTPClient(nil).Get(e.rs.url())
			if tc.wantOAuth != "" {
				var oe *OAuthError
				if !errors.As(err, &oe) || oe.Code != tc.wantOAuth || oe.Endpoint != tc.wantLeg || oe.Description != "denied by policy" {
					t.Fatalf("err = %v, want %s at %s", err, tc.wantOAuth, tc.wantLeg)
				}
			} else if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if n := len(e.idp.rec.all()); n != tc.wantExchanges {
				t.Errorf("exchanges = %d, want %d", n, tc.wantExchanges)
			}
			if n := len(e.as.rec.all()); n != tc.wantAS {
				t.Errorf("jwt-bearer requests = %d, want %d", n, tc.wantAS)
			}
		})
	}
}

func TestEnterpriseManagedScopeModes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		mode   ScopeMode
		scopes []string
		want   string
		has    bool
	}{
		{ScopeInherit, nil, "a b", true},
		{ScopeOmit, nil, "", false},
		{ScopeExplicit, []string{"x"}, "x", true},
	}
	for _, tc := range tests {
		e := newEMA(t, idjagOK("N_A"), bearerOK(60), func(c *EnterpriseManagedConfig) {
			c.AccessTokenScopeMode, c.AccessTokenScopes = tc.mode, tc.scopes
		})
		e.rs.headerScope = "a b"
		if err := e.a.HandleUnauthorized(context.Background(), http.Header{"Www-Authenticate": {`Bearer scope="a b"`}}, ""); err != nil {
			t.Fatal(err)
		}
		f := e.as.rec.all()[0].Form
		if f.Get("scope") != tc.want || f.Has("scope") != tc.has {
			t.Errorf("mode %d: scope %q", tc.mode, f.Get("scope"))
		}
		if got := e.idp.rec.all()[0].Form.Get("scope"); got != "a b" {
			t.Errorf("mode %d: exchange scope %q", tc.mode, got)
		}
	}
}

// TestEnterpriseManagedIdPPrivateKeyJWT checks the client assertion sent
// to the IdP: aud is the IdP issuer by default, and with
// AudienceTokenEndpoint the exact URL it is posted to, which Okta and Entra
// ID require (Okta: "The audience claim for client_assertion must be the
// endpoint invoked for the request"); then no IdP issuer is needed.
func TestEnterpriseManagedIdPPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		aud       AssertionAudience
		noIssuer  bool
		wantToken bool // aud is the token endpoint, else the issuer
	}{
		{name: "issuer", aud: AudienceIssuer},
		{name: "token endpoint", aud: AudienceTokenEndpoint, wantToken: true},
		{name: "token endpoint without issuer", aud: AudienceTokenEndpoint, noIssuer: true, wantToken: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			e := newEMA(t, idjagOK("N_A"), bearerOK(60), nil)
			idp := IdPConfig{Issuer: e.idp.srv.URL, Credentials: Credentials{ClientID: "idp-client", Key: key, AssertionAudience: tc.aud}}
			if tc.noIssuer {
				idp.Issuer, idp.TokenEndpoint = "", e.idp.srv.URL+"/token"
			}
			g, err := NewEnterpriseManaged(EnterpriseManagedConfig{
				IDTokens:    StaticIDToken("idt"),
				IdP:         idp,
				Credentials: Credentials{ClientID: "as-client", ClientSecret: "s", Method: AuthClientSecretPost},
			})
			if err != nil {
				t.Fatal(err)
			}
			a := mustNew(t, Config{ServerURL: e.rs.url(), Grant: g})
			if err := a.Authorize(context.Background()); err != nil {
				t.Fatal(err)
			}
			wantMeta := int32(1)
			if tc.noIssuer {
				wantMeta = 0
			}
			if got := e.idp.metaHits.Load(); got != wantMeta {
				t.Errorf("IdP metadata fetched %d times, want %d", got, wantMeta)
			}
			f := e.idp.rec.all()[0].Form
			tok, err := josejwt.ParseSigned(f.Get("client_assertion"), []jose4.SignatureAlgorithm{jose4.ES256})
			if err != nil {
				t.Fatal(err)
			}
			var cl josejwt.Claims
			if err := tok.Claims(&key.PublicKey, &cl); err != nil {
				t.Fatal(err)
			}
			wantAud := e.idp.srv.URL
			if tc.wantToken {
				wantAud += "/token"
			}
			if cl.Issuer != "idp-client" || cl.Subject != "idp-client" || len(cl.Audience) != 1 || cl.Audience[0] != wantAud {
				t.Errorf("claims %+v, want aud %q", cl, wantAud)
			}
			if af := e.as.rec.all()[0].Form; af.Get("client_id") != "as-client" || af.Get("client_secret") != "s" {
				t.Errorf("AS form %v", af)
			}
		})
	}
}

func TestEnterpriseManagedConfigValidation(t *testing.T) {
	t.Parallel()
	ok := EnterpriseManagedConfig{
		IDTokens:    StaticIDToken("x"),
		IdP:         IdPConfig{TokenEndpoint: "https://idp.example/token", Credentials: Credentials{ClientID: "i"}},
		Credentials: Credentials{ClientID: "c", ClientSecret: "s"},
	}
	if _, err := NewEnterpriseManaged(ok); err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mods := []func(*EnterpriseManagedConfig){
		func(c *EnterpriseManagedConfig) { c.IDTokens = nil },
		func(c *EnterpriseManagedConfig) { c.IdP.TokenEndpoint = "" },
		func(c *EnterpriseManagedConfig) { c.IdP.TokenEndpoint = "http://idp.example/token" },
		func(c *EnterpriseManagedConfig) { c.IdP.Credentials = Credentials{ClientID: "i", Key: key} },
		func(c *EnterpriseManagedConfig) {
			c.IdP.Credentials = Credentials{ClientID: "i", Key: key, AssertionAudience: AudienceTokenEndpoint + 1}
		},
		func(c *EnterpriseManagedConfig) { c.Credentials = Credentials{ClientID: "c"} },
		func(c *EnterpriseManagedConfig) { c.AccessTokenScopeMode = ScopeExplicit },
		func(c *EnterpriseManagedConfig) { c.AccessTokenScopeMode = 9 },
	}
	for i, m := range mods {
		c := ok
		m(&c)
		if _, err := NewEnterpriseManaged(c); err == nil {
			t.Errorf("%d: accepted", i)
		}
	}
}
