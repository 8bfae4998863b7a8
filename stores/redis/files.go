package redisstore

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/casbin/casbin/v2/persist"
	"github.com/redis/go-redis/v9"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
)

// Kind is the store kind this package registers in both configuration
// files: stores.kind of the authorization server's file and
// stores.sessions of the Guard's file.
const Kind = "redis"

// fileClient parses the options at path for use and builds its client
// and the package Config around it, logging to log.
func fileClient(options map[string]any, use fileUse, path string, log *slog.Logger) (FileOptions, redis.UniversalClient, Config, error) {
	o, err := parseFileOptions(options, use, path)
	if err != nil {
		return o, nil, Config{}, err
	}
	c, err := o.client(path)
	if err != nil {
		return o, nil, Config{}, err
	}
	return o, c, Config{Client: c, Prefix: o.Prefix, Timeout: o.Timeout, Logger: log}, nil
}

// AuthServerStores is an [authserver.StoreFactory]: register it as
// authserver.LoadOptions.Stores["redis"]. It installs, on one Redis client,
// a [GrantStore] as Config.ReplayStore and Config.RateLimiter, and, with
// the file's broker section, a [RefreshStore] (the broker's refresh
// lifetimes) and a [ConsentStore] (broker.max_consents becomes its
// MaxEntries), and, with the registration section, a [ClientStore]
// (registration.max_bytes, idle_lifetime and max_per_subject become its
// bounds). It also turns on the signing key check (Config.KeyCheck, with
// its defaults) on a [KeyRegistry], unless cfg has one: a replica whose
// keys disagree with most replicas' is not ready. The
// returned Closer closes the client. An unreachable Redis does not fail
// it: the server starts not ready and answers 503 until Redis answers.
// broker.max_refresh_families bounds only the memory store and is an
// error here (Redis bounds each user's families instead). A nil cfg is
// ErrInvalidConfig, and so is a quarantine (stores.options.quarantine,
// default 12 min) shorter than the server's longest replay mark
// (authserver.Config.ReplayMarkLifetime: max_assertion_lifetime +
// 2 × leeway + replay_clock_skew, or with a broker login_lifetime +
// leeway + 2 × replay_clock_skew if longer): identifiers accepted before
// a failover could be redeemed again after it.
// stores.options.trust_append_fsync_always sets the refresh store's
// RefreshConfig.TrustAppendFsyncAlways (an error without a broker).
func AuthServerStores(ctx context.Context, options map[string]any, cfg *authserver.Config) (io.Closer, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: AuthServerStores needs the authserver.Config to install into", ErrInvalidConfig)
	}
	o, c, base, err := fileClient(options, useAS, "stores.options", cfg.Logger)
	if err != nil {
		return nil, err
	}
	if err := quarantineCovers(o.Quarantine, cfg); err != nil {
		_ = c.Close()
		return nil, err
	}
	cl := closers{c}
	rc := ReplayConfig{Config: base, Quarantine: o.Quarantine}
	if o.Sender == SenderRueidis {
		snd, err := o.sender()
		switch {
		case errors.Is(err, errSenderUnavailable):
			if cfg.Logger != nil {
				cfg.Logger.Warn("redisstore: stores.options.sender: rueidis could not reach Redis at start; grants use go-redis alone until the next restart", "err", err)
			}
		case err != nil:
			_ = cl.Close()
			return nil, err
		default:
			rc.Sender = snd
			cl = append(cl, rueidisCloser{snd})
		}
	}
	if err := installAuthStores(ctx, rc, o.TrustAppendFsyncAlways, cfg); err != nil {
		_ = cl.Close()
		return nil, err
	}
	if cfg.Logger != nil {
		sender := "none (go-redis alone)"
		if rc.Sender != nil {
			sender = SenderRueidis
		}
		cfg.Logger.Info("redisstore: authorization server stores on Redis", "redis", o.where(), "prefix", cmp.Or(rc.Prefix, DefaultPrefix), "timeout", cmp.Or(rc.Timeout, DefaultTimeout), "sender", sender)
	}
	return cl, nil
}

func installAuthStores(ctx context.Context, rc ReplayConfig, trust bool, cfg *authserver.Config) error {
	base := rc.Config
	gs, err := NewGrantStore(ctx, rc)
	if err != nil {
		return err
	}
	cfg.ReplayStore, cfg.RateLimiter = gs, gs
	if trust && cfg.Broker == nil {
		return fmt.Errorf("%w: stores.options.trust_append_fsync_always: applies to the broker's refresh tokens, and the file has no broker", ErrInvalidConfig)
	}
	if b := cfg.Broker; b != nil {
		if b.MaxRefreshFamilies != 0 {
			return errors.New("broker.max_refresh_families bounds the memory store only; Redis bounds each user's families (RefreshLimits): remove it")
		}
		rs, err := NewRefreshStore(RefreshConfig{Config: base, IdleLifetime: b.RefreshIdleLifetime, AbsoluteLifetime: b.RefreshAbsoluteLifetime,
			Quarantine: rc.Quarantine, TrustAppendFsyncAlways: trust})
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
	if cfg.KeyCheck == nil {
		kr, err := NewKeyRegistry(base)
		if err != nil {
			return err
		}
		cfg.KeyCheck = &authserver.KeyCheck{Registry: kr}
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
	o, c, base, err := fileClient(options, useGuard, "stores.options", cfg.Logger)
	if err != nil {
		return nil, err
	}
	if log := cfg.Logger; log != nil {
		log.Info("redisstore: Guard session bindings on Redis", "redis", o.where(), "prefix", cmp.Or(base.Prefix, DefaultPrefix))
	}
	s, err := NewSessionBindings(base)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	cfg.Sessions = s
	return c, nil
}

// PolicyWatcher is a config.WatcherFactory: register it as
// config.Options.Watchers["redis"]. It returns a [Watcher] on a client of
// its own, from policy.watcher.options (the keys of [FileOptions] but
// quarantine and sender), which its Close closes. It does not wait for
// Redis: an unreachable Redis does not fail it, and the watcher subscribes
// as soon as Redis answers (then the Authorizer reloads once, "resync").
func PolicyWatcher(ctx context.Context, options map[string]any, log *slog.Logger) (persist.Watcher, error) {
	o, c, base, err := fileClient(options, useWatcher, "policy.watcher.options", log)
	if err != nil {
		return nil, err
	}
	w, err := startWatcher(ctx, base, false)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	if log != nil {
		log.Info("redisstore: policy watcher on Redis", "redis", o.where(), "channel", w.channel)
	}
	return &fileWatcher{Watcher: w, c: c}, nil
}

// fileWatcher is a Watcher that owns its client.
type fileWatcher struct {
	*Watcher
	c redis.UniversalClient
}

// Close implements persist.Watcher: the Watcher, then its client.
func (w *fileWatcher) Close() {
	w.Watcher.Close()
	_ = w.c.Close()
}

// Registries returns the registries that add kind "redis" to both files
// (stores, and the Guard's policy.watcher), for a program that runs them
// (stores/redis/cmd/mcpauthz-redis).
func Registries() (config.Options, authserver.LoadOptions) {
	return config.Options{Stores: map[string]config.StoreFactory{Kind: GuardSessions}, Watchers: map[string]config.WatcherFactory{Kind: PolicyWatcher}},
		authserver.LoadOptions{Stores: map[string]authserver.StoreFactory{Kind: AuthServerStores}}
}

// quarantineCovers checks that the quarantine q (0: DefaultQuarantine)
// outlasts every one-time identifier the server cfg records
// (authserver.Config.ReplayMarkLifetime). authserver.New checks the same
// on the store; this names the file option.
func quarantineCovers(q time.Duration, cfg *authserver.Config) error {
	q = cmp.Or(q, DefaultQuarantine)
	if need := cfg.ReplayMarkLifetime(); q < need {
		return fmt.Errorf("%w: stores.options.quarantine %v must be at least the server's longest replay mark (%v: max_assertion_lifetime + 2 × leeway + replay_clock_skew, or with a broker login_lifetime + leeway + 2 × replay_clock_skew if longer)", ErrInvalidConfig, q, need)
	}
	return nil
}
