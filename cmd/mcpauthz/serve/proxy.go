package serve

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/proxy"
)

// Defaults of the proxy: section (config.FileProxy).
const (
	defaultProxyListen  = "127.0.0.1:8443"
	minProxyHeaderBytes = 4 << 10
	maxProxyHeaderBytes = 64 << 10
)

// Proxy is "mcpauthz proxy": it serves the Guard of the configuration
// file as a reverse proxy (package proxy) until ctx is done, then shuts
// down gracefully, and returns the exit code (0, 1 when a server failed,
// 2 on a usage or start-up error). It prints one line
// "mcpauthz proxy: serving <url> -> <upstream>" on stdout once it accepts
// connections. opts.Config's registries resolve policy.source and
// stores.sessions; its Logger is replaced by one writing to stderr.
func Proxy(ctx context.Context, args []string, stdout, stderr io.Writer, opts Options) int {
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "the Guard's YAML configuration, with an optional proxy: section (REQUIRED)")
	upstream := fs.String("upstream", "", "the protected server's MCP endpoint, such as http://127.0.0.1:3000/mcp (overrides proxy.upstream)")
	listen := fs.String("listen", "", "address to serve on (overrides proxy.listen; default "+defaultProxyListen+")")
	healthListen := fs.String("health-listen", "", "separate address for /readyz and /livez (overrides proxy.health_listen)")
	c := command{name: opts.name() + " proxy", stderr: stderr}
	if code, ok := c.parse(fs, args, cfgPath); !ok {
		return code
	}
	fail, name := c.fail, c.name
	log := slog.New(slog.NewTextHandler(stderr, nil))
	copts := opts.Config
	copts.Logger = log
	file, dir, err := config.Load(*cfgPath, copts)
	if err != nil {
		return fail("%v", err)
	}
	warnReplicas(log, name, guardReplicaHints(file), "each keeps its own session bindings: a session made through one replica is unknown (404) at the others, and the per-principal cap multiplies")
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
	var tlsCfg *tls.Config
	if pc.TLSCertFile != "" {
		if tlsCfg, err = loadTLS(pc.TLSCertFile, pc.TLSKeyFile, "proxy.tls_key_file", pc.TLSKeyAllowGroupRead); err != nil {
			return fail("%v", err)
		}
	}
	// The policy watcher (policy.watch) lives as long as the process.
	built, err := file.Build(ctx, dir, copts)
	if err != nil {
		return fail("%v%s", err, opts.hint(err))
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
	public, health, err := probes(p, pc.HealthListen != "", log, name, "proxy.health_listen", append([]string{g.ResourcePath()}, g.MetadataPaths()...))
	if err != nil {
		return fail("%v", err)
	}
	return serveUntil(ctx, runSpec{
		name: name, log: log, stdout: stdout, stderr: stderr, listen: opts.Listen,
		public: listener{addr: pc.Listen, handler: public, headerBytes: headerBytes, tls: tlsCfg},
		health: listener{addr: pc.HealthListen, handler: health, headerBytes: probeHeaderBytes},
		// No ReadTimeout or WriteTimeout: they would cut event streams
		// (request bodies are bounded by core.BodyReadTimeout).
		readHeader: durationOr(pc.ReadHeaderTimeout, defaultReadHeaderTimeout),
		idle:       durationOr(pc.IdleTimeout, defaultServerIdleTimeout),
		shutdown:   durationOr(pc.ShutdownTimeout, defaultShutdownTimeout),
		announce: func(url string) string {
			return fmt.Sprintf("serving %s%s -> %s", url, g.ResourcePath(), pc.Upstream)
		},
		// End the event streams (they never end by themselves) before the
		// drain.
		beforeDrain: p.CloseStreams,
	})
}
