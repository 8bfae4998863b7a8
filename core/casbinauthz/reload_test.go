package casbinauthz

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// writeFile replaces path atomically (write to a temp file, then rename).
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// P02: every broken policy keeps the last good one, counts an error, logs
// it; a valid change then applies.
func TestReloadKeepsLastGood(t *testing.T) {
	t.Parallel()
	good := "p, *, tool:echo, call, allow\np, group:eng, tool:deploy, call, allow\n"
	broken := []struct{ name, content string }{
		{"syntax error", "p, *, tool:echo, call, allow\np, \"group:eng, tool:deploy, call, allow\n"},
		{"truncated to empty", ""},
		{"truncated mid line", "p, *, tool:echo, call, allow\np, group:eng, tool:dep"},
		{"wrong field count", "p, *, tool:echo, call, allow, extra\n"},
		{"unknown ptype", "q, *, tool:echo, call, allow\n"},
		{"bad glob", "p, *, tool:{echo, call, allow\n"},
		{"binary garbage", "\x00\xff\xfe"},
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.csv")
	writeFile(t, path, good)
	var logs bytes.Buffer
	var logMu sync.Mutex
	a, err := New(Config{
		Model: mustModel(t, "rbac"), Source: FileSource{Paths: []string{path}},
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	eng := user("u", "eng")
	check := func(step string, wantDeploy bool) {
		t.Helper()
		d, err := a.Authorize(ctx, eng, tool("deploy"))
		if err != nil || d.Allow != wantDeploy {
			t.Fatalf("%s: deploy = %+v, %v; want allow=%t", step, d, err, wantDeploy)
		}
		if d, _ := a.Authorize(ctx, eng, tool("echo")); !d.Allow {
			t.Fatalf("%s: echo denied: policy emptied", step)
		}
	}
	check("initial", true)
	for i, b := range broken {
		writeFile(t, path, b.content)
		err := a.Reload(ctx)
		if !errors.Is(err, ErrReload) {
			t.Fatalf("%s: Reload err = %v", b.name, err)
		}
		st := a.Stats()
		if st.Version != 1 || st.ReloadErrors != uint64(i+1) || st.LastError == "" {
			t.Fatalf("%s: stats %+v", b.name, st)
		}
		check(b.name, true)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := a.Reload(ctx); !errors.Is(err, ErrReload) {
		t.Fatalf("missing file: %v", err)
	}
	check("missing file", true)

	writeFile(t, path, "p, *, tool:echo, call, allow\n") // valid change: revoke deploy
	if err := a.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	check("valid change", false)
	if st := a.Stats(); st.Version != 2 || st.LastError != "" || st.ReloadErrors != uint64(len(broken)+1) {
		t.Fatalf("stats after good reload %+v", st)
	}
	if err := a.Reload(ctx); err != nil || a.Version() != 2 {
		t.Fatalf("unchanged content must not bump the version: %v, %d", err, a.Version())
	}
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	if !strings.Contains(out, "keeping the last good policy") || !strings.Contains(out, "line 2") {
		t.Fatalf("logs:\n%s", out)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// versionedPolicy allows tool:base with a rule whose text names version k.
func versionedPolicy(k int) string {
	return fmt.Sprintf("p, *, \"tool:{base,v%d}\", call, allow\np, group:never, tool:x%d, call, deny\n", k, k)
}

// P03: 100 goroutines decide while the policy is reloaded 100 times. Every
// decision must be an allow from a policy version that was live at some
// point during the call, never an empty policy or a mix.
func TestReloadUnderLoad(t *testing.T) {
	t.Parallel()
	var cur atomic.Int64
	src := sourceFunc(func(context.Context) ([]byte, error) { return []byte(versionedPolicy(int(cur.Load()))), nil })
	for _, noIdx := range []bool{false, true} {
		cur.Store(0)
		a, err := New(Config{Model: mustModel(t, "rbac"), Source: src, DisableIndex: noIdx})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var decisions atomic.Int64
		errs := make(chan error, 100)
		for g := range 100 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := user("u"+strconv.Itoa(g%7), "g")
				for ctx.Err() == nil {
					before := a.Version()
					d, err := a.Authorize(context.Background(), p, tool("base"))
					after := a.Version()
					if err != nil || !d.Allow {
						errs <- fmt.Errorf("decision %+v, %v", d, err)
						return
					}
					k, err := strconv.Atoi(strings.TrimSuffix(strings.SplitN(d.Rule, ",v", 2)[1], "}, call, allow"))
					if err != nil {
						errs <- fmt.Errorf("rule %q: %v", d.Rule, err)
						return
					}
					if v := uint64(k) + 1; v < before || v > after {
						errs <- fmt.Errorf("decision from version %d outside [%d, %d]", v, before, after)
						return
					}
					decisions.Add(1)
					runtime.Gosched() // let the reloader run on small machines
				}
			}()
		}
		for k := 1; k <= 100; k++ {
			cur.Store(int64(k))
			if err := a.Reload(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if a.Version() != 101 || decisions.Load() == 0 {
			t.Fatalf("version %d, %d decisions", a.Version(), decisions.Load())
		}
	}
}

type sourceFunc func(context.Context) ([]byte, error)

func (f sourceFunc) Load(ctx context.Context) ([]byte, error) { return f(ctx) }

// Watch picks up a changed file by itself and keeps going after a broken one.
func TestWatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.csv")
	writeFile(t, path, "p, *, tool:echo, call, allow\n")
	a, err := New(Config{Model: mustModel(t, "rbac"), Source: FileSource{Paths: []string{path}}, PollInterval: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Watch(ctx) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s (stats %+v)", what, a.Stats())
			}
			time.Sleep(time.Millisecond)
		}
	}
	writeFile(t, path, "p, *, tool:echo, call, allow\np, *, tool:new_tool_added, call, allow\n")
	waitFor("reload", func() bool { return a.Version() == 2 })
	writeFile(t, path, "p, *, tool:echo, call\n")
	waitFor("error", func() bool { return a.Stats().ReloadErrors > 0 })
	writeFile(t, path, "p, *, tool:third, call, allow\n")
	waitFor("recovery", func() bool { return a.Version() == 3 })
	if d, _ := a.Authorize(context.Background(), user("u"), tool("third")); !d.Allow {
		t.Fatal("new policy not in force")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch returned %v", err)
	}
}

// Canaries reject a policy that would lock everyone out.
func TestReloadCanary(t *testing.T) {
	t.Parallel()
	var text atomic.Value
	text.Store("p, *, tool:echo, call, allow\n")
	src := sourceFunc(func(context.Context) ([]byte, error) { return []byte(text.Load().(string)), nil })
	var reloads atomic.Int64
	a, err := New(Config{Model: mustModel(t, "rbac"), Source: src,
		Canaries: []Canary{{Principal: user("u"), Permission: tool("echo"), Allow: true}},
		OnReload: func(st Stats) { reloads.Store(int64(st.Version)) }})
	if err != nil {
		t.Fatal(err)
	}
	text.Store("p, *, tool:other, call, allow\n")
	if err := a.Reload(context.Background()); !errors.Is(err, ErrPolicy) {
		t.Fatalf("canary: %v", err)
	}
	if d, _ := a.Authorize(context.Background(), user("u"), tool("echo")); !d.Allow {
		t.Fatal("old policy lost")
	}
	if reloads.Load() != 0 {
		t.Fatal("OnReload called for a rejected policy or the first load")
	}
	text.Store("p, *, tool:echo, call, allow\np, *, tool:other, call, allow\n")
	if err := a.Reload(context.Background()); err != nil || reloads.Load() != 2 {
		t.Fatalf("reload: %v, OnReload saw version %d", err, reloads.Load())
	}
}

// P02 for a model with eval(): a condition that does not parse is a bad
// matcher; the reload is refused and the old policy stays.
func TestReloadBadCondition(t *testing.T) {
	t.Parallel()
	var text atomic.Value
	text.Store("p, *, tool:echo, call, true, allow\n")
	src := sourceFunc(func(context.Context) ([]byte, error) { return []byte(text.Load().(string)), nil })
	a, err := New(Config{Model: mustModel(t, "abac"), Source: src})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"p, *, tool:echo, call, r.attrs.acr ==, allow\n",
		"p, *, tool:echo, call, ((true, allow\n",
		"p, *, tool:echo, call, \"nosuchfunc(r.attrs.acr)\", allow\n",
	} {
		text.Store(bad)
		if err := a.Reload(context.Background()); !errors.Is(err, ErrPolicy) {
			t.Fatalf("%q: %v", bad, err)
		}
		if d, err := a.Authorize(context.Background(), user("u"), tool("echo")); err != nil || !d.Allow {
			t.Fatalf("%q: old policy lost: %+v %v", bad, d, err)
		}
	}
	if st := a.Stats(); st.Version != 1 || st.ReloadErrors != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// TestFirstLoadFailureLog: a policy broken at start-up is not reported as a
// reload that keeps a last good policy (there is none).
func TestFirstLoadFailureLog(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "policy.csv")
	writeFile(t, path, "p, *, tools/call, call, allow\n")
	var logs bytes.Buffer
	var logMu sync.Mutex
	_, err := New(Config{
		Model: mustModel(t, "rbac"), Source: FileSource{Paths: []string{path}},
		Logger: slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil)),
	})
	if err == nil {
		t.Fatal("broken first policy accepted")
	}
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	if !strings.Contains(out, "no policy loaded") || strings.Contains(out, "keeping the last good") || strings.Contains(out, "kept_version") {
		t.Fatalf("logs:\n%s", out)
	}
}
