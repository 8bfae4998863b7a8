package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauthz/mcpauthz/client"
)

// tour runs the scripted walk-through and records every expectation.
type tour struct {
	st     *stack
	out    io.Writer
	log    *slog.Logger
	passed int
	failed int
}

func (t *tour) section(title string) { fmt.Fprintf(t.out, "\n== %s\n", title) }

// expect prints one transcript line and records whether it held.
func (t *tour) expect(ok bool, format string, args ...any) {
	mark := "ok  "
	if ok {
		t.passed++
	} else {
		t.failed++
		mark = "FAIL"
	}
	fmt.Fprintf(t.out, "  [%s] %s\n", mark, fmt.Sprintf(format, args...))
}

func (t *tour) run(ctx context.Context) error {
	t.section("Anonymous request")
	t.anonymous(ctx)

	t.section("Each user's tools/list (filtered by the Casbin policy)")
	want := map[string][]string{
		"alice": {"deploy", "echo", "list_tickets"},
		"bob":   {"echo", "list_tickets"},
		"carol": {"delete_repo", "deploy", "echo"},
	}
	sessions := map[string]*session{}
	for _, user := range []string{"alice", "bob", "carol"} {
		s, err := t.userSession(ctx, user)
		if err != nil {
			t.expect(false, "%s connects through Enterprise-Managed Authorization: %v", user, err)
			continue
		}
		defer s.Close()
		sessions[user] = s
		names := t.toolNames(ctx, s)
		t.expect(slices.Equal(names, want[user]), "%-5s sees tools %v", user, names)
	}
	if len(sessions) != 3 {
		return errors.New("cannot continue without the three user sessions")
	}

	t.section("Allowed and denied calls")
	t.call(ctx, sessions["bob"], "bob", "list_tickets", true)
	t.call(ctx, sessions["bob"], "bob", "delete_repo", false)
	t.call(ctx, sessions["carol"], "carol", "delete_repo", true)
	t.read(ctx, sessions["carol"], "carol", "docs://payroll", true)
	t.read(ctx, sessions["bob"], "bob", "docs://payroll", false)
	t.read(ctx, sessions["bob"], "bob", "docs://handbook", true)
	t.prompt(ctx, sessions["alice"], "alice", "incident_review", true)
	t.prompt(ctx, sessions["bob"], "bob", "incident_review", false)

	t.section("Step-up: alice deploys (the tool needs scope mcp:deploy)")
	before := t.scopes(ctx, sessions["alice"])
	t.expect(!slices.Contains(before, scopeDeploy), "alice's first token has scopes %v (no mcp:deploy)", before)
	t.call(ctx, sessions["alice"], "alice", "deploy", true)
	after := t.scopes(ctx, sessions["alice"])
	t.expect(slices.Contains(after, scopeDeploy), "after 403 insufficient_scope the client obtained %v through a fresh ID-JAG", after)

	t.section("Argument-aware policy: deploy environments and services")
	t.deploy(ctx, sessions["alice"], "alice", "staging", "web-frontend", true)
	t.deploy(ctx, sessions["alice"], "alice", "production", "web-frontend", false)
	t.deploy(ctx, sessions["carol"], "carol", "staging", "web-frontend", true)
	t.deploy(ctx, sessions["carol"], "carol", "production", "web-frontend", true)

	t.section("Machine clients (OAuth client credentials)")
	t.machine(ctx, ciBotID)
	t.machine(ctx, ciBotJWTID)

	t.section("Interactive user: a standard MCP client logs in through the broker (authorization code + PKCE)")
	t.interactive(ctx)

	t.section("Central revocation at the IdP")
	t.revoke(ctx)
	return nil
}

func (t *tour) anonymous(ctx context.Context) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, t.st.MCP, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.expect(false, "POST /mcp without a token: %v", err)
		return
	}
	drain(resp)
	ch := resp.Header.Get("WWW-Authenticate")
	t.expect(resp.StatusCode == http.StatusUnauthorized && strings.Contains(ch, `resource_metadata="`+t.st.Base+"/.well-known/oauth-protected-resource/mcp"),
		"POST /mcp without a token -> %d\n         WWW-Authenticate: %s", resp.StatusCode, ch)
}

func (t *tour) userSession(ctx context.Context, user string) (*session, error) {
	a, err := userAuthorizer(t.st, user, t.log, nil)
	if err != nil {
		return nil, err
	}
	return connect(ctx, t.st, a)
}

func (t *tour) toolNames(ctx context.Context, s *session) []string {
	res, err := s.mcp.ListTools(ctx, nil)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}

func (t *tour) call(ctx context.Context, s *session, who, tool string, allowed bool) {
	args := map[string]any{}
	switch tool {
	case "echo":
		args["message"] = "hi"
	case "deploy":
		args["service"] = "web-frontend"
	}
	res, err := s.mcp.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	switch {
	case err != nil:
		t.expect(!allowed, "%s calls %-12s -> denied (%s)", who, tool, short(err))
	case res.IsError:
		t.expect(false, "%s calls %-12s -> tool error %s", who, tool, firstText(res.Content))
	default:
		t.expect(allowed, "%s calls %-12s -> allowed: %s", who, tool, firstText(res.Content))
	}
}

func (t *tour) read(ctx context.Context, s *session, who, uri string, allowed bool) {
	res, err := s.mcp.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
	if err != nil {
		t.expect(!allowed, "%s reads %-16s -> denied (%s)", who, uri, short(err))
		return
	}
	t.expect(allowed, "%s reads %-16s -> allowed: %q", who, uri, res.Contents[0].Text)
}

func (t *tour) prompt(ctx context.Context, s *session, who, name string, allowed bool) {
	_, err := s.mcp.GetPrompt(ctx, &mcp.GetPromptParams{Name: name})
	if err != nil {
		t.expect(!allowed, "%s gets prompt %-15s -> denied (%s)", who, name, short(err))
		return
	}
	t.expect(allowed, "%s gets prompt %-15s -> allowed", who, name)
}

func (t *tour) scopes(ctx context.Context, s *session) []string {
	tok, err := s.authz.Token(ctx)
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	out := slices.Clone(tok.Scopes)
	slices.Sort(out)
	return out
}

func (t *tour) machine(ctx context.Context, clientID string) {
	a, err := machineAuthorizer(t.st, clientID, t.log, nil)
	if err != nil {
		t.expect(false, "%s: %v", clientID, err)
		return
	}
	s, err := connect(ctx, t.st, a)
	if err != nil {
		t.expect(false, "%s connects with client credentials: %v", clientID, err)
		return
	}
	defer s.Close()
	names := t.toolNames(ctx, s)
	t.expect(slices.Equal(names, []string{"deploy", "echo"}), "%s sees tools %v", clientID, names)
	t.call(ctx, s, clientID, "echo", true)
	t.call(ctx, s, clientID, "deploy", true)
	t.call(ctx, s, clientID, "list_tickets", false)
	t.deploy(ctx, s, clientID, "production", "web-api", true)
	t.deploy(ctx, s, clientID, "staging", "billing", false)
}

// deploy calls the deploy tool with an environment and a service: the
// policy decides on these arguments (mcp-policy.csv, r.args).
func (t *tour) deploy(ctx context.Context, s *session, who, env, service string, allowed bool) {
	res, err := s.mcp.CallTool(ctx, &mcp.CallToolParams{Name: "deploy", Arguments: map[string]any{"environment": env, "service": service}})
	what := fmt.Sprintf("%s deploys %s to %-10s", who, service, env)
	switch {
	case err != nil:
		t.expect(!allowed, "%s -> denied (%s)", what, short(err))
	case res.IsError:
		t.expect(false, "%s -> tool error %s", what, firstText(res.Content))
	default:
		t.expect(allowed, "%s -> allowed: %s", what, firstText(res.Content))
	}
}

// revoke edits the IdP admin policy so that marketing (bob) may no longer use
// the MCP server. Nothing on the MCP server changes.
func (t *tour) revoke(ctx context.Context) {
	pol, err := os.ReadFile(t.st.PolicyFile)
	if err != nil {
		t.expect(false, "read IdP policy: %v", err)
		return
	}
	revoked := strings.Replace(string(pol), `"groups": ["marketing"]`, `"groups": ["marketing-revoked"]`, 1)
	if revoked == string(pol) || os.WriteFile(t.st.PolicyFile, []byte(revoked), 0o600) != nil {
		t.expect(false, "the admin revokes marketing in %s", t.st.PolicyFile)
		return
	}
	fmt.Fprintf(t.out, "  the IdP admin removed the marketing grant from %s\n", t.st.PolicyFile)
	a, err := userAuthorizer(t.st, "bob", t.log, nil)
	if err != nil {
		t.expect(false, "bob's client: %v", err)
		return
	}
	err = a.Authorize(ctx)
	var oe *client.OAuthError
	t.expect(errors.As(err, &oe) && oe.Code == "invalid_grant" && oe.Endpoint == "token_exchange",
		"bob's next ID-JAG request is refused by the IdP: %s", short(err))
	s, err := t.userSession(ctx, "alice")
	if err != nil {
		t.expect(false, "alice still connects: %v", err)
		return
	}
	defer s.Close()
	t.call(ctx, s, "alice", "echo", true)
}

func firstText(c []mcp.Content) string {
	if len(c) > 0 {
		if tc, ok := c[0].(*mcp.TextContent); ok {
			return fmt.Sprintf("%q", tc.Text)
		}
	}
	return ""
}

// short keeps the last, most specific part of an error chain.
func short(err error) string {
	if err == nil {
		return "no error"
	}
	s := err.Error()
	if len(s) > 140 {
		s = "..." + s[len(s)-137:]
	}
	return s
}
