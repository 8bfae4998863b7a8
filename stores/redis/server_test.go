package redisstore

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a real redis-server process on a free loopback port with a
// throwaway directory and no persistence. Stop and Start keep the port, to
// simulate an outage.
type redisServer struct {
	t    testing.TB
	port int
	dir  string
	cmd  *exec.Cmd
}

func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is required (.ci/run installs it): %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	s := &redisServer{t: t, port: port, dir: t.TempDir()}
	s.Start()
	t.Cleanup(s.Stop)
	return s
}

func (s *redisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Start runs redis-server and waits until it answers PING (at most 10 s).
func (s *redisServer) Start() {
	s.t.Helper()
	s.cmd = exec.Command("redis-server", "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir, "--maxmemory", "256mb",
		"--maxmemory-policy", "noeviction", "--loglevel", "warning")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server: %v", err)
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s did not start: %v", s.Addr(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills redis-server and waits for it to exit.
func (s *redisServer) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// client returns a client with this package's bounded options.
func (s *redisServer) client(t testing.TB) *redis.Client { return s.clientWith(t, nil) }

// patient returns a client for tests that check atomicity under 1,000
// concurrent calls rather than latency: on a loaded CI machine the default
// bounds would (correctly) turn some calls into ErrStoreUnavailable.
func (s *redisServer) patient(t testing.TB) *redis.Client {
	return s.clientWith(t, func(o *redis.Options) {
		o.PoolSize, o.PoolTimeout, o.ReadTimeout, o.WriteTimeout = 64, 20*time.Second, 10*time.Second, 10*time.Second
	})
}

func (s *redisServer) clientWith(t testing.TB, edit func(*redis.Options)) *redis.Client {
	t.Helper()
	o, err := ClientOptions(fmt.Sprintf("redis://%s/0", s.Addr()))
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
