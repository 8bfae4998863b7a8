package redisstore

import (
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"

	"github.com/mcpauthz/mcpauthz/stores/redis/redistest"
)

type redisServer struct{ *redistest.Server }

func startRedis(t testing.TB) *redisServer { return &redisServer{redistest.Start(t)} }

// client returns a client with this package's bounded options.
func (s *redisServer) client(t testing.TB) *redis.Client { return s.clientWith(t, nil) }

// patient returns a client for tests that check atomicity under 1,000
// concurrent calls rather than latency: on a loaded CI machine the default
// bounds would (correctly) turn some calls into ErrStoreUnavailable. Pair
// it with a long Config.Timeout (the store's own per-call deadline).
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
