package verifier

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// TestRefusalTextQuotedBounded: a refusal quotes the token's value with
// clip.Quote, cut after escaping, so a value of control characters (one
// byte each, four once quoted) keeps the text within its bound; %q of a
// value clipped to 128 bytes was 514 bytes.
func TestRefusalTextQuotedBounded(t *testing.T) {
	t.Parallel()
	clk := newClock()
	v := staticVerifier(t, clk, nil)
	// 700 bytes: the signed token stays under the 8 KiB limit (each is
	// six bytes of JSON).
	ctl := strings.Repeat("\u0001", 700)
	c1 := strings.Repeat("\u0085", 1024)
	signTyp := func(t *testing.T, typ string, c map[string]any) string {
		p, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := jose.Sign(key(t, jose.ES256, "a"), jose.Header{Alg: jose.ES256, Kid: "es", Typ: typ}, p)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	withIss := func(iss string) map[string]any { c := claims("https://as.example"); c["iss"] = iss; return c }
	for _, tc := range []struct {
		name  string
		token func(t *testing.T) string
		want  error
		value string
		limit int
	}{
		{"iss control chars", func(t *testing.T) string { return signTyp(t, "at+jwt", withIss(ctl)) }, core.ErrIssuer, ctl, 128},
		{"iss C1", func(t *testing.T) string { return signTyp(t, "at+jwt", withIss(c1)) }, core.ErrIssuer, c1, 128},
		{"typ control chars", func(t *testing.T) string { return signTyp(t, ctl, claims("https://as.example")) }, core.ErrTokenType, ctl, 128},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := v.Verify(context.Background(), tc.token(t))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var me *MismatchError
			if !errors.As(err, &me) {
				t.Fatalf("no MismatchError in %v", err)
			}
			text := me.Error()
			if q := clip.Quote(tc.value, tc.limit); !strings.Contains(text, q) {
				t.Fatalf("%q does not quote the value as %q", text, q)
			}
			if bound := tc.limit + 200; len(text) > bound {
				t.Fatalf("refusal text is %d bytes, bound %d: %q", len(text), bound, text)
			}
		})
	}
}

// TestKeycloakTypRefusalBounded: the Keycloak preset's payload typ check
// quotes the value within 64 bytes.
func TestKeycloakTypRefusalBounded(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{strings.Repeat("\u0001", 2048), strings.Repeat("\u0085", 1024)} {
		raw, err := core.RawClaimsFromMap(map[string]any{"typ": typ})
		if err != nil {
			t.Fatal(err)
		}
		err = keycloakBearer.Fn(&core.Claims{Raw: raw})
		if !errors.Is(err, core.ErrMapping) {
			t.Fatalf("err = %v, want ErrMapping", err)
		}
		if q := clip.Quote(typ, 64); !strings.Contains(err.Error(), q) || len(err.Error()) > 64+100 {
			t.Fatalf("refusal text %d bytes %q, want it to quote %q", len(err.Error()), err, q)
		}
	}
}
