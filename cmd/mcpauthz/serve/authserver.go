package serve

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// Defaults of "mcpauthz authserver".
const (
	defaultASListen      = "127.0.0.1:9400"
	asHeaderBytes        = 16 << 10 // a login cookie is at most 3,800 bytes
	defaultASReadTimeout = 30 * time.Second
	// The startup readiness check: long enough for a PING to a store.
	startReadyTimeout = 3 * time.Second
)

// AuthServer is "mcpauthz authserver": it serves the embedded
// authorization server (package authserver) of the configuration file
// until ctx is done, then shuts down gracefully, and returns the exit code
// (0, 1 when a server failed, 2 on a usage or start-up error). The file's
// stores: section selects where the replay store, rate limits, refresh
// tokens, consents and registered clients live: memory (one process) or a
// kind registered in opts.AuthServer.Stores; any other kind fails here. A
// registered store that does not answer at start does not stop the
// server: it starts, logs the cause, answers /readyz with 503 and its
// endpoints with 503 until the store answers. It prints one line
// "mcpauthz authserver: serving <url> (issuer <issuer>, stores <kind>)" on
// stdout once it accepts connections.
func AuthServer(ctx context.Context, args []string, stdout, stderr io.Writer, opts Options) int {
	fs := flag.NewFlagSet("authserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "the authorization server's YAML configuration (REQUIRED)")
	listen := fs.String("listen", defaultASListen, "address to serve on")
	healthListen := fs.String("health-listen", "", "separate address for /readyz and /livez (keep it internal)")
	certFile := fs.String("tls-cert-file", "", "PEM certificate: serve HTTPS (with -tls-key-file)")
	keyFile := fs.String("tls-key-file", "", "PEM private key of -tls-cert-file; refused when group or others may read or write it (chmod 600)")
	keyGroupRead := fs.Bool("tls-key-allow-group-read", false, "accept a -tls-key-file that its group may read (0640/0440, a Kubernetes secret volume with fsGroup)")
	c := command{name: opts.name() + " authserver", stderr: stderr}
	if code, ok := c.parse(fs, args, cfgPath); !ok {
		return code
	}
	fail, name := c.fail, c.name
	if (*certFile == "") != (*keyFile == "") {
		return fail("-tls-cert-file and -tls-key-file go together")
	}
	var tlsCfg *tls.Config
	if *certFile != "" {
		var err error
		if tlsCfg, err = loadTLS(*certFile, *keyFile, "-tls-key-file", *keyGroupRead); err != nil {
			return fail("%v", err)
		}
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	lopts := opts.AuthServer
	lopts.Logger = log
	cfg, closer, err := authserver.Load(ctx, *cfgPath, lopts)
	if err != nil {
		return fail("%v%s", err, opts.hint(err))
	}
	defer closer.Close()
	if kc := cfg.KeyCheck; kc != nil && kc.Replica == "" {
		// this server's own arguments name it, also when a process runs
		// several (tests)
		kc.Replica = authserver.DefaultReplicaName(cfg.Issuer, args)
	}
	warnReplicas(log, name, asReplicaHints(cfg), "each keeps its own replay store and rate limits: an ID-JAG, a client assertion or an authorization code can be redeemed once per replica, and limits multiply")
	as, err := authserver.New(cfg)
	if err != nil {
		return fail("%v", err)
	}
	kind := storeKind(cfg)
	rctx, cancel := context.WithTimeout(ctx, startReadyTimeout)
	if err := as.Ready(rctx); err != nil {
		log.Error(name+": starting not ready; /readyz answers 503 until this clears", slog.Any("cause", err))
	}
	cancel()
	public, health, err := probes(as, *healthListen != "", log, name, "-health-listen", as.Routes())
	if err != nil {
		return fail("%v", err)
	}
	return serveUntil(ctx, runSpec{
		name: name, log: log, stdout: stdout, stderr: stderr, listen: opts.Listen,
		public:     listener{addr: *listen, handler: public, headerBytes: asHeaderBytes, tls: tlsCfg},
		health:     listener{addr: *healthListen, handler: health, headerBytes: probeHeaderBytes},
		readHeader: defaultReadHeaderTimeout, read: defaultASReadTimeout, write: defaultASReadTimeout,
		idle: defaultServerIdleTimeout, shutdown: defaultShutdownTimeout,
		announce: func(url string) string {
			return fmt.Sprintf("serving %s (issuer %s, stores %s)", url, as.Issuer(), kind)
		},
	})
}

// storeKind names where the server's state lives, for the start-up line:
// "memory (per process)" unless a factory installed shared stores.
func storeKind(cfg authserver.Config) string {
	if cfg.ReplayStore == nil && cfg.RateLimiter == nil {
		return "memory (per process)"
	}
	return fmt.Sprintf("shared (%T)", cfg.ReplayStore)
}
