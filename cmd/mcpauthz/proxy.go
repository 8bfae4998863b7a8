package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/proxy"
)

// Defaults of the proxy: section (config.FileProxy).
const (
	defaultProxyListen       = "127.0.0.1:8443"
	defaultReadHeaderTimeout = 10 * time.Second
	defaultServerIdleTimeout = 2 * time.Minute
	defaultShutdownTimeout   = 30 * time.Second
	minProxyHeaderBytes      = 4 << 10
	maxProxyHeaderBytes      = 64 << 10
	probeHeaderBytes         = 4 << 10 // the health listener's requests carry no token
)

func proxyCmd(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runProxy(ctx, args, stdout, stderr)
}

// runProxy serves until ctx is done, then shuts down gracefully. It
// prints one line "mcpauthz proxy: serving <url> -> <upstream>" on stdout
// once it accepts connections.
func runProxy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "the Guard's YAML configuration, with an optional proxy: section (REQUIRED)")
	upstream := fs.String("upstream", "", "the protected server's MCP endpoint, such as http://127.0.0.1:3000/mcp (overrides proxy.upstream)")
	listen := fs.String("listen", "", "address to serve on (overrides proxy.listen; default "+defaultProxyListen+")")
	healthListen := fs.String("health-listen", "", "separate address for /readyz and /livez (overrides proxy.health_listen)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "mcpauthz proxy: "+format+"\n", a...)
		return 2
	}
	if *cfgPath == "" || fs.NArg() > 0 {
		fs.Usage()
		return fail("-config is required")
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	opts := config.Options{Logger: log}
	file, dir, err := config.Load(*cfgPath, opts)
	if err != nil {
		return fail("%v", err)
	}
	pc := file.Proxy
	for _, o := range []struct{ flag, dst *string }{{upstream, &pc.Upstream}, {listen, &pc.Listen}, {healthListen, &pc.HealthListen}} {
		if *o.flag != "" {
			*o.dst = *o.flag
		}
	}
	if pc.Listen == "" {
		pc.Listen = defaultProxyListen
	}
	headerBytes := pc.MaxHeaderBytes
	if headerBytes == 0 {
		headerBytes = proxy.HeaderBudget(file.MaxTokenBytes)
	}
	if headerBytes < minProxyHeaderBytes || headerBytes > maxProxyHeaderBytes {
		return fail("proxy.max_header_bytes %d: between %d and %d", headerBytes, minProxyHeaderBytes, maxProxyHeaderBytes)
	}
	if need := proxy.HeaderBudget(file.MaxTokenBytes) - proxy.OtherHeaderBytes + 512; headerBytes < need {
		return fail("proxy.max_header_bytes %d cannot carry a token of max_token_bytes: at least %d", headerBytes, need)
	}
	if (pc.TLSCertFile == "") != (pc.TLSKeyFile == "") {
		return fail("proxy.tls_cert_file and proxy.tls_key_file go together")
	}
	// The policy watcher (policy.watch) lives as long as the process.
	built, err := file.Build(ctx, dir, opts)
	if err != nil {
		return fail("%v", err)
	}
	defer built.Close()
	g, err := core.New(built.Config)
	if err != nil {
		return fail("%v", err)
	}
	p, err := proxy.New(proxy.Config{
		Guard: g, Upstream: pc.Upstream, DialTimeout: pc.DialTimeout, ResponseHeaderTimeout: pc.ResponseHeaderTimeout,
		StreamIdleTimeout: pc.StreamIdleTimeout, ForwardPrincipal: pc.ForwardPrincipal, ForwardToken: pc.ForwardToken,
		ForwardQuery: pc.ForwardQuery, Logger: log,
	})
	if err != nil {
		return fail("%v (set proxy.upstream or -upstream)", err)
	}
	health := http.NewServeMux()
	health.Handle("/readyz", core.ReadyHandler(p, 0))
	health.Handle("/livez", core.LiveHandler())
	var handler http.Handler = p
	if pc.HealthListen == "" {
		if rp := g.ResourcePath(); rp == "/readyz" || rp == "/livez" || slices.Contains(g.MetadataPaths(), "/readyz") {
			return fail("the resource path %s collides with the probes: set proxy.health_listen", rp)
		}
		// The probes share the public address: /readyz says only "not
		// ready" there, and the cause (it names the upstream and IdP URLs)
		// goes to the log.
		mux := http.NewServeMux()
		mux.Handle("/readyz", core.ReadyHandler(core.ReadyFunc(func(ctx context.Context) error {
			if err := p.Ready(ctx); err != nil {
				log.LogAttrs(ctx, slog.LevelWarn, "mcpauthz proxy: not ready", slog.Any("cause", err))
				return errPublicNotReady
			}
			return nil
		}), 0))
		mux.Handle("/livez", health)
		mux.Handle("/", p)
		handler = mux
	}
	// Handlers run under base: cancelling it cuts whatever the drain
	// deadline did not let finish.
	base, cutAll := context.WithCancel(context.WithoutCancel(ctx))
	defer cutAll()
	newServer := func(h http.Handler, headerBytes int) *http.Server {
		return &http.Server{
			Handler: h, ReadHeaderTimeout: durationOr(pc.ReadHeaderTimeout, defaultReadHeaderTimeout),
			IdleTimeout: durationOr(pc.IdleTimeout, defaultServerIdleTimeout), MaxHeaderBytes: headerBytes,
			BaseContext: func(net.Listener) context.Context { return base },
			ErrorLog:    slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		}
	}
	servers := []*http.Server{newServer(handler, headerBytes)}
	ln, err := net.Listen("tcp", pc.Listen)
	if err != nil {
		return fail("%v", err)
	}
	lns := []net.Listener{ln}
	if pc.HealthListen != "" {
		hln, err := net.Listen("tcp", pc.HealthListen)
		if err != nil {
			ln.Close()
			return fail("%v", err)
		}
		servers, lns = append(servers, newServer(health, probeHeaderBytes)), append(lns, hln)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			var err error
			if i == 0 && pc.TLSCertFile != "" {
				err = srv.ServeTLS(lns[i], pc.TLSCertFile, pc.TLSKeyFile)
			} else {
				err = srv.Serve(lns[i])
			}
			errc <- err
		}()
	}
	scheme := "http"
	if pc.TLSCertFile != "" {
		scheme = "https"
	}
	fmt.Fprintf(stdout, "mcpauthz proxy: serving %s://%s%s -> %s\n", scheme, ln.Addr(), g.ResourcePath(), pc.Upstream)
	if len(lns) > 1 {
		fmt.Fprintf(stdout, "mcpauthz proxy: probes on http://%s/readyz and /livez\n", lns[1].Addr())
	}
	code := 0
	select {
	case <-ctx.Done():
	case err := <-errc:
		log.Error("mcpauthz proxy: server failed", slog.Any("cause", err))
		code = 1
	}
	// Graceful shutdown: end the event streams (they never end by
	// themselves), stop accepting, let requests in progress finish until
	// the deadline, then cut the rest.
	log.Info("mcpauthz proxy: shutting down")
	p.CloseStreams()
	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), durationOr(pc.ShutdownTimeout, defaultShutdownTimeout))
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(drain); err != nil {
			log.Warn("mcpauthz proxy: drain deadline passed, cutting the requests in progress", slog.Any("cause", err))
			cutAll()
			_ = srv.Close()
		}
	}
	return code
}

// errPublicNotReady is all the public /readyz says: the cause names
// internal URLs.
var errPublicNotReady = fmt.Errorf("%w: the cause is in the log (proxy.health_listen serves it)", core.ErrNotReady)

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
