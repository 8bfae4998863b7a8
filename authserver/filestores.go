package authserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mcpauthz/mcpauthz/internal/strictyaml"
)

// StoreMemory is the default stores.kind: every store in this process.
const StoreMemory = "memory"

// fileStores is the "stores" section: where the state replicas must share
// lives.
type fileStores struct {
	Kind    string         `yaml:"kind"`
	Options map[string]any `yaml:"options"`
}

// StoreFactory installs the shared stores of the kind it is registered
// under (stores.kind in the file) into cfg, built from stores.options: at
// least Config.ReplayStore and Config.RateLimiter, and Broker.RefreshStore,
// Broker.ConsentStore and Registration.Store when cfg has those sections.
// It may move the file's bounds of the default memory stores (such as
// Broker.MaxConsents, Registration.MaxBytes and IdleLifetime) into its own
// stores, and must then zero them in cfg. It returns what must be closed
// when the server is retired (nil if nothing). It is called once, after
// the rest of the file was read, with cfg.Logger set. A store that cannot
// be reached at start must not fail the factory: the server starts not
// ready (Server.Ready) and recovers when the store answers.
// stores/redis's AuthServerStores is one.
type StoreFactory func(ctx context.Context, options map[string]any, cfg *Config) (io.Closer, error)

// LoadOptions are what the file cannot say: the registry of store kinds and
// the logger. The zero value knows only the memory stores.
type LoadOptions struct {
	// Stores registers stores.kind names besides "memory". OPTIONAL.
	Stores map[string]StoreFactory
	// Logger becomes Config.Logger (and the factory's logger). OPTIONAL;
	// nil leaves Config.Logger nil (logs discarded).
	Logger *slog.Logger
}

// Load reads the configuration file at path, as [LoadConfig] does, then
// builds the stores its stores: section names with the factory registered
// for stores.kind and returns the Config with them installed, and what to
// close when the server is retired. A kind that is not registered is an
// error naming the registered ones: a file that asks for shared stores
// never runs on per-process ones. HTTPClient and Now are left nil.
func Load(ctx context.Context, path string, opts LoadOptions) (Config, io.Closer, error) {
	data, err := strictyaml.ReadFile(path, maxConfigBytes)
	if err != nil {
		return Config{}, nil, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	return loadConfig(ctx, data, filepath.Dir(path), opts, nil)
}

// loadConfig is Load on a document, with lookup for the environment
// (nil: os.LookupEnv).
func loadConfig(ctx context.Context, data []byte, baseDir string, opts LoadOptions, lookup func(string) (string, bool)) (Config, io.Closer, error) {
	cfg, st, err := parseFile(data, baseDir, lookup)
	if err != nil {
		return Config{}, nil, err
	}
	cfg.Logger = opts.Logger
	switch st.Kind {
	case "", StoreMemory:
		if len(st.Options) > 0 {
			return Config{}, nil, cfgErr("stores.options", "the memory stores take no options")
		}
		return cfg, nopCloser{}, nil
	}
	factory := opts.Stores[st.Kind]
	if factory == nil {
		return Config{}, nil, cfgErr("stores.kind", fmt.Sprintf("unknown store kind %q (this program registers: %s)", st.Kind, registered(opts.Stores)))
	}
	c, err := factory(ctx, st.Options, &cfg)
	if err != nil {
		return Config{}, nil, fmt.Errorf("%w: stores.kind %q: %w", ErrInvalidConfig, st.Kind, err)
	}
	if c == nil {
		c = nopCloser{}
	}
	return cfg, c, nil
}

// refuseStores is how LoadConfig and ParseConfig, which have no registry,
// treat a stores: section: memory is fine, anything else is an error.
func refuseStores(st fileStores) error {
	switch st.Kind {
	case "", StoreMemory:
		if len(st.Options) > 0 {
			return cfgErr("stores.options", "the memory stores take no options")
		}
		return nil
	}
	return cfgErr("stores.kind", fmt.Sprintf("%q needs a program that registers it: use authserver.Load with LoadOptions.Stores (the mcpauthz-redis binary registers \"redis\")", st.Kind))
}

func registered(m map[string]StoreFactory) string {
	names := []string{StoreMemory}
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// errNoForwardedFor is what ForwardedFor answers for a request without
// the header: such a request did not come through the proxy.
var errNoForwardedFor = errors.New("no X-Forwarded-For")

// LastForwardedFor is a Config.ClientAddress for a server behind one
// reverse proxy or load balancer that appends the peer's address to
// X-Forwarded-For: the last address of the last header, the one the proxy
// wrote (a client can set earlier ones itself). A request without the
// header gets the host of r.RemoteAddr. Any peer can set the header: use
// it only when no client reaches the server but through that proxy, or
// use [ForwardedForFrom] (what the file's behind_proxy: true with
// trusted_proxies selects; behind_proxy alone is refused).
func LastForwardedFor(r *http.Request) string {
	if a, err := lastForwarded(r); err == nil {
		return a
	}
	return remoteHost(r)
}

// ForwardedForFrom is [LastForwardedFor] for the requests whose peer is
// one of the trusted proxies (addresses or networks of the load balancers);
// a request from any other peer, which reached the server without passing
// a trusted proxy, gets the host of r.RemoteAddr whatever its headers say,
// so it cannot pick its own per-source bucket. The file's behind_proxy:
// true with trusted_proxies selects it.
func ForwardedForFrom(trusted []netip.Prefix) func(*http.Request) string {
	trusted = slices.Clone(trusted)
	return func(r *http.Request) string {
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil {
			return remoteHost(r)
		}
		peer := ap.Addr().Unmap()
		for _, p := range trusted {
			if p.Contains(peer) {
				return LastForwardedFor(r)
			}
		}
		return remoteHost(r)
	}
}

// parseTrustedProxies reads trusted_proxies: networks (10.0.0.0/8) or
// single addresses.
func parseTrustedProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, s := range list {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, cfgErr(fmt.Sprintf("trusted_proxies[%d]", i), "must be an address or a network such as 10.0.0.0/8")
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func lastForwarded(r *http.Request) (string, error) {
	xff := r.Header.Values("X-Forwarded-For")
	if len(xff) == 0 {
		return "", errNoForwardedFor
	}
	last := xff[len(xff)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	last = strings.TrimSpace(last)
	if last == "" || len(last) > 64 {
		return "", errNoForwardedFor
	}
	return last, nil
}
