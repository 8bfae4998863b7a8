package client

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

func TestParseWWWAuthenticate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []string
		want []Challenge
		err  bool
	}{
		{"bare scheme", []string{"Bearer"}, []Challenge{{Scheme: "Bearer"}}, false},
		{"params", []string{`Bearer realm="mcp", error="invalid_token", resource_metadata="https://x/.well-known/oauth-protected-resource/mcp"`},
			[]Challenge{{Scheme: "Bearer", Params: map[string]string{"realm": "mcp", "error": "invalid_token",
				"resource_metadata": "https://x/.well-known/oauth-protected-resource/mcp"}}}, false},
		{"token values and OWS", []string{"Bearer  error = invalid_token ,scope=\"a b\""},
			[]Challenge{{Scheme: "Bearer", Params: map[string]string{"error": "invalid_token", "scope": "a b"}}}, false},
		{"two challenges one line", []string{`Basic realm="x", Bearer error="insufficient_scope", scope="s"`},
			[]Challenge{{Scheme: "Basic", Params: map[string]string{"realm": "x"}},
				{Scheme: "Bearer", Params: map[string]string{"error": "insufficient_scope", "scope": "s"}}}, false},
		{"token68", []string{"Negotiate abc+/==, Bearer"}, []Challenge{{Scheme: "Negotiate", Token68: "abc+/=="}, {Scheme: "Bearer"}}, false},
		{"escaped quote", []string{`Bearer error_description="say \"hi\" \\ ok"`},
			[]Challenge{{Scheme: "Bearer", Params: map[string]string{"error_description": `say "hi" \ ok`}}}, false},
		{"case-insensitive names", []string{`bearer Scope="a"`}, []Challenge{{Scheme: "bearer", Params: map[string]string{"scope": "a"}}}, false},
		{"empty list elements", []string{` , Bearer realm="a" ,, `}, []Challenge{{Scheme: "Bearer", Params: map[string]string{"realm": "a"}}}, false},
		{"two lines", []string{"Basic", `Bearer realm="b"`}, []Challenge{{Scheme: "Basic"}, {Scheme: "Bearer", Params: map[string]string{"realm": "b"}}}, false},
		{"empty", []string{""}, nil, false},
		{"duplicate param", []string{`Bearer scope="a", Scope="b"`}, nil, true},
		{"unterminated quote", []string{`Bearer scope="a`}, nil, true},
		{"control char", []string{"Bearer scope=\"a\x01\""}, nil, true},
		{"missing value", []string{`Bearer scope=`}, []Challenge{{Scheme: "Bearer", Token68: "scope="}}, false},
		{"garbage after param", []string{`Bearer a=b c`}, nil, true},
		{"bad scheme", []string{`"Bearer"`}, nil, true},
		{"newline", []string{"Bearer realm=\"a\"\r\nX: y"}, nil, true},
		{"too large", []string{"Bearer realm=\"" + strings.Repeat("a", maxChallengeHeaderBytes) + "\""}, nil, true},
		{"too many challenges", []string{strings.Repeat("A, ", maxChallenges+1)}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseWWWAuthenticate(tc.in)
			if tc.err {
				if !errors.Is(err, ErrChallenge) {
					t.Fatalf("err = %v, want ErrChallenge (got %+v)", err, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v\nwant %#v", got, tc.want)
			}
		})
	}
}

func TestParseBearerChallenge(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Add("WWW-Authenticate", `Basic realm="x"`)
	h.Add("WWW-Authenticate", `Bearer error="insufficient_scope", scope="mcp:tools  mcp:write mcp:tools", resource_metadata="https://m/.well-known/oauth-protected-resource"`)
	bc, err := ParseBearerChallenge(h)
	if err != nil {
		t.Fatal(err)
	}
	want := &BearerChallenge{Error: "insufficient_scope", Scope: []string{"mcp:tools", "mcp:write"},
		ResourceMetadata: "https://m/.well-known/oauth-protected-resource"}
	if !reflect.DeepEqual(bc, want) {
		t.Errorf("got %+v", bc)
	}
	for _, bad := range []string{`Bearer scope="a\"b"`, `Bearer abc==`, "Bearer, Bearer"} {
		if _, err := ParseBearerChallenge(http.Header{"Www-Authenticate": {bad}}); !errors.Is(err, ErrChallenge) {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
	if bc, err := ParseBearerChallenge(http.Header{"Www-Authenticate": {`Basic realm="x"`}}); bc != nil || err != nil {
		t.Errorf("no Bearer: %v %v", bc, err)
	}
}

func FuzzParseWWWAuthenticate(f *testing.F) {
	for _, s := range []string{
		`Bearer error="invalid_token", error_description="Missing Authorization header", resource_metadata="http://localhost:1/.well-known/oauth-protected-resource/mcp"`,
		`Bearer scope="a b", resource_metadata="x"`, `Basic realm="x", Bearer`, "Negotiate abc==", `Bearer a="\"\\"`, ",,", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cs, err := ParseWWWAuthenticate([]string{s})
		if err != nil {
			if !errors.Is(err, ErrChallenge) {
				t.Fatalf("error without ErrChallenge: %v", err)
			}
			return
		}
		for _, c := range cs {
			if c.Scheme == "" || (c.Token68 != "" && c.Params != nil) {
				t.Fatalf("bad challenge %+v", c)
			}
			for k := range c.Params {
				if k == "" || k != strings.ToLower(k) {
					t.Fatalf("bad param name %q", k)
				}
			}
		}
		_, _ = ParseBearerChallenge(http.Header{"Www-Authenticate": {s}})
	})
}

// TestChallengeErrorTextBounded: a duplicate parameter's name went into
// the error whole (%q), up to maxChallengeHeaderBytes of the MCP server's
// header; the authorizer returns that error, and the Warn line carries it.
func TestChallengeErrorTextBounded(t *testing.T) {
	t.Parallel()
	name := strings.Repeat("a", 7<<10)
	_, err := ParseWWWAuthenticate([]string{"Bearer " + name + "=1, " + name + "=2"})
	if !errors.Is(err, ErrChallenge) {
		t.Fatalf("err = %.200v, want ErrChallenge", err)
	}
	if n := len(err.Error()); n > core.MaxLogField+128 {
		t.Errorf("error text of %d bytes, want at most %d: %.200s", n, core.MaxLogField+128, err)
	}
}
