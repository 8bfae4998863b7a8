package client

import (
	"strings"
	"testing"
	"time"
)

func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"mcp:tools mcp:write", "  a  b a ", "", "a\tb", "é", `a"b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		scopes, err := parseScope(s)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, sc := range scopes {
			if sc == "" || strings.ContainsAny(sc, " \t\"\\") || seen[sc] {
				t.Fatalf("bad scope %q in %q", sc, scopes)
			}
			seen[sc] = true
		}
		again, err := parseScope(strings.Join(scopes, " "))
		if err != nil || len(again) != len(scopes) {
			t.Fatalf("round trip: %v %v", again, err)
		}
	})
}

func FuzzTokenResponse(f *testing.F) {
	for _, s := range []string{
		`{"access_token":"a","token_type":"Bearer","expires_in":3600,"scope":"x y"}`,
		`{"access_token":"a","issued_token_type":"urn:ietf:params:oauth:token-type:id-jag","token_type":"N_A"}`,
		`{"access_token":"a","token_type":"bearer","expires_in":1e3}`,
		`{"access_token":"a","access_token":"b"}`, `[]`, `{"expires_in":"12"}`,
	} {
		f.Add([]byte(s))
	}
	now := time.Unix(1_800_000_000, 0)
	f.Fuzz(func(t *testing.T, data []byte) {
		var tr tokenResponse
		if err := decodeStrict(data, &tr); err != nil {
			return
		}
		tok, err := tr.toToken("token", nil, now)
		if err != nil {
			return
		}
		if tok.TokenType != "Bearer" || (!tok.Expiry.IsZero() && tok.Expiry.Before(now)) {
			t.Fatalf("accepted bad token %+v", tok)
		}
	})
}

func FuzzMetadata(f *testing.F) {
	f.Add([]byte(`{"issuer":"https://a","token_endpoint":"https://a/token","grant_types_supported":["client_credentials"]}`))
	f.Add([]byte(`{"resource":"https://r/mcp","authorization_servers":["https://a"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var m AuthServerMetadata
		_ = decodeStrict(data, &m)
		var p ProtectedResourceMetadata
		_ = decodeStrict(data, &p)
		_, _ = checkURL(m.TokenEndpoint, false)
		_, _ = checkURL(p.Resource, false)
	})
}
