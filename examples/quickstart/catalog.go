package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauthz/mcpauthz/core"
)

// newCatalogServer builds the demo MCP server with the official Go MCP SDK.
// Handlers read the caller from the context the adapter filled in; they never
// see the token.
func newCatalogServer(opts *mcp.ServerOptions) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "mcpauthz-quickstart", Version: "1.0.0"}, opts)

	type echoIn struct {
		Message string `json:"message" jsonschema:"text to echo back"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echo a message (everyone)."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
			return text(fmt.Sprintf("%s says: %s", caller(ctx), in.Message)), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "list_tickets", Description: "List open tickets (engineering, marketing)."},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			return text("TICKET-1 login page typo; TICKET-2 flaky deploy"), nil, nil
		})
	type deployIn struct {
		Service     string `json:"service,omitempty" jsonschema:"service to deploy (default web)"`
		Environment string `json:"environment,omitempty" jsonschema:"staging (default) or production"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "deploy", Description: "Deploy a service (engineering, needs scope mcp:deploy)."},
		func(ctx context.Context, _ *mcp.CallToolRequest, in deployIn) (*mcp.CallToolResult, any, error) {
			// The defaults are the ones declared to the policy (toolArgs).
			svc, env := in.Service, in.Environment
			if svc == "" {
				svc = "web"
			}
			if env == "" {
				env = "staging"
			}
			return text(fmt.Sprintf("deployed %s to %s for %s", svc, env, caller(ctx))), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "delete_repo", Description: "Delete a repository (admins only)."},
		func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
			return text("repository deleted by " + caller(ctx)), nil, nil
		})

	s.AddResource(&mcp.Resource{URI: "docs://handbook", Name: "handbook", MIMEType: "text/plain"},
		staticResource("Employee handbook: be kind, ship small changes."))
	s.AddResource(&mcp.Resource{URI: "docs://payroll", Name: "payroll", MIMEType: "text/plain"},
		staticResource("Payroll: confidential."))

	s.AddPrompt(&mcp.Prompt{Name: "summarize", Description: "Summarize a text (everyone)."}, staticPrompt("Summarize the following text."))
	s.AddPrompt(&mcp.Prompt{Name: "incident_review", Description: "Run an incident review (engineering)."}, staticPrompt("Walk through the incident timeline."))
	return s
}

func caller(ctx context.Context) string {
	if p, ok := core.PrincipalFromContext(ctx); ok {
		if p.Kind == core.PrincipalClient {
			return "client " + p.ClientID
		}
		return p.Subject
	}
	return "anonymous"
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

func staticResource(body string) mcp.ResourceHandler {
	return func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, MIMEType: "text/plain", Text: body}}}, nil
	}
}

func staticPrompt(instruction string) mcp.PromptHandler {
	return func(_ context.Context, _ *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: strings.TrimSpace(instruction)}}}}, nil
	}
}
