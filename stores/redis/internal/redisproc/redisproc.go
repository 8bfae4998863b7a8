// Package redisproc starts redis-server processes for tests (plain
// servers, Sentinels, Cluster nodes) with one set of rules:
//
//   - The port is reserved on loopback for the test (testkit.ReservePort:
//     bound, never listening, with SO_REUSEADDR, which redis-server sets
//     too), so no other listener or client is handed it, before the start
//     or between a Stop and a Restart. A process that picked the same port
//     earlier can still bind it by number: a server that fails to bind
//     ("Address already in use"), or a port that answers with another
//     process's pid, is a collision: the attempt is killed and retried on
//     a fresh port, with a fresh directory, as is a Cluster node's port
//     above 55535. (redis-server cannot bind port 0 and report it: "port
//     0" turns TCP off.)
//   - The server is ready when INFO on its port names the pid of the
//     process started here (process_id), never when some server answers.
//   - The server's output goes to a log file in its throwaway directory;
//     every failure reports the last lines of it.
//   - The server dies with the test: it is killed in t.Cleanup, and on
//     Linux also when the test binary dies (Pdeathsig), so a crashed or
//     killed test run leaves no server behind.
package redisproc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// Defaults of Options.
const (
	defaultAttempts = 5
	readyTimeout    = 15 * time.Second
	logTailLines    = 20
)

// Options configure Start. Dir and Args are REQUIRED.
type Options struct {
	// Dir is the server's own directory (created, and emptied before
	// every attempt): its --dir, its log, its config files. REQUIRED.
	Dir string
	// Args returns the redis-server arguments for a server on port,
	// whose directory is dir; it may write config files into dir. It is
	// called once per attempt. REQUIRED.
	Args func(port int, dir string) ([]string, error)
	// Password is the default user's password, for the readiness check.
	// OPTIONAL.
	Password string
	// Attempts bounds the retries on port collisions. OPTIONAL; default 5.
	Attempts int
}

// Proc is one redis-server process started by Start.
type Proc struct {
	t    testing.TB
	o    Options
	port int
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// errCollision marks an attempt lost to another process on the port.
var errCollision = errors.New("port taken by another process")

// errClusterPortHigh marks a Cluster node given a port above 55535: its
// bus port (port + 10000) would be past 65535. Ports reserved with
// SO_REUSEADDR come from the lower half of the ephemeral range first
// (32768-46883 by default), so this is rare; the attempt is retried.
var errClusterPortHigh = errors.New("port too high for a cluster node (55535 at most)")

// Start starts a redis-server as o says, retrying on a fresh port after a
// collision, and returns once the server started here answers. It kills
// the server when the test ends. It fails the test when redis-server is
// not installed (.ci/run installs it) or when no attempt succeeds, with
// the tail of the server's log.
func Start(t testing.TB, o Options) *Proc {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("redis-server is required (.ci/run installs it): %v", err)
	}
	if o.Attempts <= 0 {
		o.Attempts = defaultAttempts
	}
	p := &Proc{t: t, o: o}
	t.Cleanup(p.Stop)
	var err error
	for range o.Attempts {
		p.port = testkit.ReservePort(t)
		if err = p.start(true); err == nil {
			return p
		}
		if !errors.Is(err, errCollision) && !errors.Is(err, errClusterPortHigh) {
			break
		}
		t.Logf("redisproc: %v; retrying on a fresh port", err)
	}
	t.Fatalf("redisproc: %v\n%s", err, p.LogTail())
	return nil
}

// Port is the server's port.
func (p *Proc) Port() int { return p.port }

// Addr is 127.0.0.1:port.
func (p *Proc) Addr() string { return "127.0.0.1:" + strconv.Itoa(p.port) }

// Pid is the pid of the running server (0 when stopped).
func (p *Proc) Pid() int {
	if p.cmd == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Dir is the server's directory.
func (p *Proc) Dir() string { return p.o.Dir }

// Restart starts the server again on the same port after Stop (its
// clients know only that address), which stayed reserved meanwhile; a
// port taken all the same (see the package doc) fails the test.
func (p *Proc) Restart() {
	p.t.Helper()
	if p.cmd != nil {
		p.t.Fatalf("redisproc: %s is running", p.Addr())
	}
	if err := p.start(false); err != nil {
		p.t.Fatalf("redisproc: restart: %v\n%s", err, p.LogTail())
	}
}

// Stop kills the server and waits for it to exit; it is a no-op when the
// server is not running.
func (p *Proc) Stop() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	p.cmd = nil
}

// Exited is closed when the running server exits (nil when stopped).
func (p *Proc) Exited() <-chan struct{} { return p.done }

func (p *Proc) logPath() string { return filepath.Join(p.o.Dir, "redis-server.log") }

// LogTail returns the last lines of the server's log, for failure
// messages.
func (p *Proc) LogTail() string {
	b, err := os.ReadFile(p.logPath())
	if err != nil {
		return "(no server log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > logTailLines {
		lines = lines[len(lines)-logTailLines:]
	}
	return "redis-server log " + p.logPath() + " (last lines):\n" + strings.Join(lines, "\n")
}

// start runs one attempt on p.port; fresh empties the directory first.
func (p *Proc) start(fresh bool) error {
	if fresh {
		if err := os.RemoveAll(p.o.Dir); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(p.o.Dir, 0o700); err != nil {
		return err
	}
	args, err := p.o.Args(p.port, p.o.Dir)
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(p.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command("redis-server", args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server %v: %w", args, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	p.cmd, p.done = cmd, done
	if err := p.waitOwn(); err != nil {
		p.Stop()
		return err
	}
	return nil
}

// waitOwn waits until INFO on the port names our pid.
func (p *Proc) waitOwn() error {
	want := "process_id:" + strconv.Itoa(p.cmd.Process.Pid) + "\r\n"
	deadline := time.Now().Add(readyTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			log := p.logBytes()
			if bytes.Contains(log, []byte("Address already in use")) {
				return fmt.Errorf("%s: %w (bind failed)", p.Addr(), errCollision)
			}
			if bytes.Contains(log, []byte("port number too high")) {
				return fmt.Errorf("%s: %w", p.Addr(), errClusterPortHigh)
			}
			return fmt.Errorf("redis-server on %s exited before answering", p.Addr())
		default:
		}
		info, err := p.info()
		switch {
		case err == nil && strings.Contains(info, want):
			return nil
		case err == nil && strings.Contains(info, "process_id:"):
			return fmt.Errorf("%s: %w (INFO names another pid)", p.Addr(), errCollision)
		case err != nil:
			last = err
		}
		// Wait for the process to exit or the next poll, whichever first.
		select {
		case <-p.done:
		case <-time.After(20 * time.Millisecond):
		}
	}
	return fmt.Errorf("redis-server on %s did not answer within %v: %v", p.Addr(), readyTimeout, last)
}

// info asks the server on the port for INFO server with a fresh client: a
// go-redis pool whose dials failed (the server not listening yet) stops
// dialing and redials once a second, which would add up to 1 s to every
// start.
func (p *Proc) info() (string, error) {
	c := redis.NewClient(&redis.Options{Addr: p.Addr(), Password: p.o.Password, MaxRetries: -1, DialerRetries: 1,
		DialTimeout: time.Second, ReadTimeout: 2 * time.Second, PoolSize: 1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return c.Info(ctx, "server").Result()
}

func (p *Proc) logBytes() []byte {
	b, _ := os.ReadFile(p.logPath())
	return b
}
