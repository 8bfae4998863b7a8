package verifier

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// funcKeySet is a caller-managed KeySet.
type funcKeySet func(ctx context.Context, jws string) ([]byte, error)

func (f funcKeySet) VerifySignature(ctx context.Context, jws string) ([]byte, error) {
	return f(ctx, jws)
}

func TestCallerKeySet(t *testing.T) {
	t.Parallel()
	k := key(t, jose.ES256, "a")
	raw := sign(t, k, jose.ES256, "es", claims(iss))
	pk, _ := jose.NewPublicKey(k.Public(), "es", jose.ES256)
	good := func(ctx context.Context, jws string) ([]byte, error) {
		tok, err := jose.ParseCompact(jws, jose.ParseOptions{Algorithms: []string{jose.ES256}})
		if err != nil {
			return nil, err
		}
		if _, err := jose.VerifyToken(ctx, tok, jose.NewStaticKeySet(pk)); err != nil {
			return nil, fmt.Errorf("%w: %v", core.ErrSignature, err)
		}
		return tok.Payload, nil
	}
	tests := []struct {
		name string
		ks   funcKeySet
		want error
	}{
		{"valid", good, nil},
		{"bad signature", func(context.Context, string) ([]byte, error) { return nil, core.ErrSignature }, core.ErrSignature},
		{"unknown key", func(context.Context, string) ([]byte, error) { return nil, core.ErrUnknownKey }, core.ErrUnknownKey},
		{"other error fails closed", func(context.Context, string) ([]byte, error) { return nil, errors.New("hsm down") }, core.ErrUnavailable},
		{"different payload", func(context.Context, string) ([]byte, error) { return []byte(`{"sub":"mallory"}`), nil }, core.ErrSignature},
	}
	for _, tt := range tests {
		v, err := New(context.Background(), Config{
			Issuers: []IssuerConfig{{Issuer: iss, KeySet: tt.ks}}, Audience: []string{testAud}, Now: newClock().Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		c, err := v.Verify(context.Background(), raw)
		if tt.want == nil {
			if err != nil || c.Subject != "alice" {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
}
