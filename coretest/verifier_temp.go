package coretest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// TEMPORARY (until core/verifier lands): a minimal strict verifier over the
// IdP's keys, so the suite can run. It checks alg, kid, signature, iss, aud,
// exp (30s leeway), nbf and typ at+jwt.

type tempVerifier struct {
	issuer, resource string
	keys             jose.KeySet
	now              func() time.Time
}

// Verifier returns a core.TokenVerifier accepting this IdP's access tokens
// for resource.
func (i *IdP) Verifier(t testing.TB, resource string) core.TokenVerifier {
	t.Helper()
	var pks []*jose.PublicKey
	for alg, k := range i.keys {
		pk, err := jose.NewPublicKey(k.Public(), i.kids[alg], alg)
		if err != nil {
			t.Fatalf("coretest: key: %v", err)
		}
		pks = append(pks, pk)
	}
	return &tempVerifier{issuer: i.Issuer(), resource: resource, keys: jose.NewStaticKeySet(pks...), now: i.now}
}

func (v *tempVerifier) Verify(ctx context.Context, raw string) (*core.Claims, error) {
	tok, err := jose.ParseCompact(raw, jose.ParseOptions{Algorithms: []string{"ES256", "RS256"}})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", core.ErrMalformedToken, err)
	}
	if !strings.EqualFold(tok.Header.Typ, "at+jwt") {
		return nil, core.ErrTokenType
	}
	if _, err := jose.VerifyToken(ctx, tok, v.keys); err != nil {
		if errors.Is(err, jose.ErrUnknownKey) {
			return nil, core.ErrUnknownKey
		}
		return nil, core.ErrSignature
	}
	var c struct {
		Iss      string `json:"iss"`
		Sub      string `json:"sub"`
		Aud      any    `json:"aud"`
		Exp      int64  `json:"exp"`
		Nbf      int64  `json:"nbf"`
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
	}
	if err := json.Unmarshal(tok.Payload, &c); err != nil {
		return nil, core.ErrInvalidClaims
	}
	raw2, _ := jose.DecodeJSON(tok.Payload)
	rawMap, _ := raw2.(map[string]any)
	now := v.now()
	switch {
	case c.Iss != v.issuer:
		return nil, core.ErrIssuer
	case c.Exp == 0 || now.After(time.Unix(c.Exp, 0).Add(30*time.Second)):
		return nil, core.ErrExpired
	case c.Nbf != 0 && now.Add(30*time.Second).Before(time.Unix(c.Nbf, 0)):
		return nil, core.ErrNotYetValid
	}
	var aud []string
	switch a := c.Aud.(type) {
	case string:
		aud = []string{a}
	case []any:
		for _, x := range a {
			if s, ok := x.(string); ok {
				aud = append(aud, s)
			}
		}
	}
	if !slices.Contains(aud, v.resource) {
		return nil, core.ErrAudience
	}
	return &core.Claims{Issuer: c.Iss, Subject: c.Sub, Audience: aud, ClientID: c.ClientID,
		Scopes: strings.Fields(c.Scope), Expiry: time.Unix(c.Exp, 0), Raw: rawMap,
		Type: tok.Header.Typ, KeyID: tok.Header.Kid, Algorithm: tok.Header.Alg}, nil
}
