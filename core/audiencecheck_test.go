package core

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

type audVerifier struct {
	fakeVerifier
	auds []string
}

func (a audVerifier) Audiences() []string { return a.auds }

func TestResourceAudienceCrossCheck(t *testing.T) {
	res := testConfig().Resource
	tests := []struct {
		name string
		v    TokenVerifier
		want string // substring of the Warn line; "" = no warning
	}{
		{"match", audVerifier{auds: []string{"other", res}}, ""},
		{"no lister", fakeVerifier{}, ""},
		{"trailing slash", audVerifier{auds: []string{res + "/"}}, "only in case or a trailing slash"},
		{"entra guid", audVerifier{auds: []string{"6e74172b-be56-4843-9ff4-e66a39bb12e3"}}, "Entra ID v2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			_, err := New(func() Config {
				c := testConfig()
				c.Verifier = tc.v
				c.Logger = slog.New(slog.NewTextHandler(&buf, nil))
				return c
			}())
			if err != nil {
				t.Fatal(err)
			}
			got := buf.String()
			if tc.want == "" {
				if got != "" {
					t.Fatalf("unexpected log: %s", got)
				}
				if err := CheckResourceAudience(res, tc.v); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !strings.Contains(got, "level=WARN") || !strings.Contains(got, tc.want) || !strings.Contains(got, res) {
				t.Fatalf("log %q lacks %q", got, tc.want)
			}
			if err := CheckResourceAudience(res, tc.v); !errors.Is(err, ErrResourceAudience) {
				t.Fatalf("CheckResourceAudience = %v", err)
			}
		})
	}
}
