package redisstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/replay"
)

// TestRedisReplayMarkOutlivesClockSkew: the mark the authorization server
// leaves in Redis for a redeemed ID-JAG and a private_key_jwt assertion
// lives until exp + Leeway + ReplayClockSkew (PTTL of the real key), so a
// replica whose clock is behind by up to ReplayClockSkew, which still finds
// the assertion unexpired, also still finds the mark.
func TestRedisReplayMarkOutlivesClockSkew(t *testing.T) {
	t.Parallel()
	srv := startRedis(t)
	const leeway = 10 * time.Second
	tests := []struct {
		name string
		skew time.Duration // 0 = authserver.DefaultReplayClockSkew
	}{
		{name: "default"},
		{name: "2 min", skew: 2 * time.Minute},
		{name: "5 min", skew: 5 * time.Minute},
		{name: "1 ms", skew: time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := srv.client(t)
			prefix := "skew-" + strings.ReplaceAll(tt.name, " ", "") + ":"
			ctx := context.Background()
			// The longest quarantine: marks here live up to 10 min 20 s.
			gs, err := NewGrantStore(ctx, ReplayConfig{Config: Config{Client: rc, Prefix: prefix}, Quarantine: MaxQuarantine})
			if err != nil {
				t.Fatal(err)
			}
			idpKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			cliKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			signKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			hash, err := authserver.HashSecret(clSecret)
			if err != nil {
				t.Fatal(err)
			}
			both := []string{authserver.GrantClientCredentials, authserver.GrantJWTBearer}
			const issuer = "https://as.example.com"
			as, err := authserver.New(authserver.Config{
				Issuer:    issuer,
				Resources: []authserver.Resource{{ID: clResource, Scopes: []string{"mcp:tools"}}},
				Clients: []authserver.Client{
					{ID: clSecretID, SecretHash: hash, GrantTypes: both, Scopes: []string{"mcp:tools"}},
					{ID: clJWTID, JWKS: jwksOf(t, cliKey, "cli"), GrantTypes: both, Scopes: []string{"mcp:tools"}},
				},
				TrustedIdPs:     []authserver.TrustedIdP{{Issuer: clIdP, JWKS: jwksOf(t, idpKey, "idp")}},
				SigningKeys:     []authserver.SigningKey{{Signer: signKey, KeyID: "as-1"}},
				ReplayStore:     gs,
				RateLimiter:     gs,
				Leeway:          leeway,
				ReplayClockSkew: tt.skew,
			})
			if err != nil {
				t.Fatal(err)
			}
			skew := tt.skew
			if skew == 0 {
				skew = authserver.DefaultReplayClockSkew
			}
			c := &cluster{}
			post := func(form url.Values, basic bool) int {
				req := httptest.NewRequest(http.MethodPost, issuer+"/token", strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if basic {
					req.SetBasicAuth(clSecretID, clSecret)
				}
				w := httptest.NewRecorder()
				as.ServeHTTP(w, req)
				return w.Code
			}
			now := time.Now()
			exp := now.Add(time.Minute).Unix()
			jagJTI, asJTI := rand.Text(), rand.Text()
			jag := c.mint(t, idpKey, "idp", authserver.TypeIDJAG, map[string]any{
				"iss": clIdP, "sub": clUser, "aud": issuer, "resource": clResource, "client_id": clSecretID,
				"jti": jagJTI, "iat": now.Unix(), "exp": exp, "scope": "mcp:tools",
			})
			assertion := c.mint(t, cliKey, "cli", "", map[string]any{
				"iss": clJWTID, "sub": clJWTID, "aud": issuer, "jti": asJTI, "iat": now.Unix(), "exp": exp,
			})
			if code := post(url.Values{"grant_type": {authserver.GrantJWTBearer}, "assertion": {jag}}, true); code != 200 {
				t.Fatalf("ID-JAG: %d", code)
			}
			if code := post(url.Values{"grant_type": {authserver.GrantClientCredentials}, "client_assertion_type": {authserver.AssertionTypeJWTBearer}, "client_assertion": {assertion}}, false); code != 200 {
				t.Fatalf("client assertion: %d", code)
			}
			for kind, key := range map[string]string{
				"ID-JAG":           replay.Key("idjag", clIdP, jagJTI),
				"client assertion": replay.Key("client_assertion", clJWTID, asJTI),
			} {
				pttl, err := rc.PTTL(ctx, gs.key("jti", key)).Result()
				if err != nil {
					t.Fatal(err)
				}
				// The mark ends at exp + leeway + skew by this host's
				// clock: PTTL is that minus the time since the grant.
				want := time.Until(time.Unix(exp, 0).Add(leeway + skew))
				if pttl < want-2*time.Second || pttl > want+time.Second {
					t.Errorf("%s mark PTTL %v, want %v (exp + leeway %v + skew %v)", kind, pttl, want, leeway, skew)
				}
			}
			if code := post(url.Values{"grant_type": {authserver.GrantJWTBearer}, "assertion": {jag}}, true); code != 400 {
				t.Fatalf("ID-JAG replay: %d", code)
			}
		})
	}
}
