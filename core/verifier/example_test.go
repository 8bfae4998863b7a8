package verifier_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

func ExampleNew() {
	// An authorization server key (normally: the IdP's JWKS URL or discovery).
	key, _ := jose.GenerateKey(jose.ES256)
	jwk, _ := jose.PublicJWK(key.Public(), "k1", jose.ES256)
	jwks, _ := json.Marshal(jose.JWKS{Keys: []jose.JWK{jwk}})

	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	v, err := verifier.New(context.Background(), verifier.Config{
		Issuers: []verifier.IssuerConfig{{
			Issuer: "https://auth.example.com",
			JWKS:   jwks, // or JWKSURL, or nothing for OIDC / RFC 8414 discovery
		}},
		Audience: []string{"https://mcp.example.com/mcp"},
		Now:      func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}

	claims, _ := json.Marshal(map[string]any{
		"iss": "https://auth.example.com", "sub": "alice", "aud": "https://mcp.example.com/mcp",
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "client_id": "cli", "scope": "tools:call",
	})
	token, _ := jose.Sign(key, jose.Header{Alg: jose.ES256, Kid: "k1", Typ: "at+jwt"}, claims)

	c, err := v.Verify(context.Background(), token)
	fmt.Println(c.Subject, c.ClientID, c.Scopes, err)

	// The same token presented to another resource is refused.
	other, _ := verifier.New(context.Background(), verifier.Config{
		Issuers:  []verifier.IssuerConfig{{Issuer: "https://auth.example.com", JWKS: jwks}},
		Audience: []string{"https://other.example.com/mcp"},
		Now:      func() time.Time { return now },
	})
	_, err = other.Verify(context.Background(), token)
	fmt.Println(errors.Is(err, core.ErrAudience))
	// Output:
	// alice cli [tools:call] <nil>
	// true
}
