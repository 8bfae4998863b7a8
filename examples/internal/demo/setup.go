package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/mcpauthz/mcpauthz/core"
)

// ServeFunc is an example's own part: it serves the Guard g's routes on ln
// until ctx is done, then shuts down.
type ServeFunc func(ctx context.Context, g *core.Guard, ln net.Listener) error

// HTTP is the ServeFunc of a net/http handler: routes(g) served by Serve.
func HTTP(routes func(g *core.Guard) http.Handler) ServeFunc {
	return func(ctx context.Context, g *core.Guard, ln net.Listener) error {
		return Serve(ctx, ln, routes(g))
	}
}

// Main is the main function of the example called name: it runs the
// example with the process's arguments and environment until SIGINT or
// SIGTERM, and exits with status 1 and the error if it fails.
func Main(name string, serve ServeFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, name, os.Args[1:], os.Getenv, nil, serve)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Run sets the example called name up (Setup), tells ready, if not nil, the
// bound address, and serves until ctx is done.
func Run(ctx context.Context, name string, args []string, getenv func(string) string, ready func(addr string), serve ServeFunc) error {
	g, ln, _, err := Setup(ctx, name, args, getenv)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr().String()) // connections wait in the listen backlog until serve runs
	}
	return serve(ctx, g, ln)
}

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

// Until runs serve until it returns, or until ctx is done; then it calls
// shutdown and waits for serve. http.ErrServerClosed from serve after a
// shutdown is the expected end, not an error.
func Until(ctx context.Context, serve, shutdown func() error) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	err := shutdown()
	if serr := <-errc; err == nil && !errors.Is(serr, http.ErrServerClosed) {
		err = serr
	}
	return err
}
