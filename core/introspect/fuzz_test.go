package introspect

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// FuzzParseResponse: arbitrary response bodies never panic, every rejection
// wraps exactly one of ErrUnavailable or a token sentinel, and an accepted
// response always carries our audience and live times.
func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{
		activeBody,
		`{"active":false}`,
		`{"active":true,"aud":["x","https://mcp.example.com/mcp"],"exp":1767229200.25,"nbf":0}`,
		`{"active":true,"aud":"https://mcp.example.com/mcp","cnf":{}}`,
		`{"active":"true"}`, `{"active":true,"active":false}`, `[]`, `null`, `{"exp":1e999}`,
		`{"active":true,"aud":"https://mcp.example.com/mcp","exp":-0.5,"iat":"1"}`,
	} {
		f.Add([]byte(s))
	}
	ck := checks{issuer: testIss, audience: []string{testAud}, leeway: DefaultLeeway}
	now := time.Unix(1767225600, 0)
	f.Fuzz(func(t *testing.T, body []byte) {
		r, raw, err := parseResponse(body)
		if err != nil {
			if !errors.Is(err, core.ErrUnavailable) {
				t.Fatalf("parse error %v does not wrap ErrUnavailable", err)
			}
			return
		}
		c, err := claimsFrom(r, raw, ck, now)
		if err != nil {
			if errors.Is(err, core.ErrUnavailable) {
				t.Fatalf("claim error %v wraps ErrUnavailable", err)
			}
			return
		}
		if !*r.Active {
			t.Fatal("inactive response accepted")
		}
		if !slices.Contains(c.Audience, testAud) {
			t.Fatalf("accepted audience %q", c.Audience)
		}
		if c.Issuer != testIss {
			t.Fatalf("accepted issuer %q", c.Issuer)
		}
		if !c.Expiry.IsZero() && !now.Before(c.Expiry.Add(DefaultLeeway)) {
			t.Fatal("accepted expired response")
		}
	})
}
