package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/yosida95/uritemplate/v3"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/core/inspect"
	"github.com/mcpauthz/mcpauthz/coretest"
)

// resourceSeen records what the policy saw for resource reads.
type resourceSeen struct {
	a     core.Authorizer
	mu    sync.Mutex
	uri   string
	args  map[string]any
	asked int
}

func (s *resourceSeen) Authorize(ctx context.Context, p *core.Principal, perm core.Permission) (core.Decision, error) {
	d, err := s.a.Authorize(ctx, p, perm)
	if perm.Kind == core.ObjectResource && !perm.Listing {
		s.mu.Lock()
		s.asked++
		if err == nil && d.Allow {
			s.uri, s.args = perm.Name, perm.Args
		}
		s.mu.Unlock()
	}
	return d, err
}

func (s *resourceSeen) take() (string, map[string]any, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, a, n := s.uri, s.args, s.asked
	s.uri, s.args, s.asked = "", nil, 0
	return u, a, n
}

// Issue 15 proof for resource URI templates: a real go-sdk server routes
// resources/read to the template handler, which extracts the variable the
// way a handler does (the SDK's URI-template library). For every allowed
// read, the URI and the typed variable the policy saw equal what the
// handler executed; a refused or denied read never runs.
func TestResourceTemplateSeenEqualExecuted(t *testing.T) {
	idp := coretest.NewIdP(t)
	model, _ := casbinmodels.Model("abac_args")
	pol, _ := casbinmodels.SamplePolicy("abac_args")
	decls := argsDecls(t)
	ca, err := casbinauthz.New(casbinauthz.Config{Model: model, Source: casbinauthz.StringSource(pol), Args: decls})
	if err != nil {
		t.Fatal(err)
	}
	auth := &resourceSeen{a: ca}
	g, err := core.New(core.Config{
		Resource: resource, Verifier: idp.Verifier(t, resource), Authorizer: auth,
		Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{idp.Issuer()}},
		Inspect:  inspect.Options{Args: decls},
	})
	if err != nil {
		t.Fatal(err)
	}
	type run struct {
		uri  string
		year float64
	}
	var mu sync.Mutex
	var ran []run
	tmpl := uritemplate.MustNew("docs://payroll/{year}")
	srv := mcp.NewServer(&mcp.Implementation{Name: "e2e-resources", Version: "1.0.0"}, nil)
	srv.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: "docs://payroll/{year}", Name: "payroll"},
		func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			year, err := strconv.ParseFloat(tmpl.Match(req.Params.URI).Get("year").String(), 64)
			if err != nil {
				year = -1
			}
			mu.Lock()
			ran = append(ran, run{req.Params.URI, year})
			mu.Unlock()
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: "payroll"}}}, nil
		})
	static := func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: "static"}}}, nil
	}
	srv.AddResource(&mcp.Resource{URI: "docs://handbook", Name: "handbook"}, static)
	// Concrete payroll URIs in resources/list carry their template's
	// variable in list filtering.
	srv.AddResource(&mcp.Resource{URI: "docs://payroll/2019", Name: "payroll-2019"}, static)
	srv.AddResource(&mcp.Resource{URI: "docs://payroll/2025", Name: "payroll-2025"}, static)
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
	mux := http.NewServeMux()
	httpmcp.Register(mux, g, h)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	e := &env{url: ts.URL + g.ResourcePath()}
	mint := func(sub, group string) string {
		return idp.Mint(map[string]any{"aud": resource, "sub": sub, "client_id": "test-client", "groups": []string{group}})
	}
	frank, carol := mint("frank", "finance"), mint("carol", "hr")

	for _, c := range []struct {
		name, token, uri string // uri as JSON string content (escapes allowed)
		status           int    // 0: any refusal (not 200)
		year             float64
	}{
		{"finance 2024", frank, "docs://payroll/2024", 200, 2024},
		// escaped unreserved characters are not in normal form: another
		// spelling of docs://payroll/2024 that an object glob or deny rule
		// would not see (TestResourceDenyRuleSpelling)
		{"percent-encoded digits", frank, "docs://payroll/%32%30%32%34", 400, 0},
		{"JSON-escaped URI", frank, `docs:\/\/payroll\/\u00320\u00324`, 200, 2024},
		{"archived year", frank, "docs://payroll/2019", 403, 0},
		{"outside finance", carol, "docs://payroll/2024", 403, 0},
		{"encoded slash", frank, "docs://payroll/..%2F2024", 400, 0},
		{"encoded traversal", frank, "docs://payroll/2024%2F..%2F2019", 400, 0},
		{"encoded dot segment", frank, "docs://payroll/%2E%2E", 400, 0},
		{"double encoding decoded once", frank, "docs://payroll/%25322024", 400, 0},
		{"non-UTF-8", frank, "docs://payroll/%FF", 400, 0},
		{"mistyped year", frank, "docs://payroll/twenty", 400, 0},
		{"leading zero", frank, "docs://payroll/02024", 400, 0},
		{"query", frank, "docs://payroll/2024?all=1", 400, 0},
		{"extra segment (no template: the condition cannot be evaluated)", frank, "docs://payroll/2024/x", 0, 0},
		{"case variant scheme", frank, "DOCS://payroll/2024", 0, 0},
	} {
		body := `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"` + c.uri + `"}}`
		r := e.send(t, http.MethodPost, c.token, []byte(body))
		mu.Lock()
		got := ran
		ran = nil
		mu.Unlock()
		uri, seen, asked := auth.take()
		if (c.status != 0 && r.status != c.status) || (c.status == 0 && r.status == 200) {
			t.Errorf("%s: status %d, want %d (%s)", c.name, r.status, c.status, r.body)
			continue
		}
		if c.status != 200 {
			if len(got) != 0 {
				t.Errorf("%s: refused with %d but the handler ran: %v", c.name, r.status, got)
			}
			if c.status == 400 && asked != 0 {
				t.Errorf("%s: a refused URI reached the policy", c.name)
			}
			continue
		}
		if len(got) != 1 {
			t.Errorf("%s: allowed, handler ran %d times", c.name, len(got))
			continue
		}
		if got[0].uri != uri || seen["year"] != got[0].year || got[0].year != c.year {
			t.Errorf("%s: policy saw %q year=%v, handler executed %q year=%v", c.name, uri, seen["year"], got[0].uri, got[0].year)
		}
	}

	// resources/list: finance sees 2025 (allowed) but not 2019 (archived),
	// hr neither.
	for _, c := range []struct {
		token     string
		see, hide []string
	}{{frank, []string{"docs://payroll/2025"}, []string{"docs://payroll/2019"}}, {carol, nil, []string{"docs://payroll/2025", "docs://payroll/2019"}}} {
		r := e.send(t, http.MethodPost, c.token, []byte(`{"jsonrpc":"2.0","id":1,"method":"resources/list"}`))
		for _, u := range c.see {
			if r.status != 200 || !strings.Contains(string(r.body), u) {
				t.Errorf("resources/list: %d %s lacks %s", r.status, r.body, u)
			}
		}
		for _, u := range c.hide {
			if strings.Contains(string(r.body), u) {
				t.Errorf("resources/list: %s shows %s", r.body, u)
			}
		}
	}

	// resources/templates/list: finance sees the payroll template (some
	// years are allowed), hr does not.
	for _, c := range []struct {
		token string
		want  bool
	}{{frank, true}, {carol, false}} {
		r := e.send(t, http.MethodPost, c.token, []byte(`{"jsonrpc":"2.0","id":1,"method":"resources/templates/list"}`))
		if r.status != 200 || strings.Contains(string(r.body), "docs://payroll/{year}") != c.want {
			t.Errorf("templates/list: %d %s, want payroll listed: %v", r.status, r.body, c.want)
		}
	}
}
