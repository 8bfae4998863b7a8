// Package redistest runs a real redis-server process for tests: a free
// loopback port, a throwaway directory, no persistence. It is exported for
// the tests of other modules (stores/clustertest).
//
// The process is started by stores/redis/internal/redisproc: it is ready
// when the server started here answers on the port (its pid, not a stray
// server's), the port stays reserved for the test (a restart finds it
// free), a port taken all the same is retried on a fresh one, a failure
// shows the tail of the server's log, and the server dies with the test
// (t.Cleanup, and Pdeathsig on Linux).
package redistest

import (
	"path/filepath"
	"strconv"
	"testing"

	"github.com/mcpauthz/mcpauthz/stores/redis/internal/redisproc"
)

// Server is a redis-server process. Stop and Start keep the port and
// directory, to simulate an outage; a restarted server is empty.
type Server struct {
	t testing.TB
	p *redisproc.Proc
}

// Start starts a server and stops it when the test ends. It fails the test
// when redis-server is not installed (.ci/run installs it).
func Start(t testing.TB) *Server {
	t.Helper()
	p := redisproc.Start(t, redisproc.Options{
		Dir: filepath.Join(t.TempDir(), "redis"),
		Args: func(port int, dir string) ([]string, error) {
			return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1",
				"--save", "", "--appendonly", "no", "--dir", dir, "--maxmemory", "256mb",
				"--maxmemory-policy", "noeviction", "--loglevel", "warning"}, nil
		},
	})
	return &Server{t: t, p: p}
}

// Addr is host:port.
func (s *Server) Addr() string { return s.p.Addr() }

// URL is redis://host:port/0.
func (s *Server) URL() string { return "redis://" + s.Addr() + "/0" }

// Pid is the server's process id (0 while stopped).
func (s *Server) Pid() int { return s.p.Pid() }

// Start starts the server again after Stop, on the same port, reserved
// meanwhile, and waits until it answers (at most 15 s); a port taken all
// the same fails the test.
func (s *Server) Start() {
	s.t.Helper()
	s.p.Restart()
}

// Stop kills redis-server and waits for it to exit. It is a no-op when the
// server is not running.
func (s *Server) Stop() { s.p.Stop() }
