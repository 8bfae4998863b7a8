package core

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// TestExtractBearer is H02 plus the RFC 6750 §2 presentation rules.
func TestExtractBearer(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", MaxTokenBytes+1)
	tests := []struct {
		name    string
		auth    []string
		query   string
		ctype   string
		body    string
		want    string
		wantErr error
	}{
		{"bearer", []string{"Bearer abc.def.ghi"}, "", "", "", "abc.def.ghi", nil},
		{"lowercase bearer", []string{"bearer abc"}, "", "", "", "abc", nil},
		{"uppercase BEARER", []string{"BEARER abc"}, "", "", "", "abc", nil},
		{"several spaces", []string{"Bearer   abc"}, "", "", "", "abc", nil},
		{"token68 padding", []string{"Bearer ab+/c~d-e._f=="}, "", "", "", "ab+/c~d-e._f==", nil},
		{"surrounding OWS", []string{" Bearer abc\t"}, "", "", "", "abc", nil},
		{"no header", nil, "", "", "", "", ErrNoToken},
		{"basic", []string{"Basic YWxpY2U6cHc="}, "", "", "", "", ErrNoToken},
		{"dpop scheme", []string{"DPoP abc"}, "", "", "", "", ErrNoToken},
		{"bearer without token", []string{"Bearer"}, "", "", "", "", ErrMalformedRequest},
		{"bearer space only", []string{"Bearer "}, "", "", "", "", ErrMalformedRequest},
		{"empty header", []string{""}, "", "", "", "", ErrMalformedRequest},
		{"two headers", []string{"Bearer a", "Bearer b"}, "", "", "", "", ErrMalformedRequest},
		{"bearer and basic headers", []string{"Bearer a", "Basic b"}, "", "", "", "", ErrMalformedRequest},
		{"two tokens", []string{"Bearer a b"}, "", "", "", "", ErrMalformedRequest},
		{"comma list", []string{"Bearer a, Basic b"}, "", "", "", "", ErrMalformedRequest},
		{"padding in middle", []string{"Bearer a=b"}, "", "", "", "", ErrMalformedRequest},
		{"quoted", []string{`Bearer "abc"`}, "", "", "", "", ErrMalformedRequest},
		{"tab separator", []string{"Bearer\tabc"}, "", "", "", "", ErrMalformedRequest},
		{"scheme with slash", []string{"Bea/rer abc"}, "", "", "", "", ErrMalformedRequest},
		{"non-ascii token", []string{"Bearer abcé"}, "", "", "", "", ErrMalformedRequest},
		{"too long", []string{"Bearer " + long}, "", "", "", "", ErrMalformedToken},
		{"query token", nil, "access_token=abc", "", "", "", ErrMalformedRequest},
		{"query token with header", []string{"Bearer abc"}, "x=1&access_token=abc", "", "", "", ErrMalformedRequest},
		{"escaped query token", nil, "access%5Ftoken=abc", "", "", "", ErrMalformedRequest},
		{"semicolon query token", nil, "x=1;access_token=abc", "", "", "", ErrMalformedRequest},
		{"query without token", []string{"Bearer abc"}, "access=1&token=2", "", "", "abc", nil},
		{"form token", nil, "", "application/x-www-form-urlencoded", "access_token=abc", "", ErrMalformedRequest},
		{"form token charset", []string{"Bearer abc"}, "", "application/x-www-form-urlencoded; charset=utf-8", "a=1&access_token=abc", "", ErrMalformedRequest},
		{"json body mentioning access_token", []string{"Bearer abc"}, "", "application/json", `{"access_token":"x"}`, "abc", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, v := range tt.auth {
				h.Add("Authorization", v)
			}
			if tt.ctype != "" {
				h.Set("Content-Type", tt.ctype)
			}
			got, err := extractBearer(h, tt.query, []byte(tt.body))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if got != "" {
					t.Errorf("token %q returned with error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// FuzzParseAuthorization: never panics; an accepted token is a token68 of
// bounded length whose bytes appear in the header; errors wrap one of the
// three sentinels.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer a.b.c", "Basic x", "Bearer", "Bearer a b", "", " ", "Bearer a==", "Bearer =", "B\x00 x", "Bearer \xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		tok, err := parseAuthorization(v)
		if err != nil {
			if !errors.Is(err, ErrNoToken) && !errors.Is(err, ErrMalformedRequest) && !errors.Is(err, ErrMalformedToken) {
				t.Fatalf("unexpected error class: %v", err)
			}
			if tok != "" {
				t.Fatal("token with error")
			}
			return
		}
		if !isToken68(tok) || len(tok) > MaxTokenBytes || !strings.Contains(v, tok) {
			t.Fatalf("accepted bad token %q from %q", tok, v)
		}
		scheme, _, _ := strings.Cut(strings.Trim(v, " \t"), " ")
		if !strings.EqualFold(scheme, "bearer") {
			t.Fatalf("accepted scheme %q", scheme)
		}
	})
}

// TestIsToken68Unrolled compares the eight-at-a-time scan with the
// grammar read one character at a time, for every character at every
// position of tokens around the unrolling boundaries.
func TestIsToken68Unrolled(t *testing.T) {
	t.Parallel()
	// Two bases: with and without the token68 characters outside
	// base64url.
	for _, base := range []string{strings.Repeat("aZ0-._~+/", 3), strings.Repeat("azAZ09-_./", 3)} {
		for n := 1; n <= 25; n++ {
			for pos := 0; pos < n; pos++ {
				for c := 0; c < 256; c++ {
					b := []byte(base[:n])
					b[pos] = byte(c)
					if s := string(b); isToken68(s) != token68Ref(s) {
						t.Fatalf("isToken68(%q) = %v", s, !token68Ref(s))
					}
				}
			}
		}
	}
}

// token68Ref is the token68 grammar read one character at a time.
func token68Ref(s string) bool {
	i := 0
	for i < len(s) && isB64TokenChar(s[i]) {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	return i == len(s)
}

// FuzzIsToken68 compares isToken68 with the grammar read one character at
// a time.
func FuzzIsToken68(f *testing.F) {
	for _, s := range []string{"abc", "a.b.c==", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln", "aZ0-._~+/aZ0-._~+/", "=", "ab=c", "abcdefgh\x80bcdefgh", "abcdefg^"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isToken68(s), token68Ref(s); got != want {
			t.Fatalf("isToken68(%q) = %v, want %v", s, got, want)
		}
	})
}

// TestSchemeRefusalTextBounded: the scheme of an Authorization header that
// is not Bearer is quoted into the error with clip.Quote at MaxLogField:
// it was quoted whole, as long as the header (net/http's limit is 1 MB).
func TestSchemeRefusalTextBounded(t *testing.T) {
	t.Parallel()
	for _, scheme := range []string{strings.Repeat("a", 64<<10), strings.Repeat("~", MaxLogField)} {
		_, err := authorizationCandidate(scheme + " x")
		if !errors.Is(err, ErrNoToken) {
			t.Fatalf("err = %v, want ErrNoToken", err)
		}
		if n := len(err.Error()); n > MaxLogField+64 {
			t.Errorf("error text of %d bytes for a %d-byte scheme, want at most %d", n, len(scheme), MaxLogField+64)
		}
	}
}
