package authserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

const (
	e2eMCP    = "https://mcp.example.com/mcp"
	e2eOther  = "https://other.example.com/mcp"
	e2eClient = "chat-app"
	e2eSecret = "chat-app-secret-0123456789abcdef"
)

// testIdP is a minimal enterprise IdP: it serves its JWK Set over loopback
// and mints ID-JAGs.
type testIdP struct {
	srv  *httptest.Server
	sign func(claims map[string]any) string
	down atomic.Bool
}

func newTestIdP(t *testing.T) *testIdP {
	t.Helper()
	key, err := jose.GenerateKey(jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := jose.PublicJWK(key.Public(), "idp-1", jose.ES256)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := json.Marshal(jose.JWKS{Keys: []jose.JWK{jwk}})
	p := &testIdP{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(set)
	}))
	t.Cleanup(p.srv.Close)
	p.sign = func(claims map[string]any) string {
		b, _ := json.Marshal(claims)
		tok, err := jose.Sign(key, jose.Header{Alg: jose.ES256, Kid: "idp-1", Typ: authserver.TypeIDJAG}, b)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	return p
}

func (p *testIdP) idjag(asIssuer string) string {
	now := time.Now().Unix()
	return p.sign(map[string]any{
		"iss": p.srv.URL, "sub": "alice", "aud": asIssuer, "client_id": e2eClient,
		"resource": []string{e2eMCP, e2eOther}, "scope": "mcp:tools", "jti": time.Now().String(),
		"iat": now, "exp": now + 120, "groups": []string{"eng"},
	})
}

// startAS runs the authorization server on a loopback listener, with the
// issuer path given.
func startAS(t *testing.T, path string, idp *testIdP) (*authserver.Server, *http.Client) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	hash, err := authserver.HashSecret(e2eSecret)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := jose.GenerateKey(jose.ES256)
	as, err := authserver.New(authserver.Config{
		Issuer: "http://" + srv.Listener.Addr().String() + path,
		Resources: []authserver.Resource{
			{ID: e2eMCP, Scopes: []string{"mcp:tools"}},
			{ID: e2eOther, Scopes: []string{"mcp:tools"}},
		},
		SigningKeys: []authserver.SigningKey{{Signer: key}},
		Clients: []authserver.Client{{
			ID: e2eClient, SecretHash: hash, Scopes: []string{"mcp:tools"},
			GrantTypes: []string{authserver.GrantJWTBearer, authserver.GrantClientCredentials},
		}},
		TrustedIdPs: []authserver.TrustedIdP{{
			Issuer: idp.srv.URL, JWKSURL: idp.srv.URL + "/jwks",
			Claims: map[string]string{"groups": "groups"},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = as
	srv.Start()
	t.Cleanup(srv.Close)
	return as, srv.Client()
}

func postToken(t *testing.T, hc *http.Client, as *authserver.Server, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, as.TokenEndpoint(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(e2eClient), url.QueryEscape(e2eSecret))
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, body
}

// End to end: IdP issues an ID-JAG → our AS → access token → the core
// verifier accepts it for the MCP resource and rejects it for another.
func TestEndToEndWithCoreVerifier(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", "/oauth"} {
		t.Run("issuer path "+path, func(t *testing.T) {
			t.Parallel()
			idp := newTestIdP(t)
			as, hc := startAS(t, path, idp)
			status, body := postToken(t, hc, as, url.Values{
				"grant_type": {authserver.GrantJWTBearer},
				"assertion":  {idp.idjag(as.Issuer())},
				"resource":   {e2eMCP},
			})
			if status != 200 {
				t.Fatalf("token: %d %v", status, body)
			}
			tok := body["access_token"].(string)

			for _, ic := range []verifier.IssuerConfig{
				{Issuer: as.Issuer(), JWKSURL: as.JWKSURI()},
				{Issuer: as.Issuer()}, // discovery through our metadata
			} {
				v, err := verifier.New(context.Background(), verifier.Config{Issuers: []verifier.IssuerConfig{ic}, Audience: []string{e2eMCP}})
				if err != nil {
					t.Fatal(err)
				}
				c, err := v.Verify(context.Background(), tok)
				if err != nil {
					t.Fatalf("verifier (%+v) rejects our token: %v", ic, err)
				}
				if c.Subject != "alice" || c.ClientID != e2eClient || c.Type != "at+jwt" || strings.Join(c.Scopes, " ") != "mcp:tools" {
					t.Fatalf("claims %+v", c)
				}
				if got, _ := c.String("idp_iss"); got != idp.srv.URL {
					t.Fatalf("idp_iss %q", got)
				}
				if g := c.Strings("groups", false); len(g) != 1 || g[0] != "eng" {
					t.Fatalf("groups %v", g)
				}
			}
			other, err := verifier.New(context.Background(), verifier.Config{
				Issuers:  []verifier.IssuerConfig{{Issuer: as.Issuer(), JWKSURL: as.JWKSURI()}},
				Audience: []string{e2eOther},
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := other.Verify(context.Background(), tok); !errors.Is(err, core.ErrAudience) {
				t.Fatalf("token for %s accepted by %s: %v", e2eMCP, e2eOther, err)
			}
		})
	}
}

// An unreachable IdP key set fails closed with 503.
func TestIdPKeysUnavailable(t *testing.T) {
	t.Parallel()
	idp := newTestIdP(t)
	as, hc := startAS(t, "", idp)
	idp.down.Store(true)
	status, body := postToken(t, hc, as, url.Values{"grant_type": {authserver.GrantJWTBearer}, "assertion": {idp.idjag(as.Issuer())}})
	if status != 503 || body["error"] != "temporarily_unavailable" {
		t.Fatalf("IdP down: %d %v", status, body)
	}
}
