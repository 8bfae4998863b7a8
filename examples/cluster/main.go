// Command cluster runs the scale-out topology of mcpauthz in one process:
// N embedded authorization server replicas and N Guard replicas (net/http
// adapter in front of a go-sdk MCP server), each with its own in-process
// state, behind two round-robin proxies, sharing one Redis for the replay
// store and the rate limits, and one signing key. With -policy-db the
// Guards authorize every call with Casbin, the policy in PostgreSQL
// (stores/postgres: gorm-adapter source, LISTEN/NOTIFY watcher and a poll
// as backstop), each replica keeping a last-good copy (-last-good) so it can
// start while PostgreSQL is down.
//
//	redis-server --port 6379 &
//	DEMO_CLIENT_SECRET=change-me-to-16-bytes-or-more go run ./cluster -redis redis://127.0.0.1:6379/0 \
//	    -policy-db 'host=127.0.0.1 user=postgres dbname=postgres sslmode=disable connect_timeout=2'
//
// Then obtain a token from any replica and call the MCP server:
//
//	curl -s -u demo-client:change-me-to-16-bytes-or-more -d grant_type=client_credentials http://127.0.0.1:9400/token
//
// An empty policy table is seeded with rules letting demo-client connect,
// list and call echo; change the casbin_rule table with any Casbin tool and NOTIFY
// casbinauthz_policy (postgres.Watcher.Update), and every replica follows
// within a second. GET /readyz on the MCP address reports a replica's
// readiness (not ready while it serves a last-good copy).
//
// Users log in through the broker (authorization code + PKCE): every AS
// replica sends them to one upstream OpenID Connect provider (by default a
// development IdP served by this program on -idp-addr, users alice (group
// engineering) and bob, password "demo"; or -upstream-issuer with
// UPSTREAM_CLIENT_ID and UPSTREAM_CLIENT_SECRET), and keeps refresh token
// families, consents and dynamically registered clients in Redis, with one
// code key (CODE_KEY, 32 bytes in base64; random per run when unset). A login
// started at one replica finishes at any other: each step (the /authorize,
// the IdP's redirect back to /callback, the consent form, the token request)
// may land on another replica, and every answer of the AS proxy names the
// replica in X-Cluster-Replica. A standard MCP client registers itself
// (dynamic registration, loopback redirect URIs) or uses the public client
// demo-native (redirect http://127.0.0.1/callback, any port).
//
// GET /readyz on the AS address reports the readiness of the replica that
// answers: not ready when Redis does not answer, or when its signing keys
// disagree with most replicas' (authserver.KeyCheck on a
// redisstore.KeyRegistry).
//
// Each AS replica's grant store has a rueidis Sender (-sender, default on;
// redisstore.ReplayConfig.Sender, bounded by redisstore.BoundSender): the
// grant script's round trip overlaps the token's signature, and a grant
// still answers 503 within 2 s whatever Redis does.
//
// Stop Redis and the token endpoint answers 503 while the MCP replicas keep
// serving valid tokens; start it again and grants resume. Stop PostgreSQL
// and the replicas keep the last good policy.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/examples/quickstart/devidp"
	"github.com/mcpauthz/mcpauthz/stores/postgres"
	redisstore "github.com/mcpauthz/mcpauthz/stores/redis"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run serves until ctx is done; ready, if not nil, gets the AS and MCP URLs.
func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer, ready func(asURL, mcpURL string)) error {
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	redisURL := fs.String("redis", getenv("REDIS_URL"), "Redis URL (redis://host:port/db)")
	n := fs.Int("replicas", 3, "replicas of the AS and of the Guard")
	asAddr := fs.String("as-addr", "127.0.0.1:9400", "listen address of the AS proxy (the issuer)")
	mcpAddr := fs.String("mcp-addr", "127.0.0.1:9401", "listen address of the MCP proxy")
	policyDB := fs.String("policy-db", getenv("POLICY_DB"), "PostgreSQL DSN of the Casbin policy; empty: authenticate only")
	lastGood := fs.String("last-good", getenv("LAST_GOOD"), "with -policy-db: file keeping the last good policy, for starting while PostgreSQL is down")
	poll := fs.Duration("policy-poll", 30*time.Second, "with -policy-db: poll of the policy table, the backstop of LISTEN/NOTIFY")
	idpAddr := fs.String("idp-addr", "127.0.0.1:9402", "listen address of the development IdP the broker logs users in at (without -upstream-issuer)")
	sender := fs.Bool("sender", true, "give each AS replica's grant store a rueidis Sender (redisstore.ReplayConfig.Sender, experimental): the grant script's round trip overlaps the token's signature; false: go-redis alone")
	upstreamIssuer := fs.String("upstream-issuer", getenv("UPSTREAM_ISSUER"), "the broker's upstream OpenID Connect issuer (UPSTREAM_CLIENT_ID, UPSTREAM_CLIENT_SECRET; redirect URI <AS>/callback); empty: the development IdP")
	if err := fs.Parse(args); err != nil {
		return err
	}
	secret := getenv("DEMO_CLIENT_SECRET")
	if *redisURL == "" || secret == "" || *n < 1 || *n > 16 {
		return errors.New("cluster: -redis (or REDIS_URL) and DEMO_CLIENT_SECRET are required; -replicas is 1..16")
	}
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts, err := redisstore.ClientOptions(*redisURL)
	if err != nil {
		return err
	}
	senderOpts, err := redisstore.SenderOptions(*redisURL)
	if err != nil {
		return err
	}
	// A grant then answers 503 within 2 × the stores' timeout (1 s) whatever
	// Redis does (docs/deployment.md, "Time to a 503").
	redisstore.BoundSender(&senderOpts, redisstore.DefaultTimeout)
	asLn, err := net.Listen("tcp", *asAddr)
	if err != nil {
		return err
	}
	mcpLn, err := net.Listen("tcp", *mcpAddr)
	if err != nil {
		asLn.Close()
		return err
	}
	issuer := "http://" + asLn.Addr().String()
	resource := "http://" + mcpLn.Addr().String() + "/mcp"
	codeKey, err := sharedCodeKey(getenv("CODE_KEY"))
	if err != nil {
		asLn.Close()
		mcpLn.Close()
		return err
	}
	up := authserver.Upstream{Issuer: *upstreamIssuer, ClientID: getenv("UPSTREAM_CLIENT_ID"), ClientSecret: getenv("UPSTREAM_CLIENT_SECRET"),
		Claims: map[string]string{"groups": "groups", "email": "email"}}
	var idpServer *http.Server
	if up.Issuer == "" {
		dir, err := os.MkdirTemp("", "cluster-idp-")
		if err != nil {
			asLn.Close()
			mcpLn.Close()
			return err
		}
		defer os.RemoveAll(dir)
		var idpURL string
		if idpServer, idpURL, up.ClientSecret, err = developmentIdP(*idpAddr, dir, issuer, resource, log); err != nil {
			asLn.Close()
			mcpLn.Close()
			return err
		}
		up.Issuer, up.ClientID = idpURL, "cluster-as"
	}
	// One signing key for every replica: in production, the same key file
	// or KMS key (see docs/deployment.md for rotating it).
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	hash, err := authserver.HashSecret(secret)
	if err != nil {
		return err
	}
	mdl, err := casbinmodels.Model("rbac")
	if err != nil {
		return err
	}
	if *policyDB != "" {
		if err := seedPolicy(ctx, *policyDB, mdl, out); err != nil {
			return err
		}
	}
	var servers []*http.Server
	if idpServer != nil {
		servers = append(servers, idpServer)
	}
	var asBackends, mcpBackends []string
	for range *n {
		rc := redis.NewClient(opts) // separate state per replica
		defer rc.Close()
		cfg := redisstore.Config{Client: rc, Logger: log}
		rcfg := redisstore.ReplayConfig{Config: cfg}
		if *sender {
			// rueidis connects at once: without Redis at start this replica
			// runs on go-redis alone (same answers, one round trip more
			// before the signature) rather than not at all.
			if snd, err := rueidis.NewClient(senderOpts); err != nil {
				log.Warn("cluster: rueidis sender unavailable at start; this replica's grants use go-redis alone", "err", err)
			} else {
				defer snd.Close()
				rcfg.Sender = snd
			}
		}
		gs, err := redisstore.NewGrantStore(ctx, rcfg)
		if err != nil {
			return err
		}
		// The broker's state lives in Redis too: a login, a consent, a
		// registered client or a refresh token works at every replica.
		refresh, err := redisstore.NewRefreshStore(redisstore.RefreshConfig{Config: cfg})
		if err != nil {
			return err
		}
		consents, err := redisstore.NewConsentStore(redisstore.ConsentConfig{Config: cfg})
		if err != nil {
			return err
		}
		clients, err := redisstore.NewClientStore(redisstore.ClientConfig{Config: cfg})
		if err != nil {
			return err
		}
		// Each replica publishes its signing keys' thumbprints and is not
		// ready (/readyz) when they disagree with most replicas'.
		keyReg, err := redisstore.NewKeyRegistry(cfg)
		if err != nil {
			return err
		}
		as, err := authserver.New(authserver.Config{
			Issuer:    issuer,
			Resources: []authserver.Resource{{ID: resource, Scopes: []string{"mcp:tools"}}},
			Clients: []authserver.Client{
				{ID: "demo-client", SecretHash: hash, GrantTypes: []string{authserver.GrantClientCredentials}, Scopes: []string{"mcp:tools"}},
				{ID: "demo-native", AuthMethods: []string{authserver.AuthNone}, GrantTypes: []string{authserver.GrantAuthorizationCode, authserver.GrantRefreshToken},
					RedirectURIs: []string{"http://127.0.0.1/callback"}, Scopes: []string{"mcp:tools"}},
			},
			SigningKeys: []authserver.SigningKey{{Signer: key}},
			ReplayStore: gs,
			RateLimiter: gs,
			Broker: &authserver.Broker{
				Upstream:     up,
				Access:       []authserver.AccessRule{{Group: "engineering", Resource: resource, Scopes: []string{"mcp:tools"}}},
				CodeKey:      codeKey,
				RefreshStore: refresh,
				ConsentStore: consents,
			},
			Registration:  &authserver.Registration{LoopbackRedirects: true, Store: clients},
			ClientAddress: authserver.LastForwardedFor,
			KeyCheck:      &authserver.KeyCheck{Registry: keyReg, Replica: "as-" + strconv.Itoa(len(asBackends))},
			Logger:        log,
		})
		if err != nil {
			return err
		}
		asMux := http.NewServeMux()
		asMux.Handle("/readyz", core.ReadyHandler(as, time.Second))
		asMux.Handle("/", as)
		s, u, err := serveLocal(asMux)
		if err != nil {
			return err
		}
		servers, asBackends = append(servers, s), append(asBackends, u)

		v, err := verifier.New(ctx, verifier.Config{
			Issuers:  []verifier.IssuerConfig{{Issuer: issuer, JWKSURL: issuer + "/jwks.json"}},
			Audience: []string{resource},
			Logger:   log,
		})
		if err != nil {
			return err
		}
		gcfg := core.Config{Resource: resource, Verifier: v, AuthenticateOnly: true, Logger: log,
			Metadata: core.ProtectedResourceMetadata{AuthorizationServers: []string{issuer}}}
		if *policyDB != "" {
			a, closePolicy, err := policyAuthorizer(ctx, *policyDB, mdl, *lastGood, *poll, log)
			if err != nil {
				return err
			}
			defer closePolicy()
			gcfg.Authorizer, gcfg.AuthenticateOnly = a, false
		}
		g, err := core.New(gcfg)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("/readyz", core.ReadyHandler(g, time.Second))
		httpmcp.Register(mux, g, httpmcp.SDKHandler(mcpHandler()))
		s, u, err = serveLocal(mux)
		if err != nil {
			return err
		}
		servers, mcpBackends = append(servers, s), append(mcpBackends, u)
	}
	servers = append(servers, serve(asLn, roundRobin(asBackends)), serve(mcpLn, roundRobin(mcpBackends)))
	if idpServer != nil {
		fmt.Fprintf(out, "development IdP:      %s (users alice, bob; password %q)\n", up.Issuer, devPassword)
	}
	fmt.Fprintf(out, "authorization server: %s (%d replicas)\nMCP server:           %s (%d replicas)\n", issuer, *n, resource, *n)
	if ready != nil {
		ready(issuer, resource)
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(sctx)
	}
	return nil
}

// seedPolicy writes a starter rule into an empty policy table.
func seedPolicy(ctx context.Context, dsn, mdl string, out io.Writer) error {
	src, err := postgres.NewSource(postgres.SourceConfig{DSN: dsn, Model: mdl})
	if err != nil {
		return err
	}
	defer src.Close()
	text, err := src.Load(ctx)
	if err != nil {
		// Down: the replicas start from the last-good file, if any.
		fmt.Fprintf(out, "policy database unavailable: %v\n", err)
		return nil
	}
	if len(text) > 0 {
		return nil
	}
	for _, rule := range [][]string{
		{"client:demo-client", "server", "connect", "allow"},
		{"client:demo-client", "*", "list", "allow"},
		{"client:demo-client", "tool:echo", "call", "allow"},
	} {
		if err := src.Adapter().AddPolicy("p", "p", rule); err != nil {
			return fmt.Errorf("cluster: seeding the policy: %w", err)
		}
		fmt.Fprintf(out, "seeded the empty policy table: p, %s\n", strings.Join(rule, ", "))
	}
	return nil
}

// policyAuthorizer is one replica's Casbin authorizer on the policy in
// PostgreSQL: the table read through gorm-adapter, changes announced by
// LISTEN/NOTIFY, a poll as backstop and, with lastGood, a last-good copy
// to start from while PostgreSQL is down.
func policyAuthorizer(ctx context.Context, dsn, mdl, lastGood string, poll time.Duration, log *slog.Logger) (*casbinauthz.Authorizer, func(), error) {
	src, err := postgres.NewSource(postgres.SourceConfig{DSN: dsn, Model: mdl})
	if err != nil {
		return nil, nil, err
	}
	a, err := casbinauthz.New(casbinauthz.Config{Model: mdl, Source: src, Logger: log, PollInterval: poll, LastGoodPath: lastGood})
	if err != nil {
		_ = src.Close()
		return nil, nil, err
	}
	w, err := postgres.NewWatcher(postgres.WatcherConfig{DSN: dsn, Logger: log})
	if err != nil {
		_ = src.Close()
		return nil, nil, err
	}
	if err := a.SetWatcher(w); err != nil {
		w.Close()
		_ = src.Close()
		return nil, nil, err
	}
	go func() { _ = a.Watch(ctx) }()
	return a, func() { w.Close(); _ = src.Close() }, nil
}

func mcpHandler() http.Handler {
	s := mcp.NewServer(&mcp.Implementation{Name: "cluster-demo", Version: "1.0.0"}, nil)
	type in struct {
		Message string `json:"message"`
	}
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "Echo a message."},
		func(ctx context.Context, _ *mcp.CallToolRequest, a in) (*mcp.CallToolResult, any, error) {
			who := "anonymous"
			if p, ok := core.PrincipalFromContext(ctx); ok {
				who = p.ID()
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: who + ": " + a.Message}}}, nil, nil
		})
	// Stateless: any replica can serve any request.
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, &mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true})
}

func serve(ln net.Listener, h http.Handler) *http.Server {
	s := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 60 * time.Second}
	go func() { _ = s.Serve(ln) }()
	return s
}

func serveLocal(h http.Handler) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	return serve(ln, h), "http://" + ln.Addr().String(), nil
}

// roundRobin is the load balancer: each request goes to the next backend,
// with the caller's address appended to X-Forwarded-For.
func roundRobin(backends []string) http.Handler {
	var next atomic.Uint64
	targets := make([]*url.URL, len(backends))
	for i, b := range backends {
		targets[i], _ = url.Parse(b)
	}
	index := map[string]string{}
	for i, t := range targets {
		index[t.Host] = strconv.Itoa(i)
	}
	return &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(targets[next.Add(1)%uint64(len(targets))])
		pr.Out.Host = pr.In.Host
		pr.SetXForwarded()
	}, ModifyResponse: func(r *http.Response) error {
		// Which replica answered, for the curious and for the test.
		r.Header.Set("X-Cluster-Replica", index[r.Request.URL.Host])
		return nil
	}}
}

// devPassword is the development IdP's password for every user.
const devPassword = "demo"

// developmentIdP serves the quickstart's development IdP on addr as the
// broker's upstream: alice is in group engineering (the access rule), bob
// is not. Its admin policy file goes to dir. It returns the server, its
// issuer and the broker's client secret.
func developmentIdP(addr, dir, asIssuer, resource string, log *slog.Logger) (*http.Server, string, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", "", err
	}
	policy := filepath.Join(dir, "policy.json") // ID-JAG grants: none, the broker needs none
	if err := os.WriteFile(policy, []byte(`{"grants":[]}`), 0o600); err != nil {
		ln.Close()
		return nil, "", "", err
	}
	secret := base64.RawURLEncoding.EncodeToString(randomBytes(24))
	issuer := "http://" + ln.Addr().String()
	idp, err := devidp.New(devidp.Config{
		Issuer: issuer, Password: devPassword, PolicyFile: policy, Logger: log,
		Users: []devidp.User{
			{Name: "alice", Email: "alice@example.com", Groups: []string{"engineering"}},
			{Name: "bob", Email: "bob@example.com", Groups: []string{"marketing"}},
		},
		Clients: []devidp.Client{{ID: "cluster-as", Secret: secret, RedirectURIs: []string{asIssuer + "/callback"}}},
		Servers: []devidp.Server{{Name: "cluster", Resource: resource, AuthorizationServer: asIssuer}},
	})
	if err != nil {
		ln.Close()
		return nil, "", "", err
	}
	return serve(ln, idp), issuer, secret, nil
}

// sharedCodeKey is CODE_KEY (32 bytes, standard base64) or, unset, a
// random key for this run: every replica in this process shares it.
func sharedCodeKey(b64 string) ([]byte, error) {
	if b64 == "" {
		return randomBytes(32), nil
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil || len(k) != 32 {
		return nil, errors.New("cluster: CODE_KEY must hold 32 bytes in standard base64 (openssl rand -base64 32)")
	}
	return k, nil
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}
