package redisproc

import (
	"context"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

func plainArgs(port int, dir string) ([]string, error) {
	return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", dir, "--loglevel", "notice"}, nil
}

func ping(t *testing.T, addr string) error {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
}

// TestStartRestart: the server answers, is ours, stops and restarts on the
// same port with a new pid.
func TestStartRestart(t *testing.T) {
	p := Start(t, Options{Dir: filepath.Join(t.TempDir(), "r"), Args: plainArgs})
	if err := ping(t, p.Addr()); err != nil {
		t.Fatal(err)
	}
	pid, port := p.Pid(), p.Port()
	p.Stop()
	if p.Pid() != 0 {
		t.Fatalf("Pid after Stop = %d", p.Pid())
	}
	if err := ping(t, p.Addr()); err == nil {
		t.Fatal("a stopped server answered")
	}
	p.Restart()
	if p.Port() != port || p.Pid() == pid || p.Pid() == 0 {
		t.Fatalf("restart: port %d→%d pid %d→%d", port, p.Port(), pid, p.Pid())
	}
	if err := ping(t, p.Addr()); err != nil {
		t.Fatal(err)
	}
}

// TestCollisionRetried: the first port offered is held by a listener of
// ours (what another test's server would do); the attempt is detected as
// a collision (bind failed) and retried on a fresh port.
func TestCollisionRetried(t *testing.T) {
	l := testkit.Listen(t) // what another process's server would hold
	defer l.Close()
	taken := l.Addr().(*net.TCPAddr).Port
	calls := 0
	p := Start(t, Options{Dir: filepath.Join(t.TempDir(), "r"), Args: func(port int, dir string) ([]string, error) {
		calls++
		if calls == 1 {
			port = taken
		}
		return plainArgs(port, dir)
	}})
	if calls < 2 {
		t.Fatalf("Args called %d times: the collision was not retried", calls)
	}
	if err := ping(t, p.Addr()); err != nil {
		t.Fatal(err)
	}
}

// TestClusterPortTooHighRetried: a Cluster node given a port above 55535
// exits (its bus port would be past 65535); the start is retried on a
// fresh port.
func TestClusterPortTooHighRetried(t *testing.T) {
	calls := 0
	p := Start(t, Options{Dir: filepath.Join(t.TempDir(), "r"), Args: func(port int, dir string) ([]string, error) {
		calls++
		if calls == 1 {
			port = 60001
		}
		args, err := plainArgs(port, dir)
		return append(args, "--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf")), err
	}})
	if calls < 2 {
		t.Fatalf("Args called %d times: the port was not retried", calls)
	}
	if err := ping(t, p.Addr()); err != nil {
		t.Fatal(err)
	}
}

// TestStrayServerIsCollision: a redis-server already on the port (a stray
// one, started with its own Start) answers INFO with its own pid; a second
// server told to use that port must not be taken for ready.
func TestStrayServerIsCollision(t *testing.T) {
	stray := Start(t, Options{Dir: filepath.Join(t.TempDir(), "stray"), Args: plainArgs})
	calls := 0
	p := Start(t, Options{Dir: filepath.Join(t.TempDir(), "r"), Args: func(port int, dir string) ([]string, error) {
		calls++
		if calls == 1 {
			port = stray.Port()
		}
		return plainArgs(port, dir)
	}})
	if p.Port() == stray.Port() || p.Pid() == stray.Pid() || calls < 2 {
		t.Fatalf("took the stray server: port %d pid %d calls %d", p.Port(), p.Pid(), calls)
	}
}

// TestLogTail: the log names the server (notice level prints the start-up
// lines) and is bounded.
func TestLogTail(t *testing.T) {
	p := Start(t, Options{Dir: filepath.Join(t.TempDir(), "r"), Args: plainArgs})
	tail := p.LogTail()
	if !strings.Contains(tail, "Ready to accept connections") {
		t.Fatalf("log tail:\n%s", tail)
	}
	if n := strings.Count(tail, "\n"); n > logTailLines {
		t.Fatalf("log tail has %d lines", n)
	}
}
