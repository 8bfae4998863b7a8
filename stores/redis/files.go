package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
)

// Kind is the store kind this package registers in both configuration
// files: stores.kind of the authorization server's file and
// stores.sessions of the Guard's file.
const Kind = "redis"

// FileOptions is the stores.options map of kind "redis", in both files:
//
//	url: ${REDIS_URL}          # REQUIRED: redis:// or rediss:// (TLS), with user, password and db
//	prefix: "{acme-prod}:"     # OPTIONAL: DefaultPrefix; one per deployment sharing a Redis
//	timeout: 1s                # OPTIONAL: DefaultTimeout, bound of each operation
//	quarantine: 6m             # OPTIONAL, authorization server only: DefaultQuarantine
//
// The client is built with [ClientOptions] (bounded dial, read, write and
// pool timeouts). Unknown keys and wrongly typed values are errors naming
// the key. A Sentinel or Cluster deployment needs a program of its own
// that builds its redis.UniversalClient and sets the stores in Go.
type FileOptions struct {
	URL        string
	Prefix     string
	Timeout    time.Duration
	Quarantine time.Duration
}

// ParseFileOptions reads stores.options. quarantine is accepted only when
// replay is true (the authorization server's file).
func ParseFileOptions(options map[string]any, replay bool) (FileOptions, error) {
	var o FileOptions
	known := []string{"url", "prefix", "timeout"}
	if replay {
		known = append(known, "quarantine")
	}
	for _, k := range slices.Sorted(maps.Keys(options)) {
		v := options[k]
		if !slices.Contains(known, k) {
			return o, fmt.Errorf("stores.options.%s: unknown key (known: %s)", k, strings.Join(known, ", "))
		}
		s, ok := v.(string)
		if !ok {
			return o, fmt.Errorf("stores.options.%s: must be a string", k)
		}
		switch k {
		case "url":
			o.URL = s
		case "prefix":
			o.Prefix = s
		case "timeout", "quarantine":
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 {
				return o, fmt.Errorf("stores.options.%s: must be a positive duration such as 1s", k)
			}
			if k == "timeout" {
				o.Timeout = d
			} else {
				o.Quarantine = d
			}
		}
	}
	if o.URL == "" {
		return o, errors.New("stores.options.url: is required (redis://host:6379/0 or rediss://…; use ${NAME} for a URL with a password)")
	}
	return o, nil
}

// fileClient parses stores.options and builds its client and the package
// Config around it, logging to log.
func fileClient(options map[string]any, replay bool, log *slog.Logger) (FileOptions, *redis.Client, Config, error) {
	o, err := ParseFileOptions(options, replay)
	if err != nil {
		return o, nil, Config{}, err
	}
	ro, err := ClientOptions(o.URL)
	if err != nil {
		return o, nil, Config{}, fmt.Errorf("stores.options.url: %w", err)
	}
	c := redis.NewClient(ro)
	return o, c, Config{Client: c, Prefix: o.Prefix, Timeout: o.Timeout, Logger: log}, nil
}

// AuthServerStores is an [authserver.StoreFactory]: register it as
// authserver.LoadOptions.Stores["redis"]. It installs, on one Redis client,
// a [GrantStore] as Config.ReplayStore and Config.RateLimiter, and, with
// the file's broker section, a [RefreshStore] (the broker's refresh
// lifetimes) and a [ConsentStore] (broker.max_consents becomes its
// MaxEntries), and, with the registration section, a [ClientStore]
// (registration.max_bytes, idle_lifetime and max_per_subject become its
// bounds). The
// returned Closer closes the client. An unreachable Redis does not fail
// it: the server starts not ready and answers 503 until Redis answers.
// broker.max_refresh_families bounds only the memory store and is an
// error here (Redis bounds each user's families instead). A nil cfg is
// ErrInvalidConfig.
func AuthServerStores(ctx context.Context, options map[string]any, cfg *authserver.Config) (io.Closer, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: AuthServerStores needs the authserver.Config to install into", ErrInvalidConfig)
	}
	o, c, base, err := fileClient(options, true, cfg.Logger)
	if err != nil {
		return nil, err
	}
	if err := installAuthStores(ctx, o, base, cfg); err != nil {
		_ = c.Close()
		return nil, err
	}
	return c, nil
}

func installAuthStores(ctx context.Context, o FileOptions, base Config, cfg *authserver.Config) error {
	gs, err := NewGrantStore(ctx, ReplayConfig{Config: base, Quarantine: o.Quarantine})
	if err != nil {
		return err
	}
	cfg.ReplayStore, cfg.RateLimiter = gs, gs
	if b := cfg.Broker; b != nil {
		if b.MaxRefreshFamilies != 0 {
			return errors.New("broker.max_refresh_families bounds the memory store only; Redis bounds each user's families (RefreshLimits): remove it")
		}
		rs, err := NewRefreshStore(RefreshConfig{Config: base, IdleLifetime: b.RefreshIdleLifetime, AbsoluteLifetime: b.RefreshAbsoluteLifetime})
		if err != nil {
			return err
		}
		cs, err := NewConsentStore(ConsentConfig{Config: base, MaxEntries: b.MaxConsents})
		if err != nil {
			return err
		}
		b.RefreshStore, b.ConsentStore, b.MaxConsents = rs, cs, 0
	}
	if r := cfg.Registration; r != nil {
		st, err := NewClientStore(ClientConfig{Config: base, MaxBytes: r.MaxBytes, IdleLifetime: r.IdleLifetime, MaxPerSubject: r.MaxPerSubject})
		if err != nil {
			return err
		}
		r.Store, r.MaxBytes, r.IdleLifetime, r.MaxPerSubject = st, 0, 0, 0
	}
	return nil
}

// GuardSessions is a config.StoreFactory: register it as
// config.Options.Stores["redis"]. It sets core.Config.Sessions to
// [SessionBindings] on a client of its own, which the returned Closer
// closes. An unreachable Redis does not fail it: requests that need a
// session binding answer 503 until Redis answers, the others are served.
// A nil cfg is ErrInvalidConfig.
func GuardSessions(_ context.Context, options map[string]any, cfg *core.Config) (io.Closer, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: GuardSessions needs the core.Config to install into", ErrInvalidConfig)
	}
	_, c, base, err := fileClient(options, false, cfg.Logger)
	if err != nil {
		return nil, err
	}
	s, err := NewSessionBindings(base)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	cfg.Sessions = s
	return c, nil
}

// Registries returns the registries that add kind "redis" to both files,
// for a program that runs them (stores/redis/cmd/mcpauthz-redis).
func Registries() (config.Options, authserver.LoadOptions) {
	return config.Options{Stores: map[string]config.StoreFactory{Kind: GuardSessions}},
		authserver.LoadOptions{Stores: map[string]authserver.StoreFactory{Kind: AuthServerStores}}
}
