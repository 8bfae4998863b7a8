package client

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// TestTokenResponseScopeBounded (attack-4): a hostile authorization server
// answered a token request with a 256 KiB "scope" of 62,000 distinct
// scopes, deduplicated pairwise: 35 s of the client's CPU per token
// response. A scope string of more than maxScopes scopes (duplicates
// included) is now an invalid token response; maxScopes itself is fine.
func TestTokenResponseScopeBounded(t *testing.T) {
	t.Parallel()
	scopes := func(n int, distinct bool) string {
		var b strings.Builder
		for i := range n {
			if distinct {
				b.WriteString("s" + strconv.Itoa(i))
			} else {
				b.WriteString("mcp:tools")
			}
			b.WriteByte(' ')
		}
		return b.String()
	}
	for _, tc := range []struct {
		name  string
		scope string
		ok    bool
	}{
		{"at the bound", scopes(maxScopes, true), true},
		{"62,000 distinct (256 KiB)", scopes(62000, true), false},
		{"one over, duplicates", scopes(maxScopes+1, false), false},
	} {
		as := newFakeAS(t, func(recorded) (int, any) {
			return 200, map[string]any{"access_token": "at", "token_type": "Bearer", "scope": tc.scope}
		})
		rs := newFakeRS(t, as.srv.URL)
		g, err := NewClientCredentials(ClientCredentialsConfig{Credentials: Credentials{ClientID: "c1", ClientSecret: "s"}})
		if err != nil {
			t.Fatal(err)
		}
		err = mustNew(t, Config{ServerURL: rs.url(), Grant: g}).Authorize(context.Background())
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrTokenResponse)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if s, err := parseScope(scopes(maxScopes, true) + "s0 s1"); err == nil || s != nil {
		t.Errorf("duplicates past the bound: %d scopes, %v", len(s), err)
	}
}

// TestOAuthErrorBounded (attack-4): the grants log a failed token request
// with its error text, and an *OAuthError carried the server's
// error_description whole (up to the 256 KiB response bound): a hostile or
// broken authorization server wrote 256 KiB log lines. Its strings are
// now cut to a log field's bound.
func TestOAuthErrorBounded(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("d", 80<<10)
	as := newFakeAS(t, func(recorded) (int, any) {
		return 400, map[string]any{"error": "invalid_client" + long, "error_description": long, "error_uri": "https://x/" + long}
	})
	rs := newFakeRS(t, as.srv.URL)
	g, err := NewClientCredentials(ClientCredentialsConfig{Credentials: Credentials{ClientID: "c1", ClientSecret: "s"}})
	if err != nil {
		t.Fatal(err)
	}
	err = mustNew(t, Config{ServerURL: rs.url(), Grant: g}).Authorize(context.Background())
	var oe *OAuthError
	if !errors.As(err, &oe) {
		t.Fatalf("%v", err)
	}
	if n := len(oe.Code) + len(oe.Description) + len(oe.URI); n > 3*1024 {
		t.Errorf("OAuthError holds %d bytes of the server's text", n)
	}
	if len(err.Error()) > 2*1024 {
		t.Errorf("error text is %d bytes", len(err.Error()))
	}
}
