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

// Server is an example's server, built on its Guard: Serve serves on a
// listener until Shutdown stops it.
type Server struct {
	Serve    func(ln net.Listener) error
	Shutdown func() error
}

// Build is an example's own part, the framework wiring: its Server on the
// Guard g.
type Build func(g *core.Guard) Server

// HTTP is the Build of a net/http handler: routes(g) served by NewServer.
func HTTP(routes func(g *core.Guard) http.Handler) Build {
	return func(g *core.Guard) Server { return NewServer(routes(g)) }
}

// Main is the main function of the example called name: it runs the
// example with the process's arguments and environment until SIGINT or
// SIGTERM, and exits with status 1 and the error if it fails.
func Main(name string, build Build) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := Run(ctx, name, os.Args[1:], os.Getenv, nil, build)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Run sets the example called name up (Setup), builds its server, tells
// ready, if not nil, the bound address, and serves until ctx is done; then
// it shuts the server down and, when that succeeded, waits for Serve to
// return (http.ErrServerClosed is the expected end, not an error).
func Run(ctx context.Context, name string, args []string, getenv func(string) string, ready func(addr string), build Build) error {
	g, ln, _, err := Setup(ctx, name, args, getenv)
	if err != nil {
		return err
	}
	srv := build(g)
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	if err := srv.Shutdown(); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
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
