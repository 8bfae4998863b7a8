package verifier

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// A refused token's error names the issuer and audience it carried, bounded,
// so the audit record can say which were involved.
func TestRefusalNamesIssuerAndAudience(t *testing.T) {
	t.Parallel()
	clk := newClock()
	v := staticVerifier(t, clk, nil)
	long := "https://x.example/" + strings.Repeat("a", 5000)
	many := make([]any, 50)
	for i := range many {
		many[i] = "https://other.example/mcp"
	}
	for _, tc := range []struct {
		name     string
		mut      func(map[string]any)
		want     error
		wantIss  string
		wantAuds int
	}{
		{"wrong audience", func(c map[string]any) { c["aud"] = "https://other.example/mcp" }, core.ErrAudience, "https://as.example", 1},
		{"untrusted issuer", func(c map[string]any) { c["iss"] = "https://evil.example" }, core.ErrIssuer, "https://evil.example", 1},
		{"huge issuer", func(c map[string]any) { c["iss"] = long }, core.ErrIssuer, core.TruncateField(long, core.MaxLogField), 1},
		{"many audiences", func(c map[string]any) { c["aud"] = many }, core.ErrAudience, "https://as.example", core.MaxLogItems},
		{"expired", func(c map[string]any) { c["exp"] = t0.Add(-2 * time.Hour).Unix() }, core.ErrExpired, "https://as.example", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := claims("https://as.example")
			tc.mut(c)
			_, err := v.Verify(context.Background(), sign(t, key(t, jose.ES256, "a"), jose.ES256, "es", c))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var tr *core.TokenRefusalError
			if !errors.As(err, &tr) {
				t.Fatalf("no TokenRefusalError in %v", err)
			}
			if tr.Issuer != tc.wantIss || len(tr.Audience) != tc.wantAuds {
				t.Fatalf("refusal = %q %q, want %q and %d audiences", tr.Issuer, tr.Audience, tc.wantIss, tc.wantAuds)
			}
			if len(tr.Issuer) > core.MaxLogField || slices.ContainsFunc(tr.Audience, func(a string) bool { return len(a) > core.MaxLogField }) {
				t.Fatalf("unbounded refusal fields")
			}
		})
	}
}
