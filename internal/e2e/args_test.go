package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/core/inspect"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// Issue 15 proof: the arguments the policy saw are exactly the arguments
// the go-sdk tool handler executed with, and a denied call never runs.

// argsDecls declares, for the abac_args sample policy, the deploy and git
// arguments plus a nested one (target.region) the policy does not use.
func argsDecls(t testing.TB) *inspect.ArgDecls {
	t.Helper()
	d, err := inspect.NewArgDecls([]inspect.ToolArgs{
		{Tool: "deploy", Args: []inspect.ArgSpec{
			{Name: "environment", Type: inspect.ArgString, MaxBytes: 32},
			{Name: "service", Type: inspect.ArgString, Default: ""},
			{Name: "region", Path: []string{"target", "region"}, Type: inspect.ArgString, Default: ""},
		}},
		{Tool: "git_*", Args: []inspect.ArgSpec{{Name: "repo", Type: inspect.ArgString}}},
		{Tool: "tickets_*", Args: []inspect.ArgSpec{
			{Name: "queue", Type: inspect.ArgString},
			{Name: "labels", Type: inspect.ArgStringList, Default: []string{}},
		}},
	}, inspect.ResourceArgs{Template: "docs://payroll/{year}", Args: []inspect.ArgSpec{{Name: "year", Type: inspect.ArgNumber}}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// seenAuthorizer records the arguments of the last allowed decision.
type seenAuthorizer struct {
	a     core.Authorizer
	mu    sync.Mutex
	seen  map[string]any
	calls int // tools/call decisions asked for
}

func (s *seenAuthorizer) Authorize(ctx context.Context, p *core.Principal, perm core.Permission) (core.Decision, error) {
	d, err := s.a.Authorize(ctx, p, perm)
	if perm.Kind == core.ObjectTool {
		s.mu.Lock()
		s.calls++
		if err == nil && d.Allow {
			s.seen = perm.Args
		}
		s.mu.Unlock()
	}
	return d, err
}

func (s *seenAuthorizer) take() (map[string]any, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, n := s.seen, s.calls
	s.seen, s.calls = nil, 0
	return m, n
}

// execRecorder keeps what each tool handler executed with, as the declared
// names.
type execRecorder struct {
	mu  sync.Mutex
	ran []map[string]any
}

func (r *execRecorder) add(m map[string]any) {
	r.mu.Lock()
	r.ran = append(r.ran, m)
	r.mu.Unlock()
}

func (r *execRecorder) take() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.ran
	r.ran = nil
	return out
}

type deployIn struct {
	Environment string `json:"environment,omitempty"`
	Service     string `json:"service,omitempty"`
	Target      *struct {
		Region string `json:"region,omitempty"`
	} `json:"target,omitempty"`
}

func argsServer(rec *execRecorder) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "e2e-args", Version: "1.0.0"}, nil)
	// deploy: a typed handler (the SDK decodes the arguments into a struct,
	// case-insensitively, with encoding/json).
	mcp.AddTool(s, &mcp.Tool{Name: "deploy"}, func(_ context.Context, _ *mcp.CallToolRequest, in deployIn) (*mcp.CallToolResult, any, error) {
		region := ""
		if in.Target != nil {
			region = in.Target.Region
		}
		rec.add(map[string]any{"environment": in.Environment, "service": in.Service, "region": region})
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "deployed"}}}, nil, nil
	})
	// git_push, tickets_read: raw handlers decoding the arguments with
	// encoding/json into a map.
	for _, name := range []string{"git_push", "tickets_read"} {
		s.AddTool(&mcp.Tool{Name: name, InputSchema: map[string]any{"type": "object"}},
			func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				var m map[string]any
				if err := json.Unmarshal(req.Params.Arguments, &m); err != nil {
					return nil, err
				}
				got := map[string]any{}
				if v, ok := m["repo"]; ok {
					got["repo"] = v
				}
				if v, ok := m["queue"]; ok {
					got["queue"] = v
				}
				if name == "tickets_read" {
					labels := []string{}
					if l, ok := m["labels"].([]any); ok {
						for _, x := range l {
							s, _ := x.(string)
							labels = append(labels, s)
						}
					}
					got["labels"] = labels
				}
				rec.add(got)
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: name}}}, nil
			})
	}
	return s
}

func TestArgumentsSeenEqualExecuted(t *testing.T) {
	idp := coretest.NewIdP(t)
	model, _ := casbinmodels.Model("abac_args")
	pol, _ := casbinmodels.SamplePolicy("abac_args")
	decls := argsDecls(t)
	ca, err := casbinauthz.New(casbinauthz.Config{Model: model, Source: casbinauthz.StringSource(pol), Args: decls})
	if err != nil {
		t.Fatal(err)
	}
	auth := &seenAuthorizer{a: ca}
	var evMu sync.Mutex
	var events []core.DecisionEvent
	g, err := core.New(core.Config{
		Resource: resource, Verifier: idp.Verifier(t, resource), Authorizer: auth,
		MaxBodyBytes: 64 << 10,
		Metadata:     core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}},
		Inspect:      inspect.Options{Args: decls},
		Audit: core.AuditFunc(func(_ context.Context, ev core.DecisionEvent) {
			evMu.Lock()
			events = append(events, ev)
			evMu.Unlock()
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := &execRecorder{}
	srv := argsServer(rec)
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	mux := http.NewServeMux()
	httpmcp.Register(mux, g, h)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	mint := func(sub string, groups []string, scope string) string {
		c := map[string]any{"aud": resource, "sub": sub, "client_id": "test-client", "groups": groups}
		if scope != "" {
			c["scope"] = scope
		}
		return idp.Mint(c)
	}
	e := &env{url: ts.URL + g.ResourcePath()}
	alice := mint("alice", []string{"engineering"}, "mcp:git:write")
	carol := mint("carol", []string{"admins"}, "")
	carolProd := mint("carol", []string{"admins"}, "mcp:deploy:prod")
	bot := idp.Mint(map[string]any{"aud": resource, "sub": "support-bot", "client_id": "support-bot"})

	const (
		allow = 200
		deny  = 403
		bad   = 400
	)
	cases := []struct {
		name, token, tool, args string
		status                  int
		scope                   string // expected in the insufficient_scope challenge
	}{
		{"plain staging", alice, "deploy", `{"environment":"staging","service":"api"}`, allow, ""},
		{"production denied", alice, "deploy", `{"environment":"production","service":"api"}`, deny, ""},
		{"escaped value", alice, "deploy", `{"environment":"st\u0061ging"}`, allow, ""},
		{"escaped key production", alice, "deploy", `{"environ\u006dent":"production"}`, deny, ""},
		{"duplicate key", alice, "deploy", `{"environment":"staging","environment":"production"}`, bad, ""},
		{"escaped duplicate", alice, "deploy", `{"environment":"staging","\u0065nvironment":"production"}`, bad, ""},
		{"case variant", alice, "deploy", `{"environment":"staging","Environment":"production"}`, bad, ""},
		{"lone case variant", alice, "deploy", `{"ENVIRONMENT":"production"}`, bad, ""},
		{"escaped case variant", alice, "deploy", `{"\u0045nvironment":"production"}`, bad, ""},
		{"case variant of a defaulted argument", alice, "deploy", `{"environment":"staging","SERVICE":"web-x"}`, bad, ""},
		{"kelvin in nested key", alice, "deploy", `{"environment":"staging","target":{"region":"eu","REGION":"us"}}`, bad, ""},
		{"nested duplicate", alice, "deploy", `{"environment":"staging","target":{"region":"eu","region":"us"}}`, bad, ""},
		{"nested", alice, "deploy", `{"environment":"staging","target":{"region":"us-\u0065ast"}}`, allow, ""},
		{"nul suffix", alice, "deploy", `{"environment":"staging\u0000"}`, deny, ""},
		{"surrogate pair", alice, "deploy", `{"environment":"staging","service":"\ud83d\ude00"}`, allow, ""},
		{"lone surrogate", alice, "deploy", `{"environment":"staging","service":"\ud83d"}`, bad, ""},
		{"mistyped", alice, "deploy", `{"environment":["staging"]}`, bad, ""},
		{"null", alice, "deploy", `{"environment":null}`, bad, ""},
		{"missing", alice, "deploy", `{"service":"api"}`, deny, ""},
		{"no arguments", alice, "deploy", ``, deny, ""},
		{"oversized", alice, "deploy", `{"environment":"` + strings.Repeat("s", 33) + `"}`, bad, ""},
		{"carol production needs step-up", carol, "deploy", `{"environment":"production"}`, deny, "mcp:deploy:prod"},
		{"carol production with scope", carolProd, "deploy", `{"environment":"production"}`, allow, ""},
		{"push web", alice, "git_push", `{"repo":"acme/web"}`, allow, ""},
		{"push infra", alice, "git_push", `{"repo":"acme/infra-core"}`, deny, ""},
		{"push infra escaped", alice, "git_push", `{"repo":"acme\/infra-core"}`, deny, ""},
		{"push missing repo (deny rule reads it)", alice, "git_push", `{"rep0":"acme/infra-core"}`, deny, ""},
		{"bot queue", bot, "tickets_read", `{"queue":"support","labels":["billing"]}`, allow, ""},
		{"bot security label", bot, "tickets_read", `{"queue":"support","labels":["billing","security"]}`, deny, ""},
		{"bot default labels", bot, "tickets_read", `{"queue":"support"}`, allow, ""},
		{"bot labels mistyped", bot, "tickets_read", `{"queue":"support","labels":"security"}`, bad, ""},
		{"params Arguments variant", alice, "deploy", `!{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"deploy","Arguments":{"environment":"production"}}}`, bad, ""},
	}
	for _, c := range cases {
		body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + c.tool + `"`
		if c.args != "" {
			body += `,"arguments":` + c.args
		}
		body += `}}`
		if strings.HasPrefix(c.args, "!") {
			body = c.args[1:]
		}
		r := e.send(t, http.MethodPost, c.token, []byte(body))
		ran := rec.take()
		seen, asked := auth.take()
		if r.status != c.status {
			t.Errorf("%s: status %d, want %d (%s)", c.name, r.status, c.status, r.body)
			continue
		}
		switch c.status {
		case allow:
			if len(ran) != 1 {
				t.Errorf("%s: allowed but handler ran %d times (%s)", c.name, len(ran), r.body)
				continue
			}
			if !reflect.DeepEqual(seen, ran[0]) {
				t.Errorf("%s: policy saw %#v, handler executed %#v", c.name, seen, ran[0])
			}
		default:
			if len(ran) != 0 {
				t.Errorf("%s: refused with %d but the handler ran with %v", c.name, r.status, ran)
			}
		}
		if c.status == bad && !strings.Contains(string(r.body), "-32") {
			t.Errorf("%s: 400 without a JSON-RPC error: %s", c.name, r.body)
		}
		// Refused requests (malformed, mistyped, oversized) and missing
		// required arguments never reach the policy.
		if (c.status == bad || strings.HasPrefix(c.name, "missing") || c.name == "no arguments") && asked != 0 {
			t.Errorf("%s: the policy was asked %d times", c.name, asked)
		}
		if c.scope != "" && !strings.Contains(r.header.Get("WWW-Authenticate"), c.scope) {
			t.Errorf("%s: challenge %q does not name %s", c.name, r.header.Get("WWW-Authenticate"), c.scope)
		}
	}
	// Audit: declared values only, never undeclared ones.
	r := e.send(t, http.MethodPost, alice, []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"deploy","arguments":{"environment":"production","secret_token":"hunter2"}}}`))
	if r.status != deny {
		t.Fatalf("status %d", r.status)
	}
	evMu.Lock()
	last := events[len(events)-1]
	evMu.Unlock()
	if !strings.Contains(last.Args, `environment="production"`) || strings.Contains(last.Args, "hunter2") || strings.Contains(last.Args, "secret_token") {
		t.Errorf("audit args %q", last.Args)
	}
}
