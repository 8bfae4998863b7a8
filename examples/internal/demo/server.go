package demo

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauthz/mcpauthz/core"
)

// EchoIn is the input of the echo tool.
type EchoIn struct {
	Text string `json:"text" jsonschema:"the text to echo"`
}

// NewMCPServer returns the go-sdk MCP server of the examples. Its tools
// match the casbinmodels sample policies: "echo" (everyone with the
// mcp:tools scope) and "deploy" (group engineering, scope mcp:deploy).
func NewMCPServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "mcpauthz-example", Version: "1.0.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echo the text back."},
		func(_ context.Context, _ *mcp.CallToolRequest, in EchoIn) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: in.Text}}}, nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "deploy", Description: "Pretend to deploy."},
		func(context.Context, *mcp.CallToolRequest, struct{}) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "deployed"}}}, nil, nil
		})
	return s
}

// SessionTimeout is the idle timeout of the examples' MCP sessions: the
// go-sdk's StreamableHTTPOptions.SessionTimeout and the Guard's
// Config.SessionTTL, so a binding ends with its session.
const SessionTimeout = 30 * time.Minute

// MCPHandler is the streamable HTTP handler of NewMCPServer. opts may be
// nil (stateful sessions, SSE responses); a zero SessionTimeout becomes
// SessionTimeout.
func MCPHandler(opts *mcp.StreamableHTTPOptions) http.Handler {
	s := NewMCPServer()
	o := mcp.StreamableHTTPOptions{}
	if opts != nil {
		o = *opts
	}
	if o.SessionTimeout == 0 {
		o.SessionTimeout = SessionTimeout
	}
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &o)
}

// NewServer is the net/http Server of h: header and idle timeouts, a
// deadline on every request body (core.BoundBodyReads), and a graceful
// Shutdown of at most 2 s, after which the remaining streams are closed.
func NewServer(h http.Handler) Server {
	srv := &http.Server{
		// Nothing wraps the ResponseWriter outside BoundBodyReads here, so
		// its read deadline can always be set and it has nothing to log.
		Handler:           core.BoundBodyReads(h, core.BodyReadConfig{}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No ReadTimeout: it would also end GET event streams.
		// BoundBodyReads bounds every request body instead, read or not
		// (core.BodyReadTimeout), so a body that never arrives cannot hold
		// a connection on a route that does not read it (a 404, a refusal).
	}
	return Server{Serve: srv.Serve, Shutdown: func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := srv.Shutdown(ctx)
		if errors.Is(err, context.DeadlineExceeded) {
			// Long-lived SSE streams (legacy GET streams) never go idle on
			// their own; closing them is the expected end of a shutdown.
			err = srv.Close()
		}
		return err
	}}
}
