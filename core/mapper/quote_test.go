package mapper

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
)

// TestCheckRefusalTextBounded: a check's refusal quotes the token's value
// with clip.Quote, cut after escaping, so a value of control characters
// (one byte each, four once quoted) keeps the text within its bound; %q of
// a value clipped to 128 bytes was 514 bytes.
func TestCheckRefusalTextBounded(t *testing.T) {
	t.Parallel()
	ctl := strings.Repeat("\u0001", 2048)
	entra := func(name string) Check {
		for _, c := range entraChecks(nil, true, true) {
			if c.Name == name {
				return c
			}
		}
		t.Fatalf("no check %s", name)
		return Check{}
	}
	google := func(name string) Check {
		for _, c := range googleChecks([]string{"example.com"}, true) {
			if c.Name == name {
				return c
			}
		}
		t.Fatalf("no check %s", name)
		return Check{}
	}
	for _, tc := range []struct {
		name   string
		check  Check
		claims map[string]any
		values []string // each quoted in the text
	}{
		{"entra issuer", entra("entra.issuer_tenant"), map[string]any{"iss": ctl, "tid": "72f988bf-86f1-41af-91ab-2d7cd011db47"}, []string{ctl}},
		{"entra tenant", entra("entra.issuer_tenant"), map[string]any{"iss": "https://sts.windows.net/x/", "tid": ctl}, []string{ctl}},
		{"entra both", entra("entra.issuer_tenant"), map[string]any{"iss": ctl, "tid": ctl + "x"}, []string{ctl, ctl + "x"}},
		{"google hd", google("google.hosted_domain"), map[string]any{"sub": "1", "email": "a@b.example", "hd": ctl}, []string{ctl}},
		{"google hd C1", google("google.hosted_domain"), map[string]any{"sub": "1", "email": "a@b.example", "hd": strings.Repeat("\u0085", 1024)}, []string{strings.Repeat("\u0085", 1024)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			js, err := json.Marshal(tc.claims)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.check.Fn(mustClaims(t, string(js)))
			if !errors.Is(err, core.ErrMapping) {
				t.Fatalf("err = %v, want ErrMapping", err)
			}
			text := err.Error()
			bound := 200 // the sentence around the values
			for _, v := range tc.values {
				q := clip.Quote(v, 128)
				if !strings.Contains(text, q) {
					t.Fatalf("%q does not quote the value as %q", text, q)
				}
				bound += 128
			}
			if len(text) > bound {
				t.Fatalf("refusal text is %d bytes, bound %d: %q", len(text), bound, text)
			}
		})
	}
}

// TestEntraIdtypTextBounded: an idtyp other than app or user went into
// the refusal whole (%q), as long as the token allows.
func TestEntraIdtypTextBounded(t *testing.T) {
	t.Parallel()
	for _, v := range []string{strings.Repeat("a", 8<<10), strings.Repeat("\u0001", 2048)} {
		js, err := json.Marshal(map[string]any{"oid": "o", "idtyp": v})
		if err != nil {
			t.Fatal(err)
		}
		_, err = entraIsClient(mustClaims(t, string(js)), "o", "")
		if !errors.Is(err, core.ErrMapping) {
			t.Fatalf("err = %.200v, want ErrMapping", err)
		}
		if text, q := err.Error(), clip.Quote(v, 128); !strings.Contains(text, q) || len(text) > 200+128 {
			t.Errorf("refusal text of %d bytes, want at most %d quoting %s: %.200s", len(text), 200+128, q, text)
		}
	}
}
