package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mcpauthz/mcpauthz/cmd/mcpauthz/serve"
)

func proxyCmd(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runProxy(ctx, args, stdout, stderr)
}

// runProxy is serve.Proxy with this binary's registries: memory stores
// and the file policy source.
func runProxy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return serve.Proxy(ctx, args, stdout, stderr, serve.Options{})
}

func authServerCmd(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runAuthServer(ctx, args, stdout, stderr)
}

// runAuthServer is serve.AuthServer with this binary's registry: the
// memory stores.
func runAuthServer(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return serve.AuthServer(ctx, args, stdout, stderr, serve.Options{})
}
