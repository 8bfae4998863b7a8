// Package redisha runs real highly available Redis setups for tests, on
// free loopback ports with throwaway directories and no persistence: a
// Sentinel-managed master (a master and a replica, and two sentinels:
// redis-server --sentinel, the program Debian's redis-sentinel package
// links to), and a Redis Cluster of three masters.
package redisha

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcpauthz/mcpauthz/stores/redis/internal/redisproc"
)

// Master is the name the sentinels monitor.
const Master = "mcpauthz-test"

// Setup is a master, its replica and two sentinels.
type Setup struct {
	t         testing.TB
	Nodes     [2]string // host:port of the first master and its replica
	Sentinels []string  // host:port of the sentinels
	procs     []*redisproc.Proc
	clients   map[string]*redis.Client
	password  string
}

// Options configure StartWith.
type Options struct {
	// Password is required by the data nodes and the sentinels (the
	// default user's). OPTIONAL; empty: no password.
	Password string
}

// Start starts the setup and stops it when the test ends; it returns once
// the sentinels know the master and its replica and the replica is in
// sync. It fails the test when redis-server is not installed (.ci/run
// installs it). Every process is started by package redisproc (see
// there: pid-verified readiness, fresh port after a collision, log tail on
// failure, killed with the test).
func Start(t testing.TB) *Setup {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, o Options) *Setup {
	t.Helper()
	s := &Setup{t: t, clients: map[string]*redis.Client{}, password: o.Password}
	dir := t.TempDir()
	common := []string{"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning",
		"--maxmemory", "64mb", "--maxmemory-policy", "noeviction"}
	if o.Password != "" {
		common = append(common, "--requirepass", o.Password, "--masterauth", o.Password)
	}
	m := s.start(filepath.Join(dir, "m"), func(port int, dir string) ([]string, error) {
		return append([]string{"--port", strconv.Itoa(port), "--dir", dir}, common...), nil
	})
	r := s.start(filepath.Join(dir, "r"), func(port int, dir string) ([]string, error) {
		return append([]string{"--port", strconv.Itoa(port), "--dir", dir, "--replicaof", "127.0.0.1", strconv.Itoa(m.Port())}, common...), nil
	})
	s.Nodes = [2]string{m.Addr(), r.Addr()}
	// The first sentinel finds a dead master down after 1 s, the second
	// after 4 s: the first then always asks for votes first and the second
	// votes for it. With equal delays both stood for election at once and
	// voted for themselves; a split vote is retried only after 2 ×
	// failover-timeout (10 s), and under load most elections split (three
	// in a row took longer than WaitNewMaster's 30 s).
	for i, downAfter := range [2]int{1000, 4000} {
		sp := s.start(filepath.Join(dir, "s"+strconv.Itoa(i)), func(port int, dir string) ([]string, error) {
			conf := filepath.Join(dir, "sentinel.conf")
			text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s 127.0.0.1 %d 1\n"+
				"sentinel down-after-milliseconds %s %d\nsentinel failover-timeout %s 5000\n"+
				"sentinel parallel-syncs %s 1\n", port, dir, Master, m.Port(), Master, downAfter, Master, Master)
			if o.Password != "" {
				text += fmt.Sprintf("requirepass %q\nsentinel auth-pass %s %q\n", o.Password, Master, o.Password)
			}
			if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
				return nil, err
			}
			return []string{conf, "--sentinel", "--loglevel", "warning"}, nil
		})
		s.Sentinels = append(s.Sentinels, sp.Addr())
	}
	s.WaitReplica(s.Nodes[1])
	return s
}

// start starts one process of the setup (redisproc: pid-verified, retried
// on a fresh port after a collision, killed with the test).
func (s *Setup) start(dir string, args func(port int, dir string) ([]string, error)) *redisproc.Proc {
	s.t.Helper()
	p := redisproc.Start(s.t, redisproc.Options{Dir: dir, Args: args, Password: s.password})
	s.procs = append(s.procs, p)
	return p
}

// LogTails returns the tail of every process's log, for failure messages.
func (s *Setup) LogTails() string {
	var b strings.Builder
	for _, p := range s.procs {
		b.WriteString(p.LogTail())
		b.WriteString("\n")
	}
	return b.String()
}

// Client is a plain client of one node or sentinel, closed with the
// test. Not safe for concurrent use with Start or Failover.
func (s *Setup) Client(addr string) *redis.Client {
	if c := s.clients[addr]; c != nil {
		return c
	}
	c := redis.NewClient(&redis.Options{Addr: addr, Password: s.password, MaxRetries: -1, DialerRetries: 1, DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
	s.clients[addr] = c
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// MasterAddr is the master's host:port according to the first sentinel.
func (s *Setup) MasterAddr(ctx context.Context) (string, error) {
	a, err := s.Client(s.Sentinels[0]).Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", Master).StringSlice()
	if err != nil {
		return "", err
	}
	if len(a) != 2 {
		return "", fmt.Errorf("sentinel answered %v", a)
	}
	return net.JoinHostPort(a[0], a[1]), nil
}

// Failover makes the first sentinel promote the replica (SENTINEL
// FAILOVER) and returns the new master's address once every sentinel
// names it and it accepts writes.
func (s *Setup) Failover(ctx context.Context) string {
	s.t.Helper()
	old, err := s.MasterAddr(ctx)
	if err != nil {
		s.t.Fatal(err)
	}
	// On a loaded machine a sentinel may briefly hold the replica unfit
	// (NOGOODSLAVE: its last INFO too old); ask again.
	s.until(20*time.Second, "SENTINEL FAILOVER accepted", func(ctx context.Context) bool {
		err := s.Client(s.Sentinels[0]).Do(ctx, "SENTINEL", "FAILOVER", Master).Err()
		if err != nil && !strings.Contains(err.Error(), "NOGOODSLAVE") {
			s.t.Fatalf("SENTINEL FAILOVER: %v", err)
		}
		return err == nil
	})
	return s.WaitNewMaster(old)
}

// Kill kills the data node at addr (one of Nodes) with SIGKILL, as a
// crash, and waits for it to exit.
func (s *Setup) Kill(addr string) {
	s.t.Helper()
	for i, n := range s.Nodes {
		if n == addr {
			s.procs[i].Stop()
			return
		}
	}
	s.t.Fatalf("redisha: no node %s", addr)
}

// WaitNewMaster waits until every sentinel names a master other than old
// and that master accepts writes (at most 30 s), and returns its address.
func (s *Setup) WaitNewMaster(old string) string {
	s.t.Helper()
	var now string
	s.until(30*time.Second, "a new master", func(ctx context.Context) bool {
		for _, sa := range s.Sentinels {
			a, err := s.Client(sa).Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", Master).StringSlice()
			if err != nil || len(a) != 2 || net.JoinHostPort(a[0], a[1]) == old {
				return false
			}
			now = net.JoinHostPort(a[0], a[1])
		}
		role, err := s.Client(now).Do(ctx, "ROLE").Slice()
		return err == nil && len(role) > 0 && role[0] == "master"
	})
	return now
}

// WaitReplica waits (at most 30 s) until the node at replica is in sync
// with the master and every sentinel sees it as the master's one good
// replica, so that the sentinels can promote it.
func (s *Setup) WaitReplica(replica string) {
	s.t.Helper()
	s.until(30*time.Second, "sentinels to see the replica "+replica, func(ctx context.Context) bool {
		info, err := s.Client(replica).Info(ctx, "replication").Result()
		if err != nil || !strings.Contains(info, "master_link_status:up") {
			return false
		}
		for _, sa := range s.Sentinels {
			reps, err := s.Client(sa).Do(ctx, "SENTINEL", "REPLICAS", Master).Slice()
			if err != nil || len(reps) != 1 {
				return false
			}
			// A flat list of field, value (RESP2) or a map (RESP3).
			fields := map[string]string{}
			switch r := reps[0].(type) {
			case []any:
				for i := 0; i+1 < len(r); i += 2 {
					fields[fmt.Sprint(r[i])] = fmt.Sprint(r[i+1])
				}
			case map[any]any:
				for k, v := range r {
					fields[fmt.Sprint(k)] = fmt.Sprint(v)
				}
			}
			if fields["flags"] != "slave" || fields["master-link-status"] != "ok" {
				return false
			}
		}
		return true
	})
}

func (s *Setup) until(limit time.Duration, what string, ok func(context.Context) bool) {
	s.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		done := ok(ctx)
		cancel()
		if done {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redisha: no %s within %v\n%s", what, limit, s.LogTails())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
