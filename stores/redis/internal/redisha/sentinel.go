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
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Master is the name the sentinels monitor.
const Master = "mcpauthz-test"

// Setup is a master, its replica and two sentinels.
type Setup struct {
	t         testing.TB
	Nodes     [2]string // host:port of the first master and its replica
	Sentinels []string  // host:port of the sentinels
	procs     []*exec.Cmd
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
// installs it).
func Start(t testing.TB) *Setup {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options.
func StartWith(t testing.TB, o Options) *Setup {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is required (.ci/run installs it): %v", err)
	}
	s := &Setup{t: t, clients: map[string]*redis.Client{}, password: o.Password}
	t.Cleanup(s.stop)
	ports := freePorts(t, 4)
	dir := t.TempDir()
	s.Nodes = [2]string{addr(ports[0]), addr(ports[1])}
	common := []string{"--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning",
		"--maxmemory", "64mb", "--maxmemory-policy", "noeviction"}
	if o.Password != "" {
		common = append(common, "--requirepass", o.Password, "--masterauth", o.Password)
	}
	s.run(append([]string{"--port", strconv.Itoa(ports[0]), "--dir", mkdir(t, dir, "m")}, common...))
	s.run(append([]string{"--port", strconv.Itoa(ports[1]), "--dir", mkdir(t, dir, "r"), "--replicaof", "127.0.0.1", strconv.Itoa(ports[0])}, common...))
	for i, n := range s.Nodes {
		s.waitOwn(n, s.procs[i])
	}
	for i, p := range ports[2:] {
		conf := filepath.Join(mkdir(t, dir, "s"+strconv.Itoa(i)), "sentinel.conf")
		text := fmt.Sprintf("port %d\nbind 127.0.0.1\nsentinel monitor %s 127.0.0.1 %d 1\n"+
			"sentinel down-after-milliseconds %s 1000\nsentinel failover-timeout %s 5000\n"+
			"sentinel parallel-syncs %s 1\n", p, Master, ports[0], Master, Master, Master)
		if o.Password != "" {
			text += fmt.Sprintf("requirepass %q\nsentinel auth-pass %s %q\n", o.Password, Master, o.Password)
		}
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		s.run([]string{conf, "--sentinel", "--loglevel", "warning"})
		s.Sentinels = append(s.Sentinels, addr(p))
		s.waitOwn(addr(p), s.procs[len(s.procs)-1])
	}
	s.WaitReplica(s.Nodes[1])
	return s
}

func addr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

func mkdir(t testing.TB, dir, name string) string {
	p := filepath.Join(dir, name)
	if err := os.Mkdir(p, 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func freePorts(t testing.TB, n int) []int {
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		_ = l.Close()
	}
	return ports
}

func (s *Setup) run(args []string) {
	cmd := exec.Command("redis-server", args...)
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start redis-server %v: %v", args, err)
	}
	s.procs = append(s.procs, cmd)
}

// waitOwn waits until the server at addr answers and is the process p:
// a port taken meanwhile by another test's server (ports are picked free,
// then released) fails the test instead of testing that server.
func (s *Setup) waitOwn(addr string, p *exec.Cmd) {
	s.t.Helper()
	s.until(10*time.Second, "an answer from "+addr, func(ctx context.Context) bool {
		info, err := s.Client(addr).Info(ctx, "server").Result()
		if err != nil {
			return false
		}
		if !strings.Contains(info, "process_id:"+strconv.Itoa(p.Process.Pid)+"\r\n") {
			s.t.Fatalf("redisha: %s is served by another process (port taken meanwhile)", addr)
		}
		return true
	})
}

func (s *Setup) stop() {
	for _, p := range s.procs {
		_ = p.Process.Kill()
		_ = p.Wait()
	}
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
			_ = s.procs[i].Process.Kill()
			_ = s.procs[i].Wait()
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
			s.t.Fatalf("redisha: no %s within %v", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
