package demo

import (
	"context"
	"log/slog"
	"net"
	"os"

	"github.com/mcpauthz/mcpauthz/core"
)

// Setup parses the configuration of the example called name, listens on
// its address and builds its Guard. The caller owns the listener.
func Setup(ctx context.Context, name string, args []string, getenv func(string) string) (*core.Guard, net.Listener, *slog.Logger, error) {
	cfg, err := ParseFlags(name, args, getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("example", name)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, nil, nil, err
	}
	g, err := NewGuard(ctx, cfg, ln.Addr(), log)
	if err != nil {
		ln.Close()
		return nil, nil, nil, err
	}
	log.Info("listening", "addr", ln.Addr().String(), "resource", g.Resource(), "metadata", g.MetadataURL())
	return g, ln, log, nil
}
