package redisha

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of three masters (no replicas).
type Cluster struct {
	*Setup
	Addrs []string // host:port of the masters
}

// StartCluster starts three cluster-enabled redis-server processes, joins
// them with redis-cli --cluster create, and returns once every node
// reports cluster_state:ok. It stops them when the test ends.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	for _, p := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is required (.ci/run installs redis-server, which brings it): %v", p, err)
		}
	}
	s := &Setup{t: t, clients: map[string]*redis.Client{}}
	t.Cleanup(s.stop)
	c := &Cluster{Setup: s}
	dir := t.TempDir()
	for i, p := range freePorts(t, 3) {
		d := mkdir(t, dir, "n"+strconv.Itoa(i))
		s.run([]string{"--port", strconv.Itoa(p), "--bind", "127.0.0.1", "--dir", d, "--save", "", "--appendonly", "no",
			"--cluster-enabled", "yes", "--cluster-config-file", d + "/nodes.conf", "--cluster-node-timeout", "2000",
			"--loglevel", "warning", "--maxmemory", "64mb", "--maxmemory-policy", "noeviction"})
		c.Addrs = append(c.Addrs, addr(p))
	}
	for i, a := range c.Addrs {
		s.waitOwn(a, s.procs[i])
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	s.until(20*time.Second, "cluster_state:ok", func(ctx context.Context) bool {
		for _, a := range c.Addrs {
			info, err := s.Client(a).ClusterInfo(ctx).Result()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				return false
			}
		}
		return true
	})
	return c
}

// StopNode kills the master at addr (one of Addrs) and waits for it to
// exit: its slots become unavailable (there are no replicas).
func (c *Cluster) StopNode(addr string) {
	for i, a := range c.Addrs {
		if a == addr {
			p := c.procs[i]
			_ = p.Process.Kill()
			_ = p.Wait()
			return
		}
	}
	c.t.Fatalf("redisha: no node %s", addr)
}
