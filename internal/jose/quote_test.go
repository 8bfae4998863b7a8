package jose

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/clip"
)

// TestErrorTextQuotedBounded: a token's or a JWK's value in an error is
// quoted with clip.Quote, cut after escaping, so control characters (one
// byte each, four once quoted) keep the text within its bound; %q of a
// value clipped to 64 bytes was up to 226 bytes.
func TestErrorTextQuotedBounded(t *testing.T) {
	t.Parallel()
	ctl := strings.Repeat("\u0001", 1024)
	c1 := strings.Repeat("\u0085", 512)
	hdr := func(alg string) string {
		h, _ := json.Marshal(map[string]string{"alg": alg})
		return base64.RawURLEncoding.EncodeToString(h) + ".e30.c2ln"
	}
	k, err := GenerateKey(ES256)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The longest kid a token can carry (MaxKeyIDLength printable ASCII
	// bytes), of the two that %q escapes: 514 bytes through %q.
	kid := strings.Repeat(`"\`, MaxKeyIDLength/2)
	pub, err := NewPublicKey(k.Public(), "k", ES256)
	if err != nil {
		t.Fatal(err)
	}
	long, err := NewPublicKey(k.Public(), kid, ES256)
	if err != nil {
		t.Fatal(err)
	}
	jwk := func(m map[string]any) error {
		_, err := parseJWK(m, []string{ES256})
		return err
	}
	for _, tc := range []struct {
		name  string
		err   func() error
		want  error
		value string
		limit int
	}{
		{"header alg", func() error {
			_, err := ParseCompact(hdr(ctl[:512]), ParseOptions{Algorithms: []string{ES256}})
			return err
		}, ErrAlgorithm, ctl[:512], 64},
		{"header alg C1", func() error { _, err := ParseCompact(hdr(c1), ParseOptions{Algorithms: []string{ES256}}); return err }, ErrAlgorithm, c1, 64},
		{"jwk use", func() error { return jwk(map[string]any{"kty": "EC", "use": ctl}) }, ErrInvalidKey, ctl, 64},
		{"jwk alg", func() error { return jwk(map[string]any{"kty": "EC", "alg": ctl}) }, ErrInvalidKey, ctl, 64},
		{"jwk kty", func() error { return jwk(map[string]any{"kty": ctl}) }, ErrInvalidKey, ctl, 64},
		{"jwk crv", func() error { return jwk(map[string]any{"kty": "EC", "crv": ctl, "x": "AA", "y": "AA"}) }, ErrInvalidKey, ctl, 64},
		{"jwk OKP crv", func() error { return jwk(map[string]any{"kty": "OKP", "crv": ctl, "x": "AA"}) }, ErrInvalidKey, ctl, 64},
		{"generate alg", func() error { _, err := GenerateKey(ctl); return err }, ErrAlgorithm, ctl, 64},
		{"new key alg", func() error { _, err := NewPublicKey(k.Public(), "k", ctl); return err }, ErrInvalidKey, ctl, 64},
		{"static set unknown kid", func() error { _, err := NewStaticKeySet(pub).Keys(ctx, kid, ES256); return err }, ErrUnknownKey, kid, 128},
		{"static set kid of another alg", func() error { _, err := NewStaticKeySet(long).Keys(ctx, kid, RS256); return err }, ErrKeyMismatch, kid, 128},
		{"verify kid no key", func() error {
			_, err := VerifyToken(ctx, &Token{Header: ParsedHeader{Alg: ES256, Kid: kid}}, noKeys{})
			return err
		}, ErrUnknownKey, kid, 128},
		{"verify key of another alg", func() error { return (&Token{Header: ParsedHeader{Alg: RS256}}).Verify(long) }, ErrKeyMismatch, kid, 128},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.err()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			text := err.Error()
			if q := clip.Quote(tc.value, tc.limit); !strings.Contains(text, q) {
				t.Fatalf("%q does not quote the value as %q", text, q)
			}
			if bound := tc.limit + 60; len(text) > bound {
				t.Fatalf("error text is %d bytes, bound %d: %q", len(text), bound, text)
			}
		})
	}
}

// noKeys is a KeySet that has no key for any token, without an error.
type noKeys struct{}

func (noKeys) Keys(context.Context, string, string) ([]*PublicKey, error) { return nil, nil }

// TestFetchURLTextBounded: a URL CheckFetchURL refuses went into its
// error whole (%q); OIDC discovery checks the jwks_uri of the IdP's
// metadata (up to 1 MiB) with it, and the verifier logs that error and
// returns it for every token until the next discovery.
func TestFetchURLTextBounded(t *testing.T) {
	t.Parallel()
	for _, raw := range []string{
		"http://idp.example.com/" + strings.Repeat("a", 64<<10),
		"https://idp.example.com/#" + strings.Repeat("\u0001", 4096),
	} {
		_, err := CheckFetchURL(raw)
		if err == nil {
			t.Fatalf("%.40q accepted", raw)
		}
		text := err.Error()
		if q := clip.Quote(raw, 128); !strings.Contains(text, q) || len(text) > 128+96 {
			t.Errorf("error text of %d bytes, want at most %d quoting %s: %.200q", len(text), 128+96, q, text)
		}
	}
}
