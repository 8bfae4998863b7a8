package verifier

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

func discoveryVerifier(t *testing.T, clk *testkit.Clock, ps ...*idp) *Verifier {
	t.Helper()
	cfg := Config{Audience: []string{testAud}, Now: clk.Now, Cache: CacheConfig{MaxEntries: -1}}
	for _, p := range ps {
		cfg.Issuers = append(cfg.Issuers, IssuerConfig{Issuer: p.issuer})
	}
	v, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestDiscoveryAndJWKS(t *testing.T) {
	t.Parallel()
	p := newIDP(t, "/tenant-a")
	k := key(t, jose.ES256, "idp")
	p.setJWKS(jwksOf(t, k, "k1", jose.ES256))
	v := discoveryVerifier(t, newClock(), p)
	if _, err := v.Verify(context.Background(), sign(t, k, jose.ES256, "k1", claims(p.issuer))); err != nil {
		t.Fatal(err)
	}
	// RFC 8414 fallback when the OIDC document is missing.
	p2 := newIDP(t, "/b")
	p2.noOIDCDoc = true
	p2.setJWKS(jwksOf(t, k, "k1", jose.ES256))
	v2 := discoveryVerifier(t, newClock(), p2)
	verr(t, v2, sign(t, k, jose.ES256, "k1", claims(p2.issuer)), nil)
}

func TestC06TwoIssuers(t *testing.T) {
	t.Parallel()
	a, b := newIDP(t, "/a"), newIDP(t, "/b")
	ka, kb := key(t, jose.ES256, "A"), key(t, jose.ES256, "B")
	a.setJWKS(jwksOf(t, ka, "same", jose.ES256))
	b.setJWKS(jwksOf(t, kb, "same", jose.ES256))
	v := discoveryVerifier(t, newClock(), a, b)
	verr(t, v, sign(t, ka, jose.ES256, "same", claims(a.issuer)), nil)
	verr(t, v, sign(t, kb, jose.ES256, "same", claims(b.issuer)), nil)
	// Signed by A, claiming B (same kid at both): B's key is used and fails.
	verr(t, v, sign(t, ka, jose.ES256, "same", claims(b.issuer)), core.ErrSignature)
	verr(t, v, sign(t, kb, jose.ES256, "same", claims(a.issuer)), core.ErrSignature)
}

func TestK01UnknownKidStorm(t *testing.T) {
	t.Parallel()
	p := newIDP(t, "")
	k := key(t, jose.EdDSA, "idp")
	p.setJWKS(jwksOf(t, k, "k1", jose.EdDSA))
	clk := newClock()
	v := discoveryVerifier(t, clk, p)
	ctx := context.Background()
	verr(t, v, sign(t, k, jose.EdDSA, "k1", claims(p.issuer)), nil)
	base := p.jwksHits.Load()
	// Tokens with random unknown kids (the signature is never checked: no key).
	body := b64([]byte(payload(claims(p.issuer))))
	junkSig := b64(make([]byte, 64))
	for i := 0; i < 10000; i++ {
		hdr := b64([]byte(fmt.Sprintf(`{"alg":"EdDSA","kid":"rnd-%d","typ":"at+jwt"}`, i)))
		_, err := v.Verify(ctx, hdr+"."+body+"."+junkSig)
		if !errors.Is(err, core.ErrUnknownKey) {
			t.Fatalf("unknown kid: %v", err)
		}
		if i == 5000 {
			clk.Add(jose.DefaultCooldown) // exactly one more cooldown window
		}
	}
	if got := p.jwksHits.Load() - base; got > 1 {
		t.Fatalf("JWKS fetches for 10k unknown kids over 2 cooldown windows = %d, want <= 1", got)
	}
	// Bad signatures on the known kid: zero fetches, across cooldowns.
	base = p.jwksHits.Load()
	good := sign(t, k, jose.EdDSA, "k1", claims(p.issuer))
	bad := good[:len(good)-4] + flip(good[len(good)-4:])
	for i := 0; i < 2000; i++ {
		if i%200 == 0 {
			clk.Add(jose.DefaultCooldown + time.Second)
		}
		if _, err := v.Verify(ctx, bad); !errors.Is(err, core.ErrSignature) {
			t.Fatalf("bad signature: %v", err)
		}
	}
	if got := p.jwksHits.Load() - base; got != 0 {
		t.Fatalf("fetches caused by bad signatures = %d, want 0", got)
	}
	if d := p.discHits.Load(); d != 1 {
		t.Fatalf("discovery fetched %d times", d)
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == 'A' {
		b[0] = 'B'
	} else {
		b[0] = 'A'
	}
	return string(b)
}

func TestK03DownAtStartup(t *testing.T) {
	t.Parallel()
	p := newIDP(t, "")
	k := key(t, jose.ES256, "idp")
	p.setJWKS(jwksOf(t, k, "k1", jose.ES256))
	p.setDown(true)
	clk := newClock()
	v := discoveryVerifier(t, clk, p) // builds fine while the IdP is down
	raw := sign(t, k, jose.ES256, "k1", claims(p.issuer))
	for i := 0; i < 50; i++ {
		verr(t, v, raw, core.ErrUnavailable)
	}
	if d := p.discHits.Load(); d != 2 { // OIDC + RFC 8414, once per cooldown
		t.Fatalf("discovery attempts while down = %d, want 2", d)
	}
	p.setDown(false)
	verr(t, v, raw, core.ErrUnavailable) // still within the cooldown
	clk.Add(jose.DefaultCooldown + time.Second)
	verr(t, v, raw, nil)
	// Mid-run outage: the last good keys keep working.
	p.setDown(true)
	clk.Add(time.Hour)
	verr(t, v, sign(t, k, jose.ES256, "k1", claimsAt(p.issuer, clk.Now())), nil)
	// After 24 h of outage: fail closed with 503.
	clk.Add(24 * time.Hour)
	verr(t, v, sign(t, k, jose.ES256, "k1", claimsAt(p.issuer, clk.Now())), core.ErrUnavailable)
}

func claimsAt(iss string, now time.Time) map[string]any {
	c := claims(iss)
	c["exp"] = now.Add(time.Hour).Unix()
	c["iat"] = now.Unix()
	c["nbf"] = now.Unix()
	return c
}

func TestK07DiscoveryIssuerMismatch(t *testing.T) {
	t.Parallel()
	p := newIDP(t, "/x")
	k := key(t, jose.ES256, "idp")
	p.setJWKS(jwksOf(t, k, "k1", jose.ES256))
	p.discIss = p.issuer + "/" // trailing slash: not the configured issuer
	v := discoveryVerifier(t, newClock(), p)
	verr(t, v, sign(t, k, jose.ES256, "k1", claims(p.issuer)), core.ErrUnavailable)
	if p.jwksHits.Load() != 0 {
		t.Fatal("JWKS fetched from a mismatching metadata document")
	}
}

func TestK08UntrustedIssuerNoFetch(t *testing.T) {
	t.Parallel()
	trusted, decoy := newIDP(t, "/good"), newIDP(t, "/decoy")
	k := key(t, jose.ES256, "idp")
	trusted.setJWKS(jwksOf(t, k, "k1", jose.ES256))
	decoy.setJWKS(jwksOf(t, k, "k1", jose.ES256))
	v := discoveryVerifier(t, newClock(), trusted)
	verr(t, v, sign(t, k, jose.ES256, "k1", claims(decoy.issuer)), core.ErrIssuer)
	// jku pointing at the decoy is refused before any I/O.
	verr(t, v, mint(t, k, jose.ES256, `{"alg":"ES256","kid":"k1","typ":"at+jwt","jku":"`+decoy.srv.URL+`/decoy/jwks"}`, payload(claims(trusted.issuer))), core.ErrMalformedToken)
	if decoy.jwksHits.Load()+decoy.discHits.Load() != 0 || trusted.jwksHits.Load()+trusted.discHits.Load() != 0 {
		t.Fatal("fetch caused by an untrusted token")
	}
}

func TestEntraTenantTemplate(t *testing.T) {
	t.Parallel()
	k := key(t, jose.RS256, "entra")
	const tmpl = "https://login.microsoftonline.com/{tenantid}/v2.0"
	mk := func(tenants ...string) *Verifier {
		v, err := New(context.Background(), Config{
			Issuers: []IssuerConfig{{Issuer: tmpl, AllowedTenants: tenants, JWKS: jwksOf(t, k, "e1", ""),
				Types: []string{"JWT"}, Algorithms: []string{jose.RS256}}},
			Audience: []string{testAud}, Now: newClock().Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tok := func(iss, tid string) string {
		c := claims(iss)
		if tid != "" {
			c["tid"] = tid
		}
		p := payload(c)
		return mint(t, k, jose.RS256, `{"alg":"RS256","kid":"e1","typ":"JWT"}`, p)
	}
	const t1, t2 = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
	iss1 := strings.Replace(tmpl, "{tenantid}", t1, 1)
	anyTenant, onlyT1 := mk(), mk(t1)
	verr(t, anyTenant, tok(iss1, t1), nil)
	verr(t, onlyT1, tok(iss1, t1), nil)
	verr(t, onlyT1, tok(strings.Replace(tmpl, "{tenantid}", t2, 1), t2), core.ErrIssuer)
	verr(t, anyTenant, tok(iss1, t2), core.ErrIssuer)     // tid does not fill the template
	verr(t, anyTenant, tok(iss1, ""), core.ErrIssuer)     // no tid
	verr(t, anyTenant, tok(tmpl, "{tenantid}"), nil)      // literal template with matching tid is harmless: same keys
	verr(t, anyTenant, tok(iss1+"/", t1), core.ErrIssuer) // suffix mismatch
	verr(t, anyTenant, tok("https://login.microsoftonline.com//v2.0", ""), core.ErrIssuer)
	urls, err := discoveryURLs(tmpl)
	if err != nil || urls[0] != "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration" {
		t.Fatalf("discovery URL %v %v", urls, err)
	}
}

func TestDiscoveryURLs(t *testing.T) {
	t.Parallel()
	for iss, want := range map[string][2]string{
		"https://as.example":        {"https://as.example/.well-known/openid-configuration", "https://as.example/.well-known/oauth-authorization-server"},
		"https://as.example/t/a":    {"https://as.example/t/a/.well-known/openid-configuration", "https://as.example/.well-known/oauth-authorization-server/t/a"},
		"https://as.example/realm/": {"https://as.example/realm/.well-known/openid-configuration", "https://as.example/.well-known/oauth-authorization-server/realm"},
	} {
		got, err := discoveryURLs(iss)
		if err != nil || got[0] != want[0] || got[1] != want[1] {
			t.Errorf("%s: %v %v", iss, got, err)
		}
	}
}
