package httpmcp

import (
	"context"
	"log/slog"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauthz/mcpauthz/core"
)

// UnbindOnClose makes g forget a session's binding as soon as the go-sdk
// server ends the session (StreamableHTTPOptions.SessionTimeout, DELETE,
// Close), instead of SessionTTL later. Call it on the server's options
// before mcp.NewServer; it wraps opts.InitializedHandler (the previous one
// still runs) and starts one goroutine per initialized session that waits
// for the session to end. A session abandoned before
// notifications/initialized is covered by SessionTTL only.
func UnbindOnClose(g *core.Guard, opts *mcp.ServerOptions, log *slog.Logger) {
	next := opts.InitializedHandler
	opts.InitializedHandler = func(ctx context.Context, req *mcp.InitializedRequest) {
		if ss := req.Session; ss != nil && ss.ID() != "" {
			go func() {
				_ = ss.Wait()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := g.EndSession(ctx, ss.ID()); err != nil && log != nil {
					log.LogAttrs(ctx, slog.LevelWarn, "mcpauthz: could not drop the binding of an ended session", slog.Any("cause", err))
				}
			}()
		}
		if next != nil {
			next(ctx, req)
		}
	}
}
