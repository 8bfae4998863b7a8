// Package serve runs the long-lived commands of the mcpauthz binary: the
// Guard as a reverse proxy ([Proxy], "mcpauthz proxy") and the embedded
// authorization server ([AuthServer], "mcpauthz authserver"), each from its
// configuration file. It is a package, not only a main, so that a binary
// in another module can run the same commands with more store kinds
// registered: the root module imports no Redis driver, and
// stores/redis/cmd/mcpauthz-redis is this binary with the Redis stores
// registered for both files ([Options]). An unregistered kind named by a
// file fails start-up with an error listing the registered ones.
package serve

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
)

// Options are the registries a binary brings. The zero value is the
// mcpauthz binary: memory stores and the file policy source only.
type Options struct {
	// Name prefixes messages and log lines. OPTIONAL; default "mcpauthz".
	Name string
	// Config registers the Guard file's policy.source and stores.sessions
	// kinds (config.Options.PolicySources and Stores). Its Logger is
	// replaced by the command's. OPTIONAL.
	Config config.Options
	// AuthServer registers the authorization server file's stores.kind
	// (authserver.LoadOptions.Stores). Its Logger is replaced by the
	// command's. OPTIONAL.
	AuthServer authserver.LoadOptions
	// Listen opens the listener of each address the command serves (the
	// public one, then the health one when set); the command closes it
	// when it stops. OPTIONAL; default net.Listen("tcp", addr). A program
	// that runs a command in-process can hand over listeners it opened
	// itself: a test whose files name the command's address before it
	// starts, where a port picked free and released could be taken
	// meanwhile.
	Listen func(addr string) (net.Listener, error)
}

// hint is added to a start-up error about an unregistered store kind in
// the mcpauthz binary, which registers none.
func (o Options) hint(err error) string {
	if o.Name == "" && strings.Contains(err.Error(), "unknown store") {
		return "; the mcpauthz-redis binary (go install github.com/mcpauthz/mcpauthz/stores/redis/cmd/mcpauthz-redis) registers \"redis\""
	}
	return ""
}

func (o Options) name() string {
	if o.Name == "" {
		return "mcpauthz"
	}
	return o.Name
}

// command is one command's name and error output.
type command struct {
	name   string // "mcpauthz proxy"
	stderr io.Writer
}

// fail prints "<name>: <message>" on stderr and returns exit code 2.
func (c command) fail(format string, a ...any) int {
	fmt.Fprintf(c.stderr, c.name+": "+format+"\n", a...)
	return 2
}

// parse parses the flags and checks that -config is set and nothing
// follows the flags; ok false means exit with code.
func (c command) parse(fs *flag.FlagSet, args []string, cfgPath *string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		return 2, false
	}
	if *cfgPath == "" || fs.NArg() > 0 {
		fs.Usage()
		return c.fail("-config is required"), false
	}
	return 0, true
}

// Server defaults shared by the commands.
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultServerIdleTimeout = 2 * time.Minute
	defaultShutdownTimeout   = 30 * time.Second
	probeHeaderBytes         = 4 << 10 // the health listener's requests carry no token
)

// listener is one address to serve.
type listener struct {
	addr        string // "" = none (health only)
	handler     http.Handler
	headerBytes int
	tls         *tls.Config // nil = plain HTTP (loadTLS)
}

// runSpec is what serveUntil runs.
type runSpec struct {
	name             string
	log              *slog.Logger
	stdout, stderr   io.Writer
	public, health   listener
	readHeader, idle time.Duration
	read, write      time.Duration // 0 = none
	shutdown         time.Duration
	listen           func(addr string) (net.Listener, error) // Options.Listen
	announce         func(url string) string                 // the line printed once serving
	beforeDrain      func()                                  // OPTIONAL
}

// serveUntil listens, prints the announce line (and the probes' address),
// serves until ctx is done or a server fails, then shuts down gracefully:
// stop accepting, let requests in progress finish until the shutdown
// deadline, then cut the rest. It returns the exit code.
func serveUntil(ctx context.Context, r runSpec) int {
	// Handlers run under base: cancelling it cuts whatever the drain
	// deadline did not let finish.
	base, cutAll := context.WithCancel(context.WithoutCancel(ctx))
	defer cutAll()
	newServer := func(l listener) *http.Server {
		return &http.Server{
			// A declared body that never arrives must not hold the
			// connection: without ReadTimeout (the proxy) nothing else
			// bounds net/http's discard of an unread body before a probe,
			// metadata or 404 answer (attack-4).
			Handler: core.BoundBodyReads(l.handler, core.BodyReadConfig{Logger: r.log}), ReadHeaderTimeout: r.readHeader, ReadTimeout: r.read, WriteTimeout: r.write,
			IdleTimeout: r.idle, MaxHeaderBytes: l.headerBytes,
			BaseContext: func(net.Listener) context.Context { return base },
			ErrorLog:    slog.NewLogLogger(r.log.Handler(), slog.LevelWarn),
		}
	}
	specs := []listener{r.public}
	if r.health.addr != "" {
		specs = append(specs, r.health)
	}
	listen := r.listen
	if listen == nil {
		listen = func(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
	}
	var servers []*http.Server
	var lns []net.Listener
	for _, l := range specs {
		ln, err := listen(l.addr)
		if err == nil && ln == nil {
			err = fmt.Errorf("listen %s: Options.Listen returned no listener", l.addr)
		}
		if err != nil {
			for _, o := range lns {
				o.Close()
			}
			fmt.Fprintf(r.stderr, "%s: %v\n", r.name, err)
			return 2
		}
		servers, lns = append(servers, newServer(l)), append(lns, ln)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() {
			var err error
			if specs[i].tls != nil {
				srv.TLSConfig = specs[i].tls
				err = srv.ServeTLS(lns[i], "", "")
			} else {
				err = srv.Serve(lns[i])
			}
			errc <- err
		}()
	}
	scheme := "http"
	if r.public.tls != nil {
		scheme = "https"
	}
	fmt.Fprintf(r.stdout, "%s: %s\n", r.name, r.announce(scheme+"://"+lns[0].Addr().String()))
	if len(lns) > 1 {
		fmt.Fprintf(r.stdout, "%s: probes on http://%s/readyz and /livez\n", r.name, lns[1].Addr())
	}
	code := 0
	select {
	case <-ctx.Done():
	case err := <-errc:
		r.log.Error(r.name+": server failed", slog.Any("cause", err))
		code = 1
	}
	r.log.Info(r.name + ": shutting down")
	if r.beforeDrain != nil {
		r.beforeDrain()
	}
	drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.shutdown)
	defer cancel()
	for _, srv := range servers {
		if err := srv.Shutdown(drain); err != nil {
			r.log.Warn(r.name+": drain deadline passed, cutting the requests in progress", slog.Any("cause", err))
			cutAll()
			_ = srv.Close()
		}
	}
	return code
}

// probes returns the public handler and the health mux. With a separate
// health listener the public handler is h alone. Otherwise /readyz and
// /livez share the public address, where /readyz says only "not ready"
// and the cause (it names internal URLs) goes to the log; a resource or
// metadata path on /readyz or /livez is then an error naming knob.
func probes(h interface {
	http.Handler
	core.ReadinessChecker
}, separate bool, log *slog.Logger, name, knob string, paths []string) (http.Handler, http.Handler, error) {
	health := http.NewServeMux()
	health.Handle("/readyz", core.ReadyHandler(h, 0))
	health.Handle("/livez", core.LiveHandler())
	if separate {
		return h, health, nil
	}
	if slices.Contains(paths, "/readyz") || slices.Contains(paths, "/livez") {
		return nil, nil, fmt.Errorf("a served path collides with the probes /readyz and /livez: set %s", knob)
	}
	mux := http.NewServeMux()
	mux.Handle("/readyz", core.ReadyHandler(core.ReadyFunc(func(ctx context.Context) error {
		if err := h.Ready(ctx); err != nil {
			log.LogAttrs(ctx, slog.LevelWarn, name+": not ready", slog.Any("cause", err))
			return errPublicNotReady
		}
		return nil
	}), 0))
	mux.Handle("/livez", health)
	mux.Handle("/", h)
	return mux, health, nil
}

// errPublicNotReady is all the public /readyz says: the cause names
// internal URLs.
var errPublicNotReady = fmt.Errorf("%w: the cause is in the log (a separate health listener serves it)", core.ErrNotReady)

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
