package core

import (
	"strings"
	"testing"
)

// sanitize is what quote promises to preserve: printable ASCII kept, every
// other byte replaced by '?', cut at maxParamLen.
func sanitize(s string) string {
	if len(s) > maxParamLen {
		s = s[:maxParamLen]
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

func TestQuote(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", `""`},
		{"token expired", `"token expired"`},
		{`a"b`, `"a\"b"`},
		{`a\b`, `"a\\b"`},
		{"a\r\nSet-Cookie: x", `"a??Set-Cookie: x"`},
		{"é", `"??"`},
		{"\x00\x7f", `"??"`},
	}
	for _, tt := range tests {
		if got := quote(tt.in); got != tt.want {
			t.Errorf("quote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := quote(strings.Repeat("x", 2*maxParamLen)); len(got) != maxParamLen+2 {
		t.Errorf("quote did not cut: %d bytes", len(got))
	}
}

// FuzzQuote: quote always yields one well-formed quoted-string without CTLs
// that unquotes to the sanitized input, and a challenge built from it parses
// back to the same parameters.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"", "a", `"`, `\`, `\"`, "a\r\nb", "é", "scope=\"x\", error=\"y\""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := quote(s)
		for i := 0; i < len(q); i++ {
			if q[i] < 0x20 || q[i] > 0x7e {
				t.Fatalf("quote(%q) contains byte %#x", s, q[i])
			}
		}
		v, rest, err := unquote(q)
		if err != nil || rest != "" {
			t.Fatalf("unquote(quote(%q)) = %q, %q, %v", s, v, rest, err)
		}
		if v != sanitize(s) {
			t.Fatalf("round trip: %q -> %q, want %q", s, v, sanitize(s))
		}
		params, err := ParseChallenge(challenge("error", "invalid_token", "error_description", s, "resource_metadata", "https://x/y"))
		if err != nil {
			t.Fatalf("ParseChallenge: %v", err)
		}
		want := map[string]string{"error": "invalid_token", "resource_metadata": "https://x/y"}
		if s != "" {
			want["error_description"] = sanitize(s)
		}
		if len(params) != len(want) {
			t.Fatalf("params = %q, want %q", params, want)
		}
		for k, v := range want {
			if params[k] != v {
				t.Fatalf("param %s = %q, want %q", k, params[k], v)
			}
		}
	})
}

func TestParseChallengeRejects(t *testing.T) {
	t.Parallel()
	for _, h := range []string{`Basic realm="x"`, `Bearer a=b`, `Bearer a="b`, `Bearer a="b" c="d"`, `Bearer a="b",`, `Bearer a="1", a="2"`, `Bearer ="x"`} {
		if _, err := ParseChallenge(h); err == nil {
			t.Errorf("ParseChallenge(%q) accepted", h)
		}
	}
	if p, err := ParseChallenge("Bearer"); err != nil || len(p) != 0 {
		t.Errorf("bare Bearer: %v %v", p, err)
	}
}
