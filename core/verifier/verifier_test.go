package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

const iss = "https://as.example"

func TestVerifyValid(t *testing.T) {
	t.Parallel()
	clk := newClock()
	v := staticVerifier(t, clk, nil)
	for _, tc := range []struct{ alg, kid string }{{jose.RS256, "rs"}, {jose.PS256, "ps"}, {jose.ES256, "es"}, {jose.EdDSA, "ed"}} {
		c := claims(iss)
		c["groups"] = []string{"eng", "ops"}
		c["n"] = 1.5
		raw := sign(t, key(t, tc.alg, "a"), tc.alg, tc.kid, c)
		got, err := v.Verify(context.Background(), raw)
		if err != nil {
			t.Fatalf("%s: %v", tc.alg, err)
		}
		want := &core.Claims{
			Issuer: iss, Subject: "alice", Audience: []string{testAud}, ClientID: "client-1",
			Scopes: []string{"tools:read", "tools:call"}, Expiry: t0.Add(time.Hour), NotBefore: t0.Add(-time.Minute),
			IssuedAt: t0.Add(-time.Minute), ID: "j1", Type: "at+jwt", KeyID: tc.kid, Algorithm: tc.alg,
		}
		if got.Memo == nil {
			t.Errorf("%s: a cached token's claims carry no TokenMemo", tc.alg)
		}
		if diff := cmp.Diff(want, got, cmp.FilterPath(func(p cmp.Path) bool { s := p.Last().String(); return s == ".Raw" || s == ".Memo" }, cmp.Ignore()),
			cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
			t.Errorf("%s claims (-want +got):\n%s", tc.alg, diff)
		}
		n, _ := got.Raw.Get("n")
		if g, _ := got.Raw.Get("groups"); n != json.Number("1.5") || len(g.([]any)) != 2 {
			t.Errorf("%s Raw = %s", tc.alg, got.Raw.JSON())
		}
	}
}

// verr runs Verify and checks the error chain.
func verr(t *testing.T, v *Verifier, raw string, want error) {
	t.Helper()
	_, err := v.Verify(context.Background(), raw)
	if want == nil {
		if err != nil {
			t.Fatalf("rejected: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func payload(c map[string]any) string {
	b, _ := json.Marshal(c)
	return string(b)
}

func TestTokenAttacks(t *testing.T) {
	t.Parallel()
	clk := newClock()
	v := staticVerifier(t, clk, func(c *Config) { c.Cache.MaxEntries = -1 })
	es := key(t, jose.ES256, "a")
	rs := key(t, jose.RS256, "a")
	good := payload(claims(iss))
	h := func(extra string) string { return `{"alg":"ES256","kid":"es","typ":"at+jwt"` + extra + `}` }
	parts := strings.Split(mint(t, es, jose.ES256, h(""), good), ".")
	attacker, _ := jose.GenerateKey(jose.ES256)
	attackerJWK, _ := jose.PublicJWK(attacker.Public(), "es", jose.ES256)
	jwkJSON, _ := json.Marshal(attackerJWK)
	cases := []struct {
		name string
		raw  string
		want error
	}{
		{"valid", mint(t, es, jose.ES256, h(""), good), nil},
		{"T01 none", b64([]byte(`{"alg":"none","typ":"at+jwt"}`)) + "." + parts[1] + ".", core.ErrMalformedToken},
		{"T01 NONE with sig", b64([]byte(`{"alg":"NONE","typ":"at+jwt"}`)) + "." + parts[1] + "." + parts[2], core.ErrUnsupportedAlgorithm},
		{"T02 HS256", hmacToken(`{"alg":"HS256","kid":"rs","typ":"at+jwt"}`, good, []byte("public key bytes")), core.ErrUnsupportedAlgorithm},
		{"T03 RS512 not allowed", mint(t, key(t, jose.RS512, "a"), jose.RS512, `{"alg":"RS512","kid":"rs","typ":"at+jwt"}`, good), core.ErrUnsupportedAlgorithm},
		{"T03 ES384 not allowed", mint(t, key(t, jose.ES384, "a"), jose.ES384, `{"alg":"ES384","typ":"at+jwt"}`, good), core.ErrUnsupportedAlgorithm},
		{"T04 ES256 kid on RSA key", mint(t, rs, jose.RS256, `{"alg":"RS256","kid":"es","typ":"at+jwt"}`, good), core.ErrUnknownKey},
		{"T04 PS256 token, RS256-labelled key", mint(t, rs, jose.PS256, `{"alg":"PS256","kid":"rs","typ":"at+jwt"}`, good), core.ErrUnknownKey},
		{"T05 embedded jwk", mint(t, attacker, jose.ES256, h(`,"jwk":`+string(jwkJSON)), good), core.ErrMalformedToken},
		{"T05 attacker key same kid", mint(t, attacker, jose.ES256, h(""), good), core.ErrSignature},
		{"T06 jku", mint(t, attacker, jose.ES256, h(`,"jku":"http://127.0.0.1:1/jwks"`), good), core.ErrMalformedToken},
		{"T06 x5u", mint(t, attacker, jose.ES256, h(`,"x5u":"http://127.0.0.1:1/x"`), good), core.ErrMalformedToken},
		{"T06 x5c", mint(t, attacker, jose.ES256, h(`,"x5c":["MIIB"]`), good), core.ErrMalformedToken},
		{"T07 kid traversal", mint(t, es, jose.ES256, `{"alg":"ES256","kid":"../../dev/null","typ":"at+jwt"}`, good), core.ErrUnknownKey},
		{"T07 kid sqli", mint(t, es, jose.ES256, `{"alg":"ES256","kid":"' OR 1=1--","typ":"at+jwt"}`, good), core.ErrUnknownKey},
		{"T07 kid NUL", mint(t, es, jose.ES256, `{"alg":"ES256","kid":"\u0000","typ":"at+jwt"}`, good), core.ErrMalformedToken},
		{"T07 kid 64KB", mint(t, es, jose.ES256, `{"alg":"ES256","kid":"`+strings.Repeat("k", 5000)+`"}`, good), core.ErrMalformedToken},
		{"T08 crit", mint(t, es, jose.ES256, h(`,"crit":["exp"]`), good), core.ErrMalformedToken},
		{"T09 b64", mint(t, es, jose.ES256, h(`,"b64":false,"crit":["b64"]`), good), core.ErrMalformedToken},
		{"T10 flattened JSON", `{"protected":"` + parts[0] + `","payload":"` + parts[1] + `","signature":"` + parts[2] + `"}`, core.ErrMalformedToken},
		{"T11 general JSON", `{"payload":"` + parts[1] + `","signatures":[{"protected":"` + parts[0] + `","signature":"` + parts[2] + `"}]}`, core.ErrMalformedToken},
		{"T12 JWE", parts[0] + ".." + parts[1] + "." + parts[1] + "." + parts[2], core.ErrMalformedToken},
		{"T12 cty JWT", mint(t, es, jose.ES256, h(`,"cty":"JWT"`), good), core.ErrMalformedToken},
		{"T13 whitespace", parts[0] + ". " + parts[1] + "." + parts[2], core.ErrMalformedToken},
		{"T13 newline", parts[0] + "." + parts[1] + "\n." + parts[2], core.ErrMalformedToken},
		{"T14 padding", parts[0] + "." + parts[1] + "=." + parts[2], core.ErrMalformedToken},
		{"T17 DER signature", derES256(t, es, h(""), good), core.ErrSignature},
		{"T18 1 MiB", strings.Repeat("A", 1<<20), core.ErrMalformedToken},
		{"T18 dots", strings.Repeat(".", 1e5), core.ErrMalformedToken},
		{"T19 invalid UTF-8 claims", mint(t, es, jose.ES256, h(""), "{\"iss\":\""+iss+"\",\"sub\":\"\xff\"}"), core.ErrMalformedToken},
		{"T19 invalid UTF-8 header", mint(t, es, jose.ES256, "{\"alg\":\"ES256\",\"x\":\"\xfe\"}", good), core.ErrMalformedToken},
		{"T20 iss/ISS", mint(t, es, jose.ES256, h(""), `{"iss":"https://evil","ISS":"`+iss+`"}`), core.ErrMalformedToken},
		{"T20 duplicate aud", mint(t, es, jose.ES256, h(""), strings.Replace(good, `"aud":`, `"aud":"x","aud":`, 1)), core.ErrMalformedToken},
		{"T20 Aud variant", mint(t, es, jose.ES256, h(""), strings.Replace(good, `"aud":`, `"AUD":"x","aud":`, 1)), core.ErrMalformedToken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			verr(t, v, tc.raw, tc.want)
		})
	}
	// Again once the valid token's header is known (jose.HeaderCache): the
	// attacks reusing it get the same answers.
	warm := staticVerifier(t, clk, func(c *Config) { c.Cache.MaxEntries = -1 })
	verr(t, warm, cases[0].raw, nil)
	for _, tc := range cases {
		t.Run("header known/"+tc.name, func(t *testing.T) {
			verr(t, warm, tc.raw, tc.want)
		})
	}
}

func TestT21WeakKeysDropped(t *testing.T) {
	t.Parallel()
	// A JWKS with only a 1024-bit key has no usable key: New refuses it.
	small := weakRSA(t)
	_, err := New(context.Background(), Config{
		Issuers:  []IssuerConfig{{Issuer: iss, JWKS: []byte(`{"keys":[` + small + `]}`)}},
		Audience: []string{testAud},
	})
	if err == nil {
		t.Fatal("JWKS with only a 1024-bit key accepted")
	}
}

func TestC01IssuerExact(t *testing.T) {
	t.Parallel()
	v := staticVerifier(t, newClock(), nil)
	es := key(t, jose.ES256, "a")
	for _, bad := range []string{iss + "/", "https://AS.example", "HTTPS://as.example", "http://as.example", "https://as.example:443",
		" https://as.example", "https://as.example ", "https://as.example.evil", "", "https://as.example\u0000"} {
		c := claims(iss)
		c["iss"] = bad
		verr(t, v, sign(t, es, jose.ES256, "es", c), core.ErrIssuer)
	}
	c := claims(iss)
	delete(c, "iss")
	verr(t, v, sign(t, es, jose.ES256, "es", c), core.ErrIssuer)
	c["iss"] = 12
	verr(t, v, sign(t, es, jose.ES256, "es", c), core.ErrIssuer)
}

func TestC02Audience(t *testing.T) {
	t.Parallel()
	v := staticVerifier(t, newClock(), nil)
	es := key(t, jose.ES256, "a")
	cases := []struct {
		name string
		aud  any
		want error
	}{
		{"string", testAud, nil},
		{"array with ours", []any{"https://other", testAud}, nil},
		{"missing", nil, core.ErrAudience},
		{"wrong", "https://other.example/mcp", core.ErrAudience},
		{"empty array", []any{}, core.ErrAudience},
		{"empty string", "", core.ErrAudience},
		{"array of empty", []any{""}, core.ErrAudience},
		{"number", 123, core.ErrInvalidClaims},
		{"null", "null", core.ErrInvalidClaims},
		{"array with number", []any{testAud, 1}, core.ErrInvalidClaims},
		{"object", map[string]any{"aud": testAud}, core.ErrInvalidClaims},
		{"trailing slash", testAud + "/", core.ErrAudience},
		{"upper host", "https://MCP.example.com/mcp", core.ErrAudience},
		{"default port", "https://mcp.example.com:443/mcp", core.ErrAudience},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := claims(iss)
			switch tc.aud {
			case nil:
				delete(c, "aud")
			case "null":
				c["aud"] = nil
			default:
				c["aud"] = tc.aud
			}
			verr(t, v, sign(t, es, jose.ES256, "es", c), tc.want)
		})
	}
}

func TestNormalizeAudienceOptIn(t *testing.T) {
	t.Parallel()
	es := key(t, jose.ES256, "a")
	v := staticVerifier(t, newClock(), func(c *Config) {
		c.NormalizeAudience = true
		c.Audience = []string{"https://mcp.example.com"}
	})
	for aud, want := range map[string]error{
		"https://mcp.example.com":      nil,
		"https://mcp.example.com/":     nil,
		"HTTPS://MCP.Example.com:443/": nil,
		"https://mcp.example.com/x":    core.ErrAudience,
		"https://mcp.example.com:8443": core.ErrAudience,
		"http://mcp.example.com":       core.ErrAudience,
	} {
		c := claims(iss)
		c["aud"] = aud
		t.Run(aud, func(t *testing.T) { verr(t, v, sign(t, es, jose.ES256, "es", c), want) })
	}
}

func TestC03Exp(t *testing.T) {
	t.Parallel()
	v := staticVerifier(t, newClock(), nil)
	es := key(t, jose.ES256, "a")
	base := func(exp string) string {
		c := claims(iss)
		delete(c, "exp")
		p := payload(c)
		if exp == "" {
			return p
		}
		return strings.Replace(p, "{", `{"exp":`+exp+",", 1)
	}
	future := fmt.Sprint(t0.Add(time.Hour).Unix())
	for _, tc := range []struct {
		name, exp string
		want      error
	}{
		{"int", future, nil},
		{"float in range", future + ".25", nil},
		{"exponent", "1.7e9", core.ErrExpired},
		{"missing", "", core.ErrInvalidClaims},
		{"string", `"` + future + `"`, core.ErrInvalidClaims},
		{"1e300", "1e300", core.ErrInvalidClaims},
		{"negative", "-1", core.ErrInvalidClaims},
		{"null", "null", core.ErrInvalidClaims},
		{"bool", "true", core.ErrInvalidClaims},
		{"huge int", "99999999999999999999999", core.ErrInvalidClaims},
		{"past", fmt.Sprint(t0.Add(-time.Hour).Unix()), core.ErrExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			verr(t, v, mint(t, es, jose.ES256, `{"alg":"ES256","kid":"es","typ":"at+jwt"}`, base(tc.exp)), tc.want)
		})
	}
	for _, name := range []string{"nbf", "iat"} {
		c := claims(iss)
		c[name] = "soon"
		verr(t, v, sign(t, es, jose.ES256, "es", c), core.ErrInvalidClaims)
	}
}

func TestC04LeewayBoundaries(t *testing.T) {
	t.Parallel()
	const L = 30 * time.Second
	es := key(t, jose.ES256, "a")
	v := staticVerifier(t, newClock(), func(c *Config) { c.Cache.MaxEntries = -1 })
	at := func(name string, d time.Duration, want error) {
		t.Helper()
		c := claims(iss)
		c[name] = t0.Add(d).Unix()
		if name != "iat" {
			delete(c, "iat")
		}
		if name != "nbf" {
			delete(c, "nbf")
		}
		t.Run(fmt.Sprintf("%s=now%+v", name, d), func(t *testing.T) { verr(t, v, sign(t, es, jose.ES256, "es", c), want) })
	}
	at("exp", -L+time.Second, nil)
	at("exp", -L, core.ErrExpired)
	at("exp", -L-time.Second, core.ErrExpired)
	at("nbf", L-time.Second, nil)
	at("nbf", L, nil)
	at("nbf", L+time.Second, core.ErrNotYetValid)
	at("iat", L, nil)
	at("iat", L+time.Second, core.ErrIssuedInFuture)
	at("iat", 24*time.Hour, core.ErrIssuedInFuture)
	// A per-issuer leeway of zero.
	zero := time.Duration(0)
	v0 := staticVerifier(t, newClock(), func(c *Config) { c.Issuers[0].Leeway = &zero; c.Cache.MaxEntries = -1 })
	c := claims(iss)
	c["exp"] = t0.Unix()
	verr(t, v0, sign(t, es, jose.ES256, "es", c), core.ErrExpired)
	c["exp"] = t0.Unix() + 1
	verr(t, v0, sign(t, es, jose.ES256, "es", c), nil)
}

func TestC05TokenType(t *testing.T) {
	t.Parallel()
	es := key(t, jose.ES256, "a")
	strict := staticVerifier(t, newClock(), nil)
	relaxed := staticVerifier(t, newClock(), func(c *Config) { c.Issuers[0].Types = []string{"at+jwt", "JWT", ""} })
	tok := func(typ string, extra map[string]any) string {
		c := claims(iss)
		for k, v := range extra {
			c[k] = v
		}
		hdr := `{"alg":"ES256","kid":"es"`
		if typ != "-" {
			hdr += `,"typ":"` + typ + `"`
		}
		return mint(t, es, jose.ES256, hdr+"}", payload(c))
	}
	for _, tc := range []struct {
		name        string
		raw         string
		strictWant  error
		relaxedWant error
	}{
		{"at+jwt", tok("at+jwt", nil), nil, nil},
		{"AT+JWT", tok("AT+JWT", nil), nil, nil},
		{"application/at+jwt", tok("application/at+jwt", nil), nil, nil},
		{"JWT", tok("JWT", nil), core.ErrTokenType, nil},
		{"no typ", tok("-", nil), core.ErrTokenType, nil},
		{"id-jag", tok("oauth-id-jag+jwt", nil), core.ErrTokenType, core.ErrTokenType},
		{"ID token nonce", tok("JWT", map[string]any{"nonce": "n"}), core.ErrTokenType, core.ErrTokenType},
		{"ID token at_hash", tok("at+jwt", map[string]any{"at_hash": "h"}), core.ErrTokenType, core.ErrTokenType},
		{"jwt+other", tok("secevent+jwt", nil), core.ErrTokenType, core.ErrTokenType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			verr(t, strict, tc.raw, tc.strictWant)
			verr(t, relaxed, tc.raw, tc.relaxedWant)
		})
	}
}

func TestC07Cnf(t *testing.T) {
	t.Parallel()
	v := staticVerifier(t, newClock(), nil)
	c := claims(iss)
	c["cnf"] = map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}
	verr(t, v, sign(t, key(t, jose.ES256, "a"), jose.ES256, "es", c), core.ErrInvalidClaims)
}

func TestC08ScopesAndClient(t *testing.T) {
	t.Parallel()
	v := staticVerifier(t, newClock(), nil)
	es := key(t, jose.ES256, "a")
	for _, tc := range []struct {
		name     string
		set      map[string]any
		scopes   []string
		clientID string
		want     error
	}{
		{"scope string", map[string]any{"scope": "a  b c"}, []string{"a", "b", "c"}, "client-1", nil},
		{"scope array", map[string]any{"scope": []any{"a", "b"}}, []string{"a", "b"}, "client-1", nil},
		{"scp string", map[string]any{"scope": nil, "scp": "x y"}, []string{"x", "y"}, "client-1", nil},
		{"scp array", map[string]any{"scope": nil, "scp": []any{"x", "y"}}, []string{"x", "y"}, "client-1", nil},
		{"no scopes", map[string]any{"scope": nil}, nil, "client-1", nil},
		{"scope number", map[string]any{"scope": 1}, nil, "", core.ErrInvalidClaims},
		{"scp with number", map[string]any{"scope": nil, "scp": []any{"x", 2}}, nil, "", core.ErrInvalidClaims},
		{"azp fallback", map[string]any{"client_id": nil, "azp": "spa"}, []string{"tools:read", "tools:call"}, "spa", nil},
		{"client_id wins", map[string]any{"azp": "spa"}, []string{"tools:read", "tools:call"}, "client-1", nil},
		{"client_id number", map[string]any{"client_id": 5}, nil, "", core.ErrInvalidClaims},
		{"sub number", map[string]any{"sub": 5}, nil, "", core.ErrInvalidClaims},
		{"jti object", map[string]any{"jti": map[string]any{}}, nil, "", core.ErrInvalidClaims},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := claims(iss)
			for k, val := range tc.set {
				if val == nil {
					delete(c, k)
				} else {
					c[k] = val
				}
			}
			got, err := v.Verify(context.Background(), sign(t, es, jose.ES256, "es", c))
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if err == nil && (!cmp.Equal(got.Scopes, tc.scopes, cmpEmpty) || got.ClientID != tc.clientID) {
				t.Fatalf("scopes %q client %q", got.Scopes, got.ClientID)
			}
		})
	}
}

var cmpEmpty = cmp.Comparer(func(a, b []string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return cmp.Equal(a, b)
})

func TestC09RequiredClaims(t *testing.T) {
	t.Parallel()
	es := key(t, jose.ES256, "a")
	def := staticVerifier(t, newClock(), nil)
	strict := staticVerifier(t, newClock(), func(c *Config) { c.Issuers[0].RequiredClaims = RFC9068Claims() })
	for _, name := range []string{"sub", "client_id", "jti", "iat"} {
		c := claims(iss)
		delete(c, name)
		raw := sign(t, es, jose.ES256, "es", c)
		verr(t, strict, raw, core.ErrInvalidClaims)
		want := error(nil)
		if name == "sub" {
			want = core.ErrInvalidClaims // "sub" is required by default
		}
		verr(t, def, raw, want)
	}
	c := claims(iss)
	c["sub"] = ""
	verr(t, def, sign(t, es, jose.ES256, "es", c), core.ErrInvalidClaims)
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	jwks := jwksOf(t, key(t, jose.ES256, "a"), "es", jose.ES256)
	ok := IssuerConfig{Issuer: iss, JWKS: jwks}
	neg := -time.Second
	big := 6 * time.Minute
	for name, cfg := range map[string]Config{
		"no issuers":          {Audience: []string{testAud}},
		"no audience":         {Issuers: []IssuerConfig{ok}},
		"empty audience":      {Issuers: []IssuerConfig{ok}, Audience: []string{" "}},
		"empty issuer":        {Issuers: []IssuerConfig{{JWKS: jwks}}, Audience: []string{testAud}},
		"HS256":               {Issuers: []IssuerConfig{{Issuer: iss, JWKS: jwks, Algorithms: []string{"HS256"}}}, Audience: []string{testAud}},
		"none":                {Issuers: []IssuerConfig{{Issuer: iss, JWKS: jwks, Algorithms: []string{"none"}}}, Audience: []string{testAud}},
		"id-jag typ":          {Issuers: []IssuerConfig{{Issuer: iss, JWKS: jwks, Types: []string{"application/oauth-id-jag+jwt"}}}, Audience: []string{testAud}},
		"leeway too big":      {Issuers: []IssuerConfig{ok}, Audience: []string{testAud}, Leeway: big},
		"negative leeway":     {Issuers: []IssuerConfig{ok}, Audience: []string{testAud}, Leeway: neg},
		"issuer leeway big":   {Issuers: []IssuerConfig{{Issuer: iss, JWKS: jwks, Leeway: &big}}, Audience: []string{testAud}},
		"two key sources":     {Issuers: []IssuerConfig{{Issuer: iss, JWKS: jwks, JWKSURL: "https://as.example/jwks"}}, Audience: []string{testAud}},
		"http JWKS URL":       {Issuers: []IssuerConfig{{Issuer: iss, JWKSURL: "http://as.example/jwks"}}, Audience: []string{testAud}},
		"duplicate issuer":    {Issuers: []IssuerConfig{ok, ok}, Audience: []string{testAud}},
		"bad static JWKS":     {Issuers: []IssuerConfig{{Issuer: iss, JWKS: []byte(`{"keys":[{"kty":"oct","k":"AA"}]}`)}}, Audience: []string{testAud}},
		"tenants no template": {Issuers: []IssuerConfig{{Issuer: iss, JWKS: jwks, AllowedTenants: []string{"t"}}}, Audience: []string{testAud}},
		"two placeholders":    {Issuers: []IssuerConfig{{Issuer: "https://x/{tenantid}/{tenantid}", JWKS: jwks}}, Audience: []string{testAud}},
		"http issuer disc":    {Issuers: []IssuerConfig{{Issuer: "http://as.example"}}, Audience: []string{testAud}},
	} {
		if _, err := New(context.Background(), cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewFromIssuerURL(context.Background(), iss); err == nil {
		t.Error("NewFromIssuerURL without audience accepted")
	}
	if _, err := NewFromIssuerURL(context.Background(), iss, testAud); err != nil {
		t.Errorf("NewFromIssuerURL: %v", err)
	}
}

func TestKidlessToken(t *testing.T) {
	t.Parallel()
	v := staticVerifier(t, newClock(), nil)
	es := key(t, jose.ES256, "a")
	verr(t, v, mint(t, es, jose.ES256, `{"alg":"ES256","typ":"at+jwt"}`, payload(claims(iss))), nil)
	other, _ := jose.GenerateKey(jose.ES256)
	verr(t, v, mint(t, other, jose.ES256, `{"alg":"ES256","typ":"at+jwt"}`, payload(claims(iss))), core.ErrSignature)
}
