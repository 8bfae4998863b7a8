// Package demotest is the smoke test every framework example runs against
// itself: the unauthenticated challenge, the metadata document at the origin
// root, and real go-sdk client sessions with coretest-minted tokens whose
// tool lists and calls follow the casbinmodels "scopes" sample policy.
package demotest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
	"github.com/mcpauthz/mcpauthz/examples/internal/demo"
)

// Smoke checks the example server at base ("http://127.0.0.1:port"), whose
// Guard trusts idp and protects base+"/mcp".
func Smoke(t *testing.T, base string, idp *coretest.IdP) {
	t.Helper()
	resource := base + "/mcp"
	metadataURL := base + "/.well-known/oauth-protected-resource/mcp"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// 1. No token: 401 with resource_metadata pointing at the origin root.
	init := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"smoke","version":"1"}}}`
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, resource, strings.NewReader(init))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	ch, err := core.ParseChallenge(resp.Header.Get("WWW-Authenticate"))
	if resp.StatusCode != http.StatusUnauthorized || err != nil || ch["resource_metadata"] != metadataURL {
		t.Fatalf("without token: %d %q (%v)", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), err)
	}

	// 2. The metadata document names the resource and the issuer.
	resp, err = http.Get(metadataURL)
	if err != nil {
		t.Fatal(err)
	}
	var md struct {
		Resource             string   `json:"resource"`
		AuthorizationServers []string `json:"authorization_servers"`
	}
	err = json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&md)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || md.Resource != resource || !slices.Equal(md.AuthorizationServers, []string{idp.Issuer()}) {
		t.Fatalf("metadata: %d %+v (%v)", resp.StatusCode, md, err)
	}

	// 3. go-sdk sessions: lists are filtered, calls decided by the policy.
	tests := []struct {
		name      string
		groups    []string
		scope     string
		wantTools []string
		call      string
		wantText  string // "" = the call must fail
	}{
		{"user sees echo only", nil, "mcp:tools", []string{"echo"}, "echo", "hi"},
		{"engineer sees deploy", []string{"engineering"}, "mcp:tools", []string{"deploy", "echo"}, "deploy", ""},
		{"engineer with deploy scope", []string{"engineering"}, "mcp:tools mcp:deploy", []string{"deploy", "echo"}, "deploy", "deployed"},
	}
	for _, tt := range tests {
		claims := map[string]any{"aud": resource, "sub": "alice", "client_id": "smoke", "scope": tt.scope}
		if tt.groups != nil {
			claims["groups"] = tt.groups
		}
		cs := connect(ctx, t, resource, idp.Mint(claims))
		lt, err := cs.ListTools(ctx, nil)
		if err != nil {
			t.Fatalf("%s: tools/list: %v", tt.name, err)
		}
		var names []string
		for _, tool := range lt.Tools {
			names = append(names, tool.Name)
		}
		slices.Sort(names)
		if !slices.Equal(names, tt.wantTools) {
			t.Errorf("%s: tools %q, want %q", tt.name, names, tt.wantTools)
		}
		params := &mcp.CallToolParams{Name: tt.call, Arguments: map[string]any{}}
		if tt.call == "echo" {
			params.Arguments = map[string]any{"text": "hi"}
		}
		res, err := cs.CallTool(ctx, params)
		switch {
		case tt.wantText == "" && err == nil:
			t.Errorf("%s: %s succeeded", tt.name, tt.call)
		case tt.wantText != "" && err != nil:
			t.Errorf("%s: %s: %v", tt.name, tt.call, err)
		case tt.wantText != "" && (res.IsError || len(res.Content) != 1 || !isText(res.Content[0], tt.wantText)):
			b, _ := json.Marshal(res)
			t.Errorf("%s: %s returned %s", tt.name, tt.call, b)
		}
		_ = cs.Close()
	}
}

func isText(c mcp.Content, want string) bool {
	tc, ok := c.(*mcp.TextContent)
	return ok && tc.Text == want
}

func connect(ctx context.Context, t *testing.T, endpoint, token string) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "smoke", Version: "1.0.0"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:   endpoint,
		HTTPClient: &http.Client{Transport: bearer{token}, Timeout: 20 * time.Second},
		MaxRetries: -1,
	}, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	return cs
}

// bearer adds the access token to every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

// Start runs the example called name (demo.Run with build) on 127.0.0.1:0
// with the IdP as issuer, waits until it listens and returns its base URL;
// the server stops when the test ends.
func Start(t *testing.T, idp *coretest.IdP, name string, build demo.Build) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan struct{})
	var runErr error
	go func() {
		defer close(done)
		runErr = demo.Run(ctx, name, []string{"-addr", "127.0.0.1:0", "-issuer", idp.Issuer()}, nil, func(a string) { addrc <- a }, build)
	}()
	t.Cleanup(func() {
		// The client's pool may hold a connection it dialed and never used
		// (a request found another idle one first). fasthttp's shutdown
		// waits for such a connection until its timeout, so close them first.
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
		cancel()
		<-done
		if runErr != nil {
			t.Errorf("server: %v", runErr)
		}
	})
	select {
	case a := <-addrc:
		return "http://" + a
	case <-done:
		t.Fatalf("server did not start: %v", runErr)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start in 10s")
	}
	return ""
}
