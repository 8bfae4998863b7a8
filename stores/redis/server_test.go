package redisstore

import (
	"context"
	"errors"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/mcpauthz/mcpauthz/stores/redis/redistest"
)

type redisServer struct {
	*redistest.Server
	mu      sync.Mutex
	clients []*redis.Client // made by clientWith, for restart
}

func startRedis(t testing.TB) *redisServer { return &redisServer{Server: redistest.Start(t)} }

// restart starts the server again after Stop and waits until every
// go-redis client made by s.client talks to it again.
//
// After PoolSize failed dials (calls while Redis was down) a go-redis pool
// stops dialing and redials in the background once a second
// (pool.tryDial); until that succeeds every call fails at once with the
// last dial error, so a call made right after the restart may fail for up
// to ~1 s. The wait is event-driven: a dial hook reports each successful
// dial, and a client that failed to dial is pinged again only after one.
// It is bounded (10 s per client).
func (s *redisServer) restart(t testing.TB) {
	t.Helper()
	s.Start()
	s.mu.Lock()
	clients := slices.Clone(s.clients)
	s.mu.Unlock()
	for _, c := range clients {
		reconnected(t, c)
	}
}

// reconnected waits until c answers PING (see restart).
func reconnected(t testing.TB, c *redis.Client) {
	t.Helper()
	dialed := make(chan struct{}, 1)
	c.AddHook(dialSignal{dialed})
	limit := time.After(10 * time.Second)
	for range 1000 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		var op *net.OpError
		if !errors.As(err, &op) || op.Op != "dial" {
			continue // a connection that died with the old server: dropped, try the next
		}
		select { // the pool redials in the background: wait for it
		case <-dialed:
		case <-limit:
			t.Fatalf("redis client did not reconnect within 10 s: %v", err)
		}
	}
	t.Fatal("redis client did not reconnect after 1000 pings")
}

// dialSignal is a go-redis hook that reports every successful dial.
type dialSignal struct{ ch chan<- struct{} }

func (d dialSignal) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := next(ctx, network, addr)
		if err == nil {
			select {
			case d.ch <- struct{}{}:
			default:
			}
		}
		return conn, err
	}
}

func (dialSignal) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (dialSignal) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// client returns a client with this package's bounded options.
func (s *redisServer) client(t testing.TB) *redis.Client { return s.clientWith(t, nil) }

// patientTimeout is the Config.Timeout of the stores of contract suites:
// they check answers, not latency. With the default (1 s) a loaded CI
// machine failed TestRefreshStoreContract's 96 concurrent saves of one
// subject with "context deadline exceeded" (23 of 90 runs at a load of
// about 20: redis-server descheduled, one save script took 850 ms by its
// SLOWLOG; 56 µs on average on a less loaded machine).
const patientTimeout = 20 * time.Second

// patient returns a client for tests that check atomicity under 1,000
// concurrent calls rather than latency: on a loaded CI machine the default
// bounds would (correctly) turn some calls into ErrStoreUnavailable. Pair
// it with a long Config.Timeout (the store's own per-call deadline), such
// as patientTimeout.
func (s *redisServer) patient(t testing.TB) *redis.Client {
	return s.clientWith(t, func(o *redis.Options) {
		o.PoolSize, o.PoolTimeout, o.ReadTimeout, o.WriteTimeout = 64, 20*time.Second, 10*time.Second, 10*time.Second
	})
}

func (s *redisServer) clientWith(t testing.TB, edit func(*redis.Options)) *redis.Client {
	t.Helper()
	o, err := ClientOptions(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(o)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	s.mu.Lock()
	s.clients = append(s.clients, c)
	s.mu.Unlock()
	return c
}

// sender returns a rueidis client for ReplayConfig.Sender with this
// package's bounded options.
func (s *redisServer) sender(t testing.TB) rueidis.Client { return s.senderWith(t, nil) }

// patientSender is sender for the atomicity tests (see patient).
func (s *redisServer) patientSender(t testing.TB) rueidis.Client {
	return s.senderWith(t, func(o *rueidis.ClientOption) {
		o.BlockingPoolSize, o.ConnWriteTimeout, o.Dialer.Timeout = 64, 10*time.Second, 10*time.Second
	})
}

func (s *redisServer) senderWith(t testing.TB, edit func(*rueidis.ClientOption)) rueidis.Client {
	t.Helper()
	o, err := SenderOptions(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&o)
	}
	c, err := rueidis.NewClient(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}
