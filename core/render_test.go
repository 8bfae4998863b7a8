package core

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// dumpResponse is the golden form of a Response: status line, headers
// sorted by name (values in order), blank line, body.
func dumpResponse(r *Response) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP %d\n", r.Status)
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range r.Header[k] {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	b.WriteString("\n")
	b.Write(r.Body)
	b.WriteString("\n")
	return b.Bytes()
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, d)
	}
}

// TestChallengesGolden runs real requests through Check and Render and
// compares the exact responses with testdata/challenges/*.txt.
func TestChallengesGolden(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	gNoScopes := newGuard(t, func(c *Config) { c.Metadata.ScopesSupported = nil })
	gOrigin := newGuard(t, func(c *Config) { c.AllowedOrigins = []string{"https://app.example.com"} })
	tests := []struct {
		name string
		g    *Guard
		req  *Request
	}{
		{"no_token", g, post("", toolCall("ls"))},
		{"no_token_no_scopes", gNoScopes, post("", toolCall("ls"))},
		{"basic_scheme", g, post("", toolCall("ls"), "Authorization", "Basic YWxpY2U6cHc=")},
		{"expired", g, post("expired.x", toolCall("ls"))},
		{"bad_signature", g, post("badsig.x", toolCall("ls"))},
		{"audience", g, post("aud.x", toolCall("ls"))},
		{"malformed_token", g, post("junk", toolCall("ls"))},
		{"token_in_query", g, &Request{Method: "POST", RawQuery: "access_token=abc", Header: post("", "").Header, Body: []byte(toolCall("ls"))}},
		{"two_authorization_headers", g, post(tokAlice, toolCall("ls"), "Authorization", "Bearer "+tokBob)},
		{"bearer_without_token", g, post("", toolCall("ls"), "Authorization", "Bearer")},
		{"insufficient_scope", g, post(tokAlice, toolCall("deploy"))},
		{"policy_denial", g, post(tokAlice, toolCall("rm"))},
		{"unavailable_keys", g, post("down.x", toolCall("ls"))},
		{"unavailable_policy", g, post(tokAlice, toolCall("down"))},
		{"authorizer_error", g, post(tokAlice, toolCall("boom"))},
		{"too_large", g, &Request{Method: "POST", Header: post(tokAlice, "").Header, BodyTooLarge: true}},
		{"origin", gOrigin, post(tokAlice, toolCall("ls"), "Origin", "https://evil.example")},
		{"wrong_content_type", g, post(tokAlice, toolCall("ls"), "Content-Type", "", "Content-Type", "text/plain")},
		{"method_not_allowed", g, &Request{Method: "PUT", Header: post(tokAlice, "").Header}},
		{"get_on_2026", g, &Request{Method: "GET", Header: post(tokAlice, "", "Mcp-Protocol-Version", "", "Mcp-Protocol-Version", "2026-07-28").Header}},
		{"parse_error", g, post(tokAlice, `{"jsonrpc":"2.0","id":1,"method":"tools/call","Method":"tools/list"}`)},
		{"unsupported_version", g, post(tokAlice, toolCall("ls"), "Mcp-Protocol-Version", "", "Mcp-Protocol-Version", "1900-01-01")},
		{"header_mismatch", g, post(tokAlice, toolCall("ls"), "Mcp-Name", "rm")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := tt.g.Check(context.Background(), tt.req)
			if err == nil {
				t.Fatal("Check allowed the request")
			}
			golden(t, filepath.Join("testdata", "challenges", tt.name+".txt"), dumpResponse(tt.g.Render(err)))
		})
	}
}

// TestRenderKinds checks the status, challenge parameters and body shape of
// every error kind, independently of the golden files.
func TestRenderKinds(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	md := "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
	tests := []struct {
		err        error
		status     int
		challenge  map[string]string // nil = no WWW-Authenticate
		rpcCode    int               // 0 = OAuth JSON body
		rpcID      string
		retryAfter bool
		allow      string
	}{
		{&Error{Kind: KindNoToken}, 401, map[string]string{"resource_metadata": md, "scope": "mcp:tools mcp:resources"}, 0, "", false, ""},
		{&Error{Kind: KindInvalidRequest}, 400, map[string]string{"error": "invalid_request", "error_description": "malformed authorization request", "resource_metadata": md}, 0, "", false, ""},
		{&Error{Kind: KindInvalidToken, Description: "token expired"}, 401, map[string]string{"error": "invalid_token", "error_description": "token expired", "resource_metadata": md}, 0, "", false, ""},
		{&Error{Kind: KindInsufficientScope, Scopes: []string{"a", "b", "bad scope"}, ID: json.RawMessage(`3`)}, 403, map[string]string{"error": "insufficient_scope", "scope": "a b", "resource_metadata": md, "error_description": "insufficient scope"}, DefaultDenyCode, "3", false, ""},
		{&Error{Kind: KindForbidden, ID: json.RawMessage(`"x"`)}, 403, nil, DefaultDenyCode, `"x"`, false, ""},
		{&Error{Kind: KindOrigin}, 403, nil, codeInvalidRequest, "null", false, ""},
		{&Error{Kind: KindSession, ID: json.RawMessage(`1`)}, 404, nil, codeInvalidRequest, "1", false, ""},
		{&Error{Kind: KindTooLarge}, 413, nil, codeInvalidRequest, "null", false, ""},
		{&Error{Kind: KindMessage, Status: 405, Allow: "GET, POST, DELETE"}, 405, nil, codeInvalidRequest, "null", false, "GET, POST, DELETE"},
		{&Error{Kind: KindMessage, Status: 405}, 405, nil, codeInvalidRequest, "null", false, "POST"},
		{&Error{Kind: KindMessage, Status: 415}, 415, nil, codeInvalidRequest, "null", false, ""},
		{&Error{Kind: KindMessage, Status: 404, Code: -32601, ID: json.RawMessage(`{"bad":1}`)}, 404, nil, -32601, "null", false, ""},
		{&Error{Kind: KindMessage, Status: 299}, 400, nil, codeInvalidRequest, "null", false, ""},
		{&Error{Kind: KindUnavailable}, 503, nil, codeInternalError, "null", true, ""},
		{&Error{Kind: KindInternal}, 500, nil, codeInternalError, "null", false, ""},
		{&Error{Kind: KindBadGateway, ID: json.RawMessage(`7`)}, 502, nil, codeInternalError, "7", false, ""},
		{&Error{Kind: KindGatewayTimeout, ID: json.RawMessage(`"t"`)}, 504, nil, codeInternalError, `"t"`, false, ""},
		{&Error{Kind: "bogus"}, 500, nil, codeInvalidRequest, "null", false, ""},
		{errors.New("plain"), 500, nil, codeInternalError, "null", false, ""},
		{nil, 500, nil, codeInternalError, "null", false, ""},
		{fmt.Errorf("wrapped: %w", &Error{Kind: KindNoToken}), 401, map[string]string{"resource_metadata": md, "scope": "mcp:tools mcp:resources"}, 0, "", false, ""},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			r := g.Render(tt.err)
			if r.Status != tt.status {
				t.Errorf("status = %d, want %d", r.Status, tt.status)
			}
			if got := r.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			if got := r.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q", got)
			}
			wa := r.Header.Values("WWW-Authenticate")
			if tt.challenge == nil {
				if len(wa) != 0 {
					t.Errorf("unexpected challenge %q", wa)
				}
			} else {
				if len(wa) != 1 {
					t.Fatalf("challenges = %q", wa)
				}
				got, err := ParseChallenge(wa[0])
				if err != nil {
					t.Fatalf("ParseChallenge(%q): %v", wa[0], err)
				}
				if d := cmp.Diff(tt.challenge, got); d != "" {
					t.Errorf("challenge (-want +got):\n%s", d)
				}
			}
			if (r.Header.Get("Retry-After") != "") != tt.retryAfter {
				t.Errorf("Retry-After = %q", r.Header.Get("Retry-After"))
			}
			if got := r.Header.Get("Allow"); got != tt.allow {
				t.Errorf("Allow = %q, want %q", got, tt.allow)
			}
			if tt.rpcCode == 0 {
				var body map[string]string
				if err := json.Unmarshal(r.Body, &body); err != nil {
					t.Fatalf("body %s: %v", r.Body, err)
				}
				if _, ok := body["error_description"]; !ok {
					t.Errorf("OAuth body without error_description: %s", r.Body)
				}
				return
			}
			var body struct {
				JSONRPC string          `json:"jsonrpc"`
				ID      json.RawMessage `json:"id"`
				Error   struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatalf("body %s: %v", r.Body, err)
			}
			if body.JSONRPC != "2.0" || body.Error.Code != tt.rpcCode || string(body.ID) != tt.rpcID || body.Error.Message == "" {
				t.Errorf("body = %s, want code %d id %s", r.Body, tt.rpcCode, tt.rpcID)
			}
		})
	}
}

// TestRenderNeverLeaksCause: the cause of an error (which may contain token
// bytes) never reaches the response.
func TestRenderNeverLeaksCause(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	for _, k := range []ErrorKind{KindNoToken, KindInvalidRequest, KindInvalidToken, KindInsufficientScope, KindForbidden,
		KindOrigin, KindSession, KindMessage, KindTooLarge, KindUnavailable, KindInternal} {
		r := g.Render(&Error{Kind: k, Err: errors.New("cause " + secretTail)})
		if strings.Contains(string(dumpResponse(r)), secretTail) {
			t.Errorf("%s: cause leaked: %s", k, dumpResponse(r))
		}
	}
}

func TestRenderDenyCode(t *testing.T) {
	t.Parallel()
	g := newGuard(t, func(c *Config) { c.DenyCode = 4003 })
	r := g.Render(&Error{Kind: KindForbidden})
	if !bytes.Contains(r.Body, []byte(`"code":4003`)) {
		t.Errorf("body = %s", r.Body)
	}
	if r.Status != http.StatusForbidden {
		t.Errorf("status = %d", r.Status)
	}
}

// TestRenderLongScopeListCutAtToken: a scope list longer than a challenge
// parameter holds (maxParamLen) is cut after the last whole scope-token,
// never inside one: a client asks the authorization server for every scope
// it reads, and a cut one ("mcp:tools:wea") is a scope nobody grants.
// Both the 401 scope (Config.ChallengeScopes, by default every
// scopes_supported) and the 403 step-up scope are cut that way.
func TestRenderLongScopeListCutAtToken(t *testing.T) {
	t.Parallel()
	var scopes []string
	for i := 0; i < 120; i++ {
		scopes = append(scopes, fmt.Sprintf("mcp:tools:weather%03d", i))
	}
	g := newGuard(t, func(c *Config) { c.ChallengeScopes = scopes })
	tests := []struct {
		name string
		err  error
	}{
		{"no token 401", &Error{Kind: KindNoToken}},
		{"insufficient scope 403", &Error{Kind: KindInsufficientScope, Scopes: scopes}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			params, err := ParseChallenge(g.Render(tc.err).Header.Get("WWW-Authenticate"))
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Split(params["scope"], " ")
			if len(params["scope"]) > maxParamLen || len(got) < 2 {
				t.Fatalf("scope of %d bytes, %d tokens", len(params["scope"]), len(got))
			}
			for _, s := range got {
				if !slices.Contains(scopes, s) {
					t.Fatalf("challenge scope %q is not a configured scope (cut inside a token)", s)
				}
			}
		})
	}
}
