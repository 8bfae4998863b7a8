package httpmcp_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// suiteCasbinPolicy expresses coretest.SuitePolicy (for group "eng") in the
// casbinmodels "quickstart" model.
const suiteCasbinPolicy = `p, *, server, connect, allow
p, *, *, list, allow
p, *, tool:ls, call, allow
p, *, tool:echo, call, allow
p, group:eng, tool:deploy, call, allow
p, *, resource:file:///public/*, read, allow
p, *, prompt:greet, get, allow
p2, mcp:deploy, tool:deploy, call
`

func casbinAuthorizer(t testing.TB) core.Authorizer {
	t.Helper()
	model, err := casbinmodels.Model("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	a, err := casbinauthz.New(casbinauthz.Config{Model: model, Source: casbinauthz.StringSource(suiteCasbinPolicy)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestCasbinEndToEnd runs the real stack: coretest IdP → core/verifier →
// default mapper → casbinauthz (quickstart model) → go-sdk server.
func TestCasbinEndToEnd(t *testing.T) {
	t.Parallel()
	idp := coretest.NewIdP(t)
	const resource = "https://mcp.example.com/mcp"
	g, err := core.New(core.Config{
		Resource:   resource,
		Verifier:   idp.Verifier(t, resource),
		Authorizer: casbinAuthorizer(t),
		Metadata:   core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	httpmcp.Register(mux, g, coretest.NewSpy(true, true))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	alice := idp.Mint(map[string]any{"aud": resource, "sub": "alice", "groups": []string{"eng"}})
	aliceDeploy := idp.Mint(map[string]any{"aud": resource, "sub": "alice", "groups": []string{"eng"}, "scope": "mcp:deploy"})
	bob := idp.Mint(map[string]any{"aud": resource, "sub": "bob"})
	post := func(tok, body string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/mcp", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	tool := func(n string) string {
		return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + n + `","arguments":{}}}`
	}
	for _, tt := range []struct {
		tok, body string
		status    int
		scope     string
	}{
		{alice, tool("ls"), 200, ""},
		{alice, tool("rm"), 403, ""},
		{alice, tool("deploy"), 403, "mcp:deploy"},
		{aliceDeploy, tool("deploy"), 200, ""},
		{bob, tool("deploy"), 403, ""},
		{alice, `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"` + coretest.PublicResource + `"}}`, 200, ""},
		{alice, `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"` + coretest.SecretResource + `"}}`, 403, ""},
	} {
		resp, body := post(tt.tok, tt.body)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d %s", tt.body, resp.StatusCode, body)
			continue
		}
		ch, _ := core.ParseChallenge(resp.Header.Get("WWW-Authenticate"))
		if ch["scope"] != tt.scope {
			t.Errorf("%s: challenge %q", tt.body, resp.Header.Get("WWW-Authenticate"))
		}
	}
	for tok, want := range map[string][]string{alice: {"deploy", "echo", "ls"}, bob: {"echo", "ls"}} {
		_, body := post(tok, `{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}`)
		var r struct {
			Result struct{ Tools []struct{ Name string } } `json:"result"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		var got []string
		for _, tl := range r.Result.Tools {
			got = append(got, tl.Name)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("tools/list = %q, want %q", got, want)
		}
	}
}
