package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// FuzzVerifyClaims signs arbitrary claims bytes with a trusted key, so the
// fuzzer exercises the claims rules behind a valid signature: Verify must
// never panic, and an accepted token must satisfy the invariants.
func FuzzVerifyClaims(f *testing.F) {
	for _, c := range []map[string]any{claims(iss), benchClaims()} {
		b, _ := json.Marshal(c)
		f.Add(string(b), "at+jwt")
	}
	f.Add(`{"iss":"https://as.example","aud":[],"exp":1e300}`, "JWT")
	f.Add(`{"iss":"https://as.example","aud":"https://mcp.example.com/mcp","exp":1772370000,"sub":"a","cnf":{}}`, "at+jwt")
	f.Add(`{"iss":"https://as.example","ISS":"x"}`, "")
	k := key(f, jose.ES256, "a")
	v := staticVerifier(f, newClock(), func(c *Config) { c.Cache.MaxEntries = -1 })
	f.Fuzz(func(t *testing.T, payload, typ string) {
		h, _ := json.Marshal(map[string]string{"alg": "ES256", "kid": "es", "typ": typ})
		raw := mint(t, k, jose.ES256, string(h), payload)
		c, err := v.Verify(context.Background(), raw)
		if err != nil {
			if c != nil {
				t.Fatal("claims with an error")
			}
			if errors.Is(err, core.ErrUnavailable) || errors.Is(err, core.ErrSignature) {
				t.Fatalf("unexpected class: %v", err)
			}
			return
		}
		if c.Issuer != iss || c.Expiry.IsZero() || !c.Expiry.After(t0.Add(-DefaultLeeway)) || c.Subject == "" {
			t.Fatalf("accepted bad claims: %+v", c)
		}
		found := false
		for _, a := range c.Audience {
			found = found || a == testAud
		}
		if !found || c.Raw.Has("cnf") || c.Raw.Has("nonce") {
			t.Fatalf("accepted bad claims: %+v", c)
		}
	})
}
