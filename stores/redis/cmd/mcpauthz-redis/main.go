// Command mcpauthz-redis is the mcpauthz binary's serving commands with the
// Redis stores registered, for running several replicas from their
// configuration files alone:
//
//	mcpauthz-redis authserver -config as.yaml [-listen 127.0.0.1:9400] [-health-listen ADDR] [-tls-cert-file F -tls-key-file F]
//	mcpauthz-redis proxy      -config guard.yaml [-upstream URL] [-listen ADDR] [-health-listen ADDR]
//	mcpauthz-redis policy-notify -config guard.yaml
//	mcpauthz-redis revoke-refresh -config as.yaml -subject S [-client C]
//
// In the authorization server's file, stores: {kind: redis, options: {url:
// ${REDIS_URL}}} puts its replay store, rate limits, refresh token
// families, consents and registered clients in Redis; in the Guard's file,
// stores: {sessions: redis, options: {url: ${REDIS_URL}}} puts the session
// bindings there (redisstore.FileOptions lists the options). Both commands
// are those of "mcpauthz" (package serve): same flags, same files, same
// behaviour; "memory" stays available. The policy and diagnostic commands
// (explain, lint, metadata, hash-secret) are in "mcpauthz", which reads the
// same files.
//
// A file naming a kind neither binary registers fails at start, with the
// registered kinds listed. A Redis that does not answer at start does not:
// the process starts, /readyz answers 503 naming the store, and the
// endpoints that need Redis answer 503 until it is back (docs/deployment.md).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/cmd/mcpauthz/serve"
	"github.com/mcpauthz/mcpauthz/config"
	redisstore "github.com/mcpauthz/mcpauthz/stores/redis"
)

const usage = `usage: mcpauthz-redis <command> [flags]

commands (those of mcpauthz, with the "redis" store kind registered):
  authserver     serve the embedded authorization server
  proxy          serve the Guard as a reverse proxy in front of an MCP server
  policy-notify  tell every Guard whose file names the same policy.watcher
                 (kind redis) to reload its policy now: run it after changing
                 the policy (files or database); -config guard.yaml
  revoke-refresh end a user's refresh token families in Redis (every client,
                 or -client C): -config as.yaml -subject S [-client C]

explain, lint, metadata and hash-secret are in the mcpauthz binary.
run "mcpauthz-redis <command> -h" for the flags of a command.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, options())
	stop()
	os.Exit(code)
}

// options are serve's registries with kind "redis" added.
func options() serve.Options {
	guard, as := redisstore.Registries()
	return serve.Options{Name: "mcpauthz-redis", Config: guard, AuthServer: as}
}

// run runs the command of args; o are the serving commands' options
// (options(), or with Listen set by a test).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, o serve.Options) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "authserver":
		return serve.AuthServer(ctx, args[1:], stdout, stderr, o)
	case "proxy":
		return serve.Proxy(ctx, args[1:], stdout, stderr, o)
	case "policy-notify":
		return policyNotify(ctx, args[1:], stdout, stderr)
	case "revoke-refresh":
		return revokeRefresh(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "mcpauthz-redis: unknown command %q\n%s", args[0], usage)
	return 2
}

// policyNotify is "mcpauthz-redis policy-notify -config guard.yaml": it
// publishes one notification on the channel of the file's policy.watcher,
// so that every Guard subscribed there reloads its policy from its source
// (with the same validation as a poll: a broken policy keeps the last good
// one). Exit 0 when Redis took the message, 1 when it could not be
// reached, 2 on a usage or file error.
func policyNotify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("policy-notify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "the Guard's YAML configuration, with policy.watcher (REQUIRED)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cfgPath == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "mcpauthz-redis policy-notify: -config is required and takes no arguments")
		return 2
	}
	f, _, err := config.Load(*cfgPath, options().Config)
	if err != nil {
		fmt.Fprintf(stderr, "mcpauthz-redis policy-notify: %v\n", err)
		return 2
	}
	w := f.Policy.Watcher
	if w == nil || w.Kind != redisstore.Kind {
		fmt.Fprintf(stderr, "mcpauthz-redis policy-notify: %s has no policy.watcher of kind %s\n", *cfgPath, redisstore.Kind)
		return 2
	}
	pw, err := redisstore.PolicyWatcher(ctx, w.Options, nil)
	if err != nil {
		fmt.Fprintf(stderr, "mcpauthz-redis policy-notify: policy.watcher: %v\n", err)
		return 2
	}
	defer pw.Close()
	if err := pw.Update(); err != nil {
		fmt.Fprintf(stderr, "mcpauthz-redis policy-notify: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "mcpauthz-redis policy-notify: sent")
	return 0
}

// revokeRefresh is "mcpauthz-redis revoke-refresh -config as.yaml -subject
// S [-client C]": it ends the refresh token families of subject S (of
// client C only, with -client) in the Redis of the file's stores: section,
// as Server.RevokeRefreshTokens does, for every replica at once. Their
// tokens then answer invalid_grant; access tokens already issued stay
// valid until they expire. Exit 0 once Redis revoked them (also when the
// subject had none), 1 when Redis could not be reached, 2 on a usage or
// file error (a file without a broker section, or whose refresh tokens are
// not in Redis).
func revokeRefresh(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("revoke-refresh", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "the authorization server's YAML configuration, with broker and stores: {kind: redis} (REQUIRED)")
	subject := fs.String("subject", "", "the user (\"sub\") whose refresh token families end (REQUIRED)")
	client := fs.String("client", "", "end only the families of this client_id (default: every client)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *cfgPath == "" || *subject == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "mcpauthz-redis revoke-refresh: -config and -subject are required and it takes no arguments")
		return 2
	}
	cfg, closer, err := authserver.Load(ctx, *cfgPath, options().AuthServer)
	if err != nil {
		fmt.Fprintf(stderr, "mcpauthz-redis revoke-refresh: %v\n", err)
		return 2
	}
	defer closer.Close()
	var rs *redisstore.RefreshStore
	if cfg.Broker != nil {
		rs, _ = cfg.Broker.RefreshStore.(*redisstore.RefreshStore)
	}
	if rs == nil {
		fmt.Fprintf(stderr, "mcpauthz-redis revoke-refresh: %s keeps no refresh tokens in Redis (it needs a broker section and stores: {kind: %s})\n", *cfgPath, redisstore.Kind)
		return 2
	}
	if err := rs.RevokeSubject(ctx, *subject, *client); err != nil {
		fmt.Fprintf(stderr, "mcpauthz-redis revoke-refresh: %v\n", err)
		return 1
	}
	which := "every client"
	if *client != "" {
		which = fmt.Sprintf("client %q", *client)
	}
	fmt.Fprintf(stdout, "mcpauthz-redis revoke-refresh: revoked the refresh token families of subject %q at %s\n", *subject, which)
	return 0
}
