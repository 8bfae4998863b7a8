// Package pgtest starts a real, throwaway PostgreSQL server for tests: initdb
// into a temporary directory, the server on a reserved loopback port with its
// unix socket in that directory, run as the "postgres" OS user when the
// test runs as root (PostgreSQL refuses root). Stop and Start restart it on
// the same port and data, to test outages. It is exported for the tests of
// other modules (stores/clustertest).
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
	"github.com/mcpauthz/mcpauthz/stores/postgres"
)

// Server is one PostgreSQL instance.
type Server struct {
	t    testing.TB
	bin  string // directory of initdb, pg_ctl
	dir  string
	port int
	asPG bool // run through runuser -u postgres
}

// DSN is the connection string (user postgres, trust authentication).
func (s *Server) DSN() string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable connect_timeout=2", s.port)
}

// binDir finds the newest PostgreSQL server binaries of the Debian
// postgresql package (or PG_BIN).
func binDir() (string, error) {
	if d := os.Getenv("PG_BIN"); d != "" {
		return d, nil
	}
	ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(ms) == 0 {
		if p, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p), nil
		}
		return "", fmt.Errorf("pgtest: initdb not found: install the postgresql package (.ci/run does) or set PG_BIN")
	}
	return filepath.Dir(ms[len(ms)-1]), nil
}

// Start initialises and starts a server; it is stopped and removed when
// the test ends. A missing PostgreSQL installation fails the test.
func Start(t testing.TB) *Server {
	t.Helper()
	return start(t, testkit.ReservePort)
}

// start is Start with the port of each attempt from port.
func start(t testing.TB, port func(testing.TB) int) *Server {
	t.Helper()
	bin, err := binDir()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "mcpauthz-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, bin: bin, dir: dir, asPG: os.Geteuid() == 0}
	t.Cleanup(func() {
		s.Stop()
		_ = os.RemoveAll(dir)
	})
	if s.asPG {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("pgtest: running as root needs the postgres OS user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	s.run("initdb", "-D", s.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	// The port stays reserved for the test (bound with SO_REUSEADDR, which
	// postgres sets too, never listening): no other listener or client is
	// handed it, before the start or between Stop and Start. A process
	// that picked it earlier can still bind it by number: retry on a fresh
	// port. (postgres cannot bind port 0 and report the port.)
	var err2 error
	for range startAttempts {
		s.port = port(t)
		if err2 = s.start(); err2 == nil {
			return s
		}
		if !errors.Is(err2, errPortTaken) {
			break
		}
		t.Logf("pgtest: %v; retrying on a fresh port", err2)
	}
	t.Fatalf("pgtest: %v\n%s", err2, s.logTail())
	return nil
}

// startAttempts bounds the retries on port collisions.
const startAttempts = 5

// errPortTaken marks a start lost to another process on the port.
var errPortTaken = errors.New("port taken by another process")

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

func (s *Server) run(tool string, args ...string) {
	s.t.Helper()
	if out, err := s.exec(tool, args...); err != nil {
		s.t.Fatalf("pgtest: %s %v: %v\n%s\n%s", tool, args, err, out, s.logTail())
	}
}

// exec runs a PostgreSQL tool (as the postgres user when root) with a
// 60 s limit and returns its output.
func (s *Server) exec(tool string, args ...string) ([]byte, error) {
	name, argv := filepath.Join(s.bin, tool), args
	if s.asPG {
		name, argv = "runuser", append([]string{"-u", "postgres", "--", filepath.Join(s.bin, tool)}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, name, argv...).CombinedOutput()
}

func (s *Server) logPath() string { return filepath.Join(s.dir, "log") }

// logTail is the end of the server's log, for failure messages.
func (s *Server) logTail() string {
	b, err := os.ReadFile(s.logPath())
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return "postgres log " + s.logPath() + " (last lines):\n" + strings.Join(lines, "\n")
}

// Start restarts the server after Stop, on the same port (reserved
// meanwhile) and data, and waits until it accepts connections; a port
// taken all the same fails the test.
func (s *Server) Start() {
	s.t.Helper()
	if err := s.start(); err != nil {
		s.t.Fatalf("pgtest: %v\n%s", err, s.logTail())
	}
}

// start runs pg_ctl start and waits until the server on the port is
// this run's: SHOW data_directory over TCP names our data directory (a
// stray server on a reused port has its own), and postmaster.pid is ours.
func (s *Server) start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60",
		s.port, s.dir)
	if out, err := s.exec("pg_ctl", "start", "-w", "-t", "30", "-D", s.data(), "-l", s.logPath(), "-o", opts); err != nil {
		if b, _ := os.ReadFile(s.logPath()); strings.Contains(string(b), "Address already in use") {
			_ = os.Truncate(s.logPath(), 0)
			return fmt.Errorf("127.0.0.1:%d: %w", s.port, errPortTaken)
		}
		return fmt.Errorf("pg_ctl start: %v\n%s", err, out)
	}
	want, err := filepath.EvalSymlinks(s.data())
	if err != nil {
		return err
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		dir, err := s.dataDirectory(ctx)
		cancel()
		switch {
		case err == nil && dir == want:
			return nil
		case err == nil:
			s.Stop()
			return fmt.Errorf("127.0.0.1:%d serves data directory %s, not this run's %s: %w", s.port, dir, want, errPortTaken)
		case time.Now().After(deadline):
			return fmt.Errorf("server not ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dataDirectory asks the server on the port for its data directory.
func (s *Server) dataDirectory(ctx context.Context) (string, error) {
	c, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	var dir string
	if err := c.QueryRow(ctx, "SHOW data_directory").Scan(&dir); err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(dir)
}

// Stop stops the server (fast shutdown: sessions are disconnected). It is
// a no-op when the server is not running.
func (s *Server) Stop() {
	s.t.Helper()
	if _, err := os.Stat(filepath.Join(s.data(), "postmaster.pid")); err != nil {
		return
	}
	s.run("pg_ctl", "stop", "-w", "-t", "30", "-m", "fast", "-D", s.data())
}

// NewWatchedAuthorizer returns one replica's policy side over the database
// at dsn: a casbinauthz.Authorizer of model fed by a postgres.Source and
// reloaded by a postgres.Watcher (1 s timeouts, 200 ms reconnect backoff at
// most), logging nowhere. Watcher and Source close with the test; any
// error fails it.
func NewWatchedAuthorizer(t testing.TB, dsn, model string) (*casbinauthz.Authorizer, *postgres.Source, *postgres.Watcher) {
	t.Helper()
	src, err := postgres.NewSource(postgres.SourceConfig{DSN: dsn, Model: model, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	a, err := casbinauthz.New(casbinauthz.Config{Model: model, Source: src, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		_ = src.Close()
		t.Fatal(err)
	}
	w, err := postgres.NewWatcher(postgres.WatcherConfig{DSN: dsn, Timeout: time.Second, BackoffMax: 200 * time.Millisecond})
	if err != nil {
		_ = src.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close(); _ = src.Close() })
	if err := a.SetWatcher(w); err != nil {
		t.Fatal(err)
	}
	return a, src, w
}
