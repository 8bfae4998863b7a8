package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/casbin/casbin/v2/persist"
	"github.com/jackc/pgx/v5"
)

// Defaults used when a WatcherConfig field is zero.
const (
	DefaultChannel      = "casbinauthz_policy"
	DefaultWatchTimeout = 5 * time.Second
	DefaultBackoffMin   = 100 * time.Millisecond
	DefaultBackoffMax   = 5 * time.Second
)

// WatcherConfig configures [NewWatcher].
type WatcherConfig struct {
	// DSN is the PostgreSQL connection string. REQUIRED.
	DSN string
	// Channel is the LISTEN/NOTIFY channel. OPTIONAL; default DefaultChannel.
	Channel string
	// Timeout bounds connecting, LISTEN and each Update. OPTIONAL; default
	// DefaultWatchTimeout.
	Timeout time.Duration
	// BackoffMin and BackoffMax bound the wait between reconnection
	// attempts (doubling from min to max). OPTIONAL; defaults
	// DefaultBackoffMin, DefaultBackoffMax.
	BackoffMin, BackoffMax time.Duration
	// Logger receives connection losses and recoveries. OPTIONAL; nil
	// discards.
	Logger *slog.Logger
}

// Watcher is a Casbin [persist.Watcher] over PostgreSQL LISTEN/NOTIFY. One
// dedicated connection listens; Update sends NOTIFY on a short-lived one.
// When the listening connection is lost the watcher reconnects with capped
// exponential backoff. Every time it starts listening (the first time
// too) it calls the callback once, because a change written before LISTEN
// took effect sent no notification it could see; a notification that
// arrives before SetUpdateCallback is delivered when the callback is set.
// Safe for concurrent use.
type Watcher struct {
	cfg    WatcherConfig
	log    *slog.Logger
	mu     sync.Mutex
	cb     func(string)
	missed bool // fired while no callback was set
	cancel context.CancelFunc
	done   chan struct{}
}

var _ persist.Watcher = (*Watcher)(nil)

// NewWatcher starts listening in the background and returns at once; the
// first connection attempt may still be in progress (or failing: it is
// retried, and the callback fires when it succeeds after a failure).
func NewWatcher(cfg WatcherConfig) (*Watcher, error) {
	if cfg.DSN == "" {
		return nil, errors.New("postgres: WatcherConfig.DSN is required")
	}
	if _, err := pgx.ParseConfig(cfg.DSN); err != nil {
		return nil, fmt.Errorf("postgres: watcher DSN: %w", err)
	}
	if cfg.Channel == "" {
		cfg.Channel = DefaultChannel
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultWatchTimeout
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = DefaultBackoffMin
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = max(DefaultBackoffMax, cfg.BackoffMin)
	}
	w := &Watcher{cfg: cfg, log: cfg.Logger, done: make(chan struct{})}
	if w.log == nil {
		w.log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.cancel = cancel
	go w.loop(ctx)
	return w, nil
}

// SetUpdateCallback sets the function called on every notification.
// If a notification (or the start of listening) came before it was set,
// f is called once at once.
func (w *Watcher) SetUpdateCallback(f func(string)) error {
	w.mu.Lock()
	w.cb = f
	missed := w.missed && f != nil
	w.missed = false
	w.mu.Unlock()
	if missed {
		f("missed")
	}
	return nil
}

func (w *Watcher) fire(payload string) {
	w.mu.Lock()
	cb := w.cb
	if cb == nil {
		w.missed = true
	}
	w.mu.Unlock()
	if cb != nil {
		cb(payload)
	}
}

// Update notifies every watcher on the channel (this one included) that
// the policy changed. Call it after writing the policy table.
func (w *Watcher) Update() error {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.Timeout)
	defer cancel()
	c, err := pgx.Connect(ctx, w.cfg.DSN)
	if err != nil {
		return fmt.Errorf("postgres: watcher update: %w", err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(ctx, "SELECT pg_notify($1, $2)", w.cfg.Channel, "policy"); err != nil {
		return fmt.Errorf("postgres: watcher update: %w", err)
	}
	return nil
}

// Close stops listening; the callback is not called afterwards.
func (w *Watcher) Close() {
	w.cancel()
	<-w.done
	w.mu.Lock()
	w.cb = nil
	w.mu.Unlock()
}

func (w *Watcher) loop(ctx context.Context) {
	defer close(w.done)
	backoff, lost := w.cfg.BackoffMin, false
	for ctx.Err() == nil {
		connected, err := w.listen(ctx, &lost)
		if ctx.Err() != nil {
			return
		}
		if connected {
			backoff = w.cfg.BackoffMin
		}
		if !lost {
			w.log.Error("postgres: policy watcher lost its connection; retrying", "error", err)
		}
		lost = true
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, w.cfg.BackoffMax)
	}
}

// listen connects, LISTENs and delivers notifications until the connection
// fails. It fires the callback once listening (changes made before LISTEN
// sent no notification this connection could see).
func (w *Watcher) listen(ctx context.Context, lost *bool) (connected bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	c, err := pgx.Connect(cctx, w.cfg.DSN)
	if err != nil {
		cancel()
		return false, err
	}
	defer c.Close(context.Background())
	_, err = c.Exec(cctx, "LISTEN "+pgx.Identifier{w.cfg.Channel}.Sanitize())
	cancel()
	if err != nil {
		return false, err
	}
	if *lost {
		w.log.Info("postgres: policy watcher listening again")
		*lost = false
	}
	w.fire("listening")
	for {
		n, err := c.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		w.fire(n.Payload)
	}
}
