package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/casbin/casbin/v2/persist"
	"github.com/redis/go-redis/v9"
)

// Watcher is a Casbin [persist.Watcher] over Redis pub/sub. Update
// publishes on the channel Config.Prefix+"policy"; every other Watcher on
// that channel calls its update callback (typically a policy reload). The
// subscription is re-established by go-redis after a connection loss, and
// the callback is then called once with "resync", because updates published
// while the connection was down were lost.
type Watcher struct {
	base
	channel string
	id      string
	ps      *redis.PubSub
	mu      sync.Mutex
	cb      func(string)
	done    chan struct{}
	once    sync.Once
}

var _ persist.Watcher = (*Watcher)(nil)

// NewWatcher subscribes and returns a running Watcher. It returns an error
// wrapping core.ErrStoreUnavailable when the subscription is not confirmed
// within Config.Timeout; the caller may retry. Close stops it.
func NewWatcher(ctx context.Context, cfg Config) (*Watcher, error) {
	return startWatcher(ctx, cfg, true)
}

// startWatcher is NewWatcher; with confirm false it does not wait for the
// subscription (Redis may be down): go-redis subscribes as soon as Redis
// answers, and the callback is then called with "resync".
func startWatcher(ctx context.Context, cfg Config, confirm bool) (*Watcher, error) {
	b, err := newBase(cfg)
	if err != nil {
		return nil, err
	}
	var rb [8]byte
	_, _ = rand.Read(rb[:])
	w := &Watcher{base: b, channel: b.prefix + "policy", id: hex.EncodeToString(rb[:]), done: make(chan struct{})}
	w.ps = b.c.Subscribe(ctx, w.channel)
	if confirm {
		cctx, cancel := b.ctx(ctx)
		defer cancel()
		if _, err := w.ps.Receive(cctx); err != nil {
			_ = w.ps.Close()
			return nil, unavailable("SUBSCRIBE", err)
		}
	}
	go w.loop(w.ps.ChannelWithSubscriptions())
	return w, nil
}

func (w *Watcher) loop(ch <-chan any) {
	defer close(w.done)
	for m := range ch {
		switch m := m.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				w.log.Info("redisstore: policy channel resubscribed; reloading")
				w.call("resync")
			}
		case *redis.Message:
			from, msg, _ := strings.Cut(m.Payload, " ")
			if from != w.id {
				w.call(msg)
			}
		}
	}
}

func (w *Watcher) call(msg string) {
	w.mu.Lock()
	cb := w.cb
	w.mu.Unlock()
	if cb != nil {
		cb(msg)
	}
}

// SetUpdateCallback implements [persist.Watcher].
func (w *Watcher) SetUpdateCallback(f func(string)) error {
	w.mu.Lock()
	w.cb = f
	w.mu.Unlock()
	return nil
}

// Update implements [persist.Watcher]: it tells the other replicas to
// reload. It returns an error wrapping core.ErrStoreUnavailable when Redis
// cannot be reached within Config.Timeout.
func (w *Watcher) Update() error {
	ctx, cancel := w.ctx(context.Background())
	defer cancel()
	if err := w.c.Publish(ctx, w.channel, w.id+" update").Err(); err != nil {
		return unavailable("PUBLISH", err)
	}
	return nil
}

// Close implements [persist.Watcher]: it unsubscribes and waits for the
// delivery goroutine to stop; the callback is not called afterwards.
func (w *Watcher) Close() {
	w.once.Do(func() {
		_ = w.ps.Close()
		<-w.done
		w.mu.Lock()
		w.cb = nil
		w.mu.Unlock()
	})
}

// String names the watcher's channel, for logs.
func (w *Watcher) String() string { return fmt.Sprintf("redisstore.Watcher(%s)", w.channel) }

// Ready implements core.ReadinessChecker: Redis answers a PING within
// Config.Timeout. (While it does not, updates are missed; the watcher
// reloads once when its subscription is back.)
func (w *Watcher) Ready(ctx context.Context) error { return w.ping(ctx) }
