package coretest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

func TestIdPTokens(t *testing.T) {
	t.Parallel()
	idp := NewIdP(t)
	const res = "https://mcp.example.com/mcp"
	v := idp.Verifier(t, res)
	ctx := context.Background()
	c, err := v.Verify(ctx, idp.Token(res, "alice", "a", "b"))
	if err != nil || c.Subject != "alice" || c.Issuer != idp.Issuer() || len(c.Scopes) != 2 {
		t.Fatalf("Token: %+v %v", c, err)
	}
	if c, err := v.Verify(ctx, idp.Mint(map[string]any{"aud": res, "sub": "bob"}, WithAlg("RS256"))); err != nil || c.Algorithm != "RS256" {
		t.Fatalf("RS256: %+v %v", c, err)
	}
	bad := []struct {
		name string
		tok  string
		want error
	}{
		{"expired", idp.ExpiredToken(res, "alice"), core.ErrExpired},
		{"audience", idp.WrongAudienceToken("alice"), core.ErrAudience},
		{"issuer", idp.WrongIssuerToken(res, "alice"), core.ErrIssuer},
		{"typ JWT", idp.Mint(map[string]any{"aud": res, "sub": "a"}, WithTyp("JWT")), core.ErrTokenType},
		{"duplicate claim", idp.MintRaw([]byte(`{"alg":"ES256","kid":"`+KidES256+`","typ":"at+jwt"}`), []byte(`{"sub":"a","sub":"b"}`)), core.ErrMalformedToken},
	}
	for _, tt := range bad {
		if _, err := v.Verify(ctx, tt.tok); !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
		}
	}
	if idp.JWKSHits() == 0 {
		t.Error("JWKS never fetched")
	}
}

func TestIdPJWKSDown(t *testing.T) {
	t.Parallel()
	idp := NewIdP(t)
	idp.SetJWKSDown(true)
	const res = "https://mcp.example.com/mcp"
	if _, err := idp.Verifier(t, res).Verify(context.Background(), idp.Token(res, "alice")); !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

// TestIdPJWKSOrder: the JWKS lists its keys in one order, ES256's then
// RS256's, so that what depends on it (which key a key set scans first,
// the benchmarks' instruction counts) is the same from run to run. It
// ranged over a map of the two: each IdP drew one of both orders.
func TestIdPJWKSOrder(t *testing.T) {
	t.Parallel()
	for i := range 4 {
		idp := NewIdP(t)
		resp, err := idp.HTTPClient().Get(idp.JWKSURL())
		if err != nil {
			t.Fatal(err)
		}
		var set struct {
			Keys []struct {
				Kid string `json:"kid"`
			} `json:"keys"`
		}
		err = json.NewDecoder(resp.Body).Decode(&set)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		var kids []string
		for _, k := range set.Keys {
			kids = append(kids, k.Kid)
		}
		if !slices.Equal(kids, []string{KidES256, KidRS256}) {
			t.Fatalf("IdP %d: JWKS kids %q, want %q", i, kids, []string{KidES256, KidRS256})
		}
	}
}
