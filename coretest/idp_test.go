package coretest

import (
	"context"
	"errors"
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
