// Command quickstart runs the whole mcpauthz enterprise flow on one machine.
//
//	go run ./examples/quickstart                 # start everything, run the scripted tour, exit 0 if every expectation held
//	go run ./examples/quickstart serve -addr 127.0.0.1:8080   # keep everything running for real clients
//	go run ./examples/quickstart token -server http://127.0.0.1:8080/mcp -user alice
//	go run ./examples/quickstart token -server http://127.0.0.1:8080/mcp -client ci-bot
//
// It starts, in one process and on one loopback port: a development IdP (NOT
// FOR PRODUCTION) with a login page and RFC 8693 token exchange issuing
// ID-JAGs under an admin policy file; the embedded mcpauthz authorization
// server (jwt-bearer with ID-JAGs, client credentials); and an MCP server built
// with the official Go MCP SDK behind the net/http adapter, authorized by a
// Casbin policy from casbinmodels.
package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mcpauthz/mcpauthz/client"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	cmd := "tour"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "tour":
		return runTour(args, stdout, stderr)
	case "serve":
		return runServe(args, stdout, stderr)
	case "token":
		return runToken(args, stdout, stderr)
	case "login":
		return runLogin(args, stdout, stderr)
	default:
		return fmt.Errorf("unknown command %q (want tour, serve, token or login)", cmd)
	}
}

func newLogger(w io.Writer, verbose bool) *slog.Logger {
	if !verbose {
		w = io.Discard
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func runTour(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tour", flag.ContinueOnError)
	verbose := fs.Bool("v", false, "log every component (IdP, authorization server, audit) to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "mcpauthz-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logger := newLogger(stderr, *verbose)
	st, err := startStack(ctx, "127.0.0.1:0", dir, 0, logger)
	if err != nil {
		return err
	}
	defer st.Close()
	fmt.Fprintf(stdout, "mcpauthz quickstart: IdP %s, authorization server %s, MCP server %s\n", st.IdPIssuer, st.ASIssuer, st.MCP)
	fmt.Fprintf(stdout, "demo users alice (engineering), bob (marketing), carol (hr, admins), dave (marketing, admins; interactive), erin (contractors; no access); password %q\n", demoPassword)
	t := &tour{st: st, out: stdout, log: logger}
	if err := t.run(ctx); err != nil {
		t.failed++
		fmt.Fprintln(stdout, "tour aborted:", err)
	}
	fmt.Fprintf(stdout, "\n%d passed, %d failed\n", t.passed, t.failed)
	if t.failed > 0 {
		return errors.New("some expectations did not hold")
	}
	return nil
}

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "loopback address to listen on")
	dir := fs.String("dir", "", "directory for the editable IdP policy, the Casbin policy and the demo key (default: a new temporary directory)")
	quiet := fs.Bool("q", false, "do not log requests and decisions")
	sessionTimeout := fs.Duration("session-timeout", defaultSessionTimeout, "idle timeout of MCP sessions (go-sdk SessionTimeout and the Guard's SessionTTL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "mcpauthz-quickstart-")
		if err != nil {
			return err
		}
		*dir = d
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := startStack(ctx, *addr, *dir, *sessionTimeout, newLogger(stderr, !*quiet))
	if err != nil {
		return err
	}
	defer st.Close()
	printServeInfo(stdout, st)
	<-ctx.Done()
	return nil
}

func runToken(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	server := fs.String("server", "", "MCP endpoint of a running `serve`, e.g. http://127.0.0.1:8080/mcp (REQUIRED)")
	user := fs.String("user", "", "demo user for the Enterprise-Managed Authorization flow (alice, bob, carol)")
	clientID := fs.String("client", "", "machine client for client credentials (ci-bot, ci-bot-jwt)")
	keyFile := fs.String("key", "", "private key file of ci-bot-jwt (printed by serve)")
	scope := fs.String("scope", "", "space-separated scopes to request (default: the server's challenge)")
	verbose := fs.Bool("v", false, "log the client's steps to stderr")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *server == "" || (*user == "") == (*clientID == "") {
		return errors.New("token needs -server and exactly one of -user or -client")
	}
	base, ok := strings.CutSuffix(*server, "/mcp")
	if !ok {
		return errors.New("-server must be the /mcp endpoint printed by serve")
	}
	st := &stack{Base: base, MCP: *server, IdPIssuer: base + "/idp", ASIssuer: base + "/as"}
	if *keyFile != "" {
		k, err := loadKey(*keyFile)
		if err != nil {
			return err
		}
		st.ciBotJWTKey = k
	}
	logger := newLogger(stderr, *verbose)
	scopes := strings.Fields(*scope)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var authz *client.Authorizer
	var err error
	if *clientID != "" {
		authz, err = machineAuthorizer(st, *clientID, logger, scopes)
	} else {
		authz, err = userAuthorizer(st, *user, logger, scopes)
	}
	if err != nil {
		return err
	}
	if err := authz.Authorize(ctx); err != nil {
		return err
	}
	tok, err := authz.Token(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "scopes: %s, expires %s\n", strings.Join(tok.Scopes, " "), tok.Expiry.Format(time.RFC3339))
	fmt.Fprintln(stdout, tok.AccessToken)
	return nil
}

func loadKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: not a signing key", path)
	}
	return s, nil
}
