package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// Defaults for [Config] and [ClientOptions].
const (
	DefaultTimeout      = time.Second
	DefaultPrefix       = "{mcpauthz}:"
	DefaultDialTimeout  = time.Second
	DefaultPoolTimeout  = 500 * time.Millisecond
	DefaultReadTimeout  = 500 * time.Millisecond
	DefaultWriteTimeout = 500 * time.Millisecond
)

// Config is shared by the constructors of this package.
type Config struct {
	// Client is the Redis client. REQUIRED. Build it with [ClientOptions]
	// for bounded timeouts, or bring your own (Sentinel, Cluster).
	Client redis.UniversalClient
	// Prefix starts every key and channel name. OPTIONAL; empty means
	// DefaultPrefix ("{mcpauthz}:"). Give each deployment its own.
	Prefix string
	// Timeout bounds each operation, on top of the client's timeouts.
	// OPTIONAL; zero means DefaultTimeout (1 s).
	Timeout time.Duration
	// Logger receives operational warnings (never key material).
	// OPTIONAL; nil discards.
	Logger *slog.Logger
}

// ErrInvalidConfig is wrapped by every constructor error.
var ErrInvalidConfig = errors.New("redisstore: invalid configuration")

type base struct {
	c       redis.UniversalClient
	prefix  string
	timeout time.Duration
	log     *slog.Logger
}

func newBase(cfg Config) (base, error) {
	if cfg.Client == nil {
		return base{}, fmt.Errorf("%w: Client is required", ErrInvalidConfig)
	}
	if cfg.Timeout < 0 {
		return base{}, fmt.Errorf("%w: Timeout must not be negative", ErrInvalidConfig)
	}
	b := base{c: cfg.Client, prefix: cfg.Prefix, timeout: cfg.Timeout, log: cfg.Logger}
	if b.prefix == "" {
		b.prefix = DefaultPrefix
	}
	if b.timeout == 0 {
		b.timeout = DefaultTimeout
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	return b, nil
}

func (b base) ctx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, b.timeout)
}

// key returns prefix + kind + ":" + hex(SHA-256(id)).
func (b base) key(kind, id string) string {
	sum := sha256.Sum256([]byte(id))
	return b.prefix + kind + ":" + hex.EncodeToString(sum[:])
}

// ping checks that Redis answers within the timeout.
func (b base) ping(ctx context.Context) error {
	ctx, cancel := b.ctx(ctx)
	defer cancel()
	if err := b.c.Ping(ctx).Err(); err != nil {
		return unavailable("PING", err)
	}
	return nil
}

// unavailable wraps a backend failure with core.ErrStoreUnavailable.
func unavailable(op string, err error) error {
	return fmt.Errorf("%w: redis %s: %v", core.ErrStoreUnavailable, op, err)
}

// ClientOptions parses a redis:// or rediss:// URL and applies bounded
// timeouts where the URL sets none: dial 1 s, read and write 500 ms, pool
// wait 500 ms, at most one retry of a command and no dial retries, so a
// command against an unreachable Redis fails within about 2 s (a refused
// connection within milliseconds). Use it as redis.NewClient(opts).
//
// Its dialer (go-redis's own, for TCP and TLS) hands go-redis connections
// that do not expose their file descriptor, as TLS connections already do
// not: go-redis then skips the non-blocking peek it otherwise makes on a
// plain TCP connection each time it takes one from the pool, one system
// call per command (about a third of the client's CPU per grant script on
// the benchmark VM). A connection the server closed meanwhile then fails
// on its next command instead of being dropped before it, and that
// command is retried once on a new connection (MaxRetries); the answer is
// never a guess either way.
func ClientOptions(url string) (*redis.Options, error) {
	o, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidConfig, withoutURL(err))
	}
	if o.DialTimeout == 0 || o.DialTimeout == 5*time.Second {
		o.DialTimeout = DefaultDialTimeout
	}
	if o.ReadTimeout == 0 || o.ReadTimeout == 3*time.Second {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout == 0 || o.WriteTimeout == 3*time.Second {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.PoolTimeout == 0 {
		o.PoolTimeout = DefaultPoolTimeout
	}
	if o.MaxRetries == 0 || o.MaxRetries == 3 {
		o.MaxRetries = 1
	}
	if o.DialerRetries == 0 {
		o.DialerRetries = 1
	}
	o.ContextTimeoutEnabled = true
	if o.Dialer == nil {
		dial := redis.NewDialer(o)
		o.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return opaqueConn{c}, nil
		}
	}
	return o, nil
}

// opaqueConn hides the connection's syscall.Conn (see ClientOptions).
type opaqueConn struct{ net.Conn }

// SenderOptions parses a redis:// or rediss:// URL into options for the
// rueidis client of ReplayConfig.Sender, with the bounds of
// [ClientOptions]: dial 1 s, each connection's reads and writes 500 ms
// (where the URL sets none), a pool of 10 × GOMAXPROCS connections for
// the streamed calls (whose wait for a free one is bounded by
// Config.Timeout), no client-side caching (nothing
// here reads cacheable values, and it would need CLIENT TRACKING). Use it
// as rueidis.NewClient(opts).
func SenderOptions(url string) (rueidis.ClientOption, error) {
	o, err := rueidis.ParseURL(url)
	if err != nil {
		return rueidis.ClientOption{}, fmt.Errorf("%w: %v", ErrInvalidConfig, withoutURL(err)) // net/url repeats the URL, password included
	}
	if o.Dialer.Timeout == 0 {
		o.Dialer.Timeout = DefaultDialTimeout
	}
	if o.ConnWriteTimeout == 0 {
		o.ConnWriteTimeout = DefaultWriteTimeout
	}
	if o.BlockingPoolSize == 0 {
		o.BlockingPoolSize = 10 * runtime.GOMAXPROCS(0)
	}
	o.DisableCache = true
	return o, nil
}

// BoundSender caps a Sender's dial (and handshake) at timeout/4 and each
// of its connections' reads and writes at timeout/2, where o sets longer
// ones. timeout is the GrantStore's Config.Timeout (zero: DefaultTimeout).
// A grant then answers within 2 × timeout whatever Redis does: the
// streamed call fails within timeout (a new connection: dial and
// handshake, each ≤ timeout/4; then the read ≤ timeout/2), and its one
// retry through go-redis (only after a failure that is not a timeout)
// within timeout. SenderOptions' defaults (dial 1 s, reads 500 ms) allow
// 1 s + 1 s + 500 ms + timeout. The file's sender: rueidis applies it.
func BoundSender(o *rueidis.ClientOption, timeout time.Duration) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if o.Dialer.Timeout == 0 || o.Dialer.Timeout > timeout/4 {
		o.Dialer.Timeout = timeout / 4
	}
	if o.Sentinel.Dialer.Timeout == 0 || o.Sentinel.Dialer.Timeout > timeout/4 {
		o.Sentinel.Dialer.Timeout = timeout / 4
	}
	if o.ConnWriteTimeout == 0 || o.ConnWriteTimeout > timeout/2 {
		o.ConnWriteTimeout = timeout / 2
	}
}
