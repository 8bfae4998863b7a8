package redisha

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of three masters, with one replica each
// when started by StartClusterWithReplicas.
type Cluster struct {
	*Setup
	Addrs []string // host:port of the nodes: the masters first, then the replicas
}

// StartCluster starts three cluster-enabled redis-server processes, joins
// them with redis-cli --cluster create, and returns once every node
// reports cluster_state:ok. It stops them when the test ends.
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	return startCluster(t, 0)
}

// StartClusterWithReplicas is StartCluster with a replica per master (six
// nodes, redis-cli --cluster create --cluster-replicas 1); it returns
// once every replica's link to its master is up.
func StartClusterWithReplicas(t testing.TB) *Cluster {
	t.Helper()
	return startCluster(t, 1)
}

func startCluster(t testing.TB, replicas int) *Cluster {
	t.Helper()
	for _, p := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is required (.ci/run installs redis-server, which brings it): %v", p, err)
		}
	}
	s := &Setup{t: t, clients: map[string]*redis.Client{}}
	c := &Cluster{Setup: s}
	dir := t.TempDir()
	for i := range 3 * (1 + replicas) {
		p := s.start(filepath.Join(dir, "n"+strconv.Itoa(i)), func(port int, dir string) ([]string, error) {
			return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no",
				"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"), "--cluster-node-timeout", "2000",
				"--loglevel", "warning", "--maxmemory", "64mb", "--maxmemory-policy", "noeviction"}, nil
		})
		c.Addrs = append(c.Addrs, p.Addr())
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", strconv.Itoa(replicas), "--cluster-yes")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s\n%s", err, out, s.LogTails())
	}
	s.until(30*time.Second, "cluster_state:ok", func(ctx context.Context) bool {
		for _, a := range c.Addrs {
			info, err := s.Client(a).ClusterInfo(ctx).Result()
			if err != nil || !strings.Contains(info, "cluster_state:ok") {
				return false
			}
			if replicas > 0 {
				repl, err := s.Client(a).Info(ctx, "replication").Result()
				if err != nil || strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up") {
					return false
				}
			}
		}
		return true
	})
	return c
}

// ReplicaOf returns the address of the replica of the master at addr,
// or "" when it has none.
func (c *Cluster) ReplicaOf(ctx context.Context, addr string) string {
	c.t.Helper()
	for _, a := range c.Addrs {
		repl, err := c.Client(a).Info(ctx, "replication").Result()
		if err == nil && strings.Contains(repl, "role:slave") && strings.Contains(repl, "master_port:"+addr[strings.LastIndexByte(addr, ':')+1:]+"\r\n") {
			return a
		}
	}
	return ""
}

// WaitPromoted waits (at most 30 s) until the node at addr is a master
// and the cluster state is ok again on it.
func (c *Cluster) WaitPromoted(addr string) {
	c.t.Helper()
	c.until(30*time.Second, addr+" promoted", func(ctx context.Context) bool {
		role, err := c.Client(addr).Do(ctx, "ROLE").Slice()
		if err != nil || len(role) == 0 || role[0] != "master" {
			return false
		}
		info, err := c.Client(addr).ClusterInfo(ctx).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	})
}

// StopNode kills the node at addr (one of Addrs) with SIGKILL and waits for
// it to exit: a master's slots become unavailable until its replica, if
// any, is promoted.
func (c *Cluster) StopNode(addr string) {
	for i, a := range c.Addrs {
		if a == addr {
			c.procs[i].Stop()
			return
		}
	}
	c.t.Fatalf("redisha: no node %s", addr)
}
