package verifier

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/jose"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

const (
	testAud = "https://mcp.example.com/mcp"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newClock() *testkit.Clock { return testkit.NewClock(t0) }

var (
	keysMu sync.Mutex
	keys   = map[string]crypto.Signer{}
)

// key returns a cached private key per name (RSA generation is slow).
func key(t testing.TB, alg, name string) crypto.Signer {
	t.Helper()
	keysMu.Lock()
	defer keysMu.Unlock()
	if k, ok := keys[alg+"/"+name]; ok {
		return k
	}
	k, err := jose.GenerateKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	keys[alg+"/"+name] = k
	return k
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// mint signs raw header and payload JSON text.
func mint(t testing.TB, k crypto.Signer, alg, header, payload string) string {
	t.Helper()
	input := b64([]byte(header)) + "." + b64([]byte(payload))
	sig, err := jose.SignInput(k, alg, []byte(input))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64(sig)
}

// claims returns a valid claims map for issuer iss at time t0.
func claims(iss string) map[string]any {
	return map[string]any{
		"iss":       iss,
		"sub":       "alice",
		"aud":       testAud,
		"exp":       t0.Add(time.Hour).Unix(),
		"iat":       t0.Add(-time.Minute).Unix(),
		"nbf":       t0.Add(-time.Minute).Unix(),
		"jti":       "j1",
		"client_id": "client-1",
		"scope":     "tools:read tools:call",
	}
}

func sign(t testing.TB, k crypto.Signer, alg, kid string, c map[string]any) string {
	t.Helper()
	p, _ := json.Marshal(c)
	raw, err := jose.Sign(k, jose.Header{Alg: alg, Kid: kid, Typ: "at+jwt"}, p)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func jwksOf(t testing.TB, entries ...any) []byte {
	t.Helper()
	var set jose.JWKS
	for i := 0; i < len(entries); i += 3 {
		j, err := jose.PublicJWK(entries[i].(crypto.Signer).Public(), entries[i+1].(string), entries[i+2].(string))
		if err != nil {
			t.Fatal(err)
		}
		set.Keys = append(set.Keys, j)
	}
	b, _ := json.Marshal(set)
	return b
}

// idp is an httptest issuer serving OIDC discovery and a JWKS.
type idp struct {
	srv       *httptest.Server
	issuer    string
	jwksHits  atomic.Int64
	discHits  atomic.Int64
	mu        sync.Mutex
	jwks      []byte
	down      bool
	discIss   string // issuer to advertise; "" = the real one
	noOIDCDoc bool
}

func newIDP(t testing.TB, path string) *idp {
	t.Helper()
	p := &idp{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		down, jwks, discIss, noOIDC := p.down, p.jwks, p.discIss, p.noOIDCDoc
		p.mu.Unlock()
		switch r.URL.Path {
		case path + "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server" + path:
			p.discHits.Add(1)
			if down || (noOIDC && r.URL.Path == path+"/.well-known/openid-configuration") {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			iss := p.issuer
			if discIss != "" {
				iss = discIss
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"issuer": iss, "jwks_uri": p.srv.URL + path + "/jwks"})
		case path + "/jwks":
			p.jwksHits.Add(1)
			if down {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write(jwks)
		default:
			http.NotFound(w, r)
		}
	}))
	p.issuer = p.srv.URL + path
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) setJWKS(b []byte) {
	p.mu.Lock()
	p.jwks = b
	p.mu.Unlock()
}

func (p *idp) setDown(d bool) {
	p.mu.Lock()
	p.down = d
	p.mu.Unlock()
}

// staticVerifier builds a verifier for issuer "https://as.example" with a
// static JWKS holding one key per supported default alg.
func staticVerifier(t testing.TB, clk *testkit.Clock, mut func(*Config)) *Verifier {
	t.Helper()
	cfg := Config{
		Issuers: []IssuerConfig{{
			Issuer: "https://as.example",
			JWKS: jwksOf(t, key(t, jose.RS256, "a"), "rs", jose.RS256, key(t, jose.PS256, "a"), "ps", jose.PS256,
				key(t, jose.ES256, "a"), "es", jose.ES256, key(t, jose.EdDSA, "a"), "ed", jose.EdDSA),
		}},
		Audience: []string{testAud},
		Now:      clk.Now,
	}
	if mut != nil {
		mut(&cfg)
	}
	v, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
