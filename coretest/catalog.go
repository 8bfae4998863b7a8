package coretest

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauthz/mcpauthz/core"
)

// The suite's MCP catalog and policy. Tools: "ls" and "echo" are allowed to
// everyone, "deploy" needs the scope mcp:deploy (step-up set
// "mcp:tools mcp:deploy"), "rm" is denied. Resources: PublicResource is
// allowed, SecretResource denied. Prompts: "greet" allowed, "admin" denied.
// Connection-level traffic (initialize, lists, GET/DELETE) is allowed. The
// subject "mallory" is denied everything.
const (
	PublicResource = "file:///public/readme.txt"
	SecretResource = "file:///secret/key.txt"
	DeployScope    = "mcp:deploy"
)

// SuiteTools returns the names of the catalog's tools (a fresh slice).
func SuiteTools() []string { return []string{"ls", "echo", "deploy", "rm"} }

// SuitePrompts returns the names of the catalog's prompts (a fresh slice).
func SuitePrompts() []string { return []string{"greet", "admin"} }

// SuiteResources returns the URIs of the catalog's resources (a fresh slice).
func SuiteResources() []string { return []string{PublicResource, SecretResource} }

// SuitePolicy is the Authorizer of the suite's catalog.
type SuitePolicy struct{}

// Authorize implements core.Authorizer.
func (SuitePolicy) Authorize(_ context.Context, p *core.Principal, perm core.Permission) (core.Decision, error) {
	if p.Subject == "mallory" {
		return core.Decision{Reason: "blocked"}, nil
	}
	switch perm.Kind {
	case core.ObjectServer:
		return core.Decision{Allow: true, Rule: "server"}, nil
	case core.ObjectTool:
		switch perm.Name {
		case "ls", "echo":
			return core.Decision{Allow: true, Rule: "tool:" + perm.Name}, nil
		case "deploy":
			if p.HasScope(DeployScope) {
				return core.Decision{Allow: true, Rule: "tool:deploy+scope"}, nil
			}
			return core.Decision{RequiredScopes: []string{"mcp:tools", DeployScope}}, nil
		}
	case core.ObjectResource:
		if perm.Name == PublicResource {
			return core.Decision{Allow: true}, nil
		}
	case core.ObjectPrompt:
		if perm.Name == "greet" {
			return core.Decision{Allow: true}, nil
		}
	}
	return core.Decision{}, nil
}

// Spy wraps the MCP handler and records what reached it.
type Spy struct {
	next http.Handler

	mu       sync.Mutex
	calls    int
	body     []byte
	subject  string
	executed []string
}

func (s *Spy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sub := ""
	if p, ok := core.PrincipalFromContext(r.Context()); ok {
		sub = p.Subject
	}
	s.mu.Lock()
	s.calls++
	s.body, s.subject = body, sub
	s.mu.Unlock()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if v := r.Header.Get(HeaderAddSessionID); v != "" {
		w = &addSessionWriter{ResponseWriter: w, id: v}
	}
	s.next.ServeHTTP(w, r)
}

// HeaderAddSessionID is a request header the suite sends to make the
// [Spy]'s server answer with one more Mcp-Session-Id value (the header's
// value) beside its own: a handler colliding with the session binding.
const HeaderAddSessionID = "X-Coretest-Add-Session-Id"

// addSessionWriter adds an Mcp-Session-Id value when the header is written.
type addSessionWriter struct {
	http.ResponseWriter
	id    string
	wrote bool
}

func (w *addSessionWriter) WriteHeader(code int) {
	if !w.wrote {
		w.wrote = true
		w.Header().Add("Mcp-Session-Id", w.id)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *addSessionWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

func (w *addSessionWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *addSessionWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Spy) record(what string) {
	s.mu.Lock()
	s.executed = append(s.executed, what)
	s.mu.Unlock()
}

// Snapshot returns the number of requests that reached the handler, the last
// body and principal subject, and the operations the MCP server executed.
func (s *Spy) Snapshot() (int, []byte, string, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, s.body, s.subject, slices.Clone(s.executed)
}

// NewSuiteServer returns a go-sdk MCP server with the suite catalog whose
// handlers report executions to spy (nil = none).
func NewSuiteServer(spy *Spy) *mcp.Server {
	rec := func(what string) {
		if spy != nil {
			spy.record(what)
		}
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "coretest", Version: "1.0.0"}, nil)
	for _, name := range SuiteTools() {
		s.AddTool(&mcp.Tool{Name: name, Description: "suite tool " + name, InputSchema: map[string]any{"type": "object"}},
			func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				rec("tool:" + name)
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: name + " done"}}}, nil
			})
	}
	for _, uri := range SuiteResources() {
		s.AddResource(&mcp.Resource{URI: uri, Name: uri, MIMEType: "text/plain"},
			func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
				rec("resource:" + uri)
				return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "text/plain", Text: "contents"}}}, nil
			})
	}
	for _, name := range SuitePrompts() {
		s.AddPrompt(&mcp.Prompt{Name: name, Description: "suite prompt " + name},
			func(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
				rec("prompt:" + name)
				return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "hi"}}}}, nil
			})
	}
	return s
}

// NewSpy wraps the streamable HTTP handler of the suite server.
func NewSpy(stateless, jsonResponse bool) *Spy {
	spy := &Spy{}
	srv := NewSuiteServer(spy)
	spy.next = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: stateless, JSONResponse: jsonResponse, SessionTimeout: 10 * time.Minute})
	return spy
}
