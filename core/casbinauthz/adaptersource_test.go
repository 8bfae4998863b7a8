package casbinauthz

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	fileadapter "github.com/casbin/casbin/v2/persist/file-adapter"
)

// chanWatcher is an in-process persist.Watcher: Update calls every
// callback, as a pub/sub watcher does across replicas.
type chanWatcher struct {
	mu  sync.Mutex
	cbs *[]func(string)
}

func newWatchers(n int) []*chanWatcher {
	cbs := new([]func(string))
	out := make([]*chanWatcher, n)
	for i := range out {
		out[i] = &chanWatcher{cbs: cbs}
	}
	return out
}

func (w *chanWatcher) SetUpdateCallback(f func(string)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	*w.cbs = append(*w.cbs, f)
	return nil
}

func (w *chanWatcher) Update() error {
	w.mu.Lock()
	cbs := append([]func(string){}, *w.cbs...)
	w.mu.Unlock()
	for _, f := range cbs {
		f("update")
	}
	return nil
}

func (w *chanWatcher) Close() {}

// scriptedAdapter is a persist.Adapter whose LoadPolicy replays the rows
// (or the error, or the delay) set by the test: a database that returns
// garbage, fails or hangs.
type scriptedAdapter struct {
	mu    sync.Mutex
	rows  [][]string
	err   error
	delay time.Duration
}

func (s *scriptedAdapter) set(rows [][]string, err error, delay time.Duration) {
	s.mu.Lock()
	s.rows, s.err, s.delay = rows, err, delay
	s.mu.Unlock()
}

func (s *scriptedAdapter) LoadPolicy(m model.Model) error {
	s.mu.Lock()
	rows, err, delay := s.rows, s.err, s.delay
	s.mu.Unlock()
	time.Sleep(delay)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := persist.LoadPolicyArray(r, m); err != nil {
			return err
		}
	}
	return nil
}
func (s *scriptedAdapter) SavePolicy(model.Model) error                { return errReadOnly }
func (s *scriptedAdapter) AddPolicy(string, string, []string) error    { return errReadOnly }
func (s *scriptedAdapter) RemovePolicy(string, string, []string) error { return errReadOnly }
func (s *scriptedAdapter) RemoveFilteredPolicy(string, string, int, ...string) error {
	return errReadOnly
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestAdapterSourceReplicas: three replicas on Casbin's file adapter and a
// shared watcher apply a change, report one digest, keep the last good
// policy when the stored policy breaks, and recover.
func TestAdapterSourceReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "policy.csv")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("p, group:eng, tool:read_*, call, allow\ng, user:alice, group:eng\n")
	mdl := mustModel(t, "rbac_roles")
	ws := newWatchers(3)
	var reps []*Authorizer
	for i := range 3 {
		src, err := NewAdapterSource(AdapterSourceConfig{Model: mdl, Adapter: fileadapter.NewAdapter(path)})
		if err != nil {
			t.Fatal(err)
		}
		a, err := New(Config{Model: mdl, Source: src})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.SetWatcher(ws[i]); err != nil {
			t.Fatal(err)
		}
		reps = append(reps, a)
	}
	allowed := func(a *Authorizer, sub, name string) bool {
		d, err := a.Authorize(ctx, user(sub), tool(name))
		if err != nil {
			t.Fatal(err)
		}
		return d.Allow
	}
	same := func() bool {
		for _, a := range reps[1:] {
			if a.Digest() != reps[0].Digest() {
				return false
			}
		}
		return reps[0].Digest() != ""
	}
	if !same() || !allowed(reps[2], "alice", "read_x") || allowed(reps[2], "bob", "read_x") {
		t.Fatal("initial policy not in force on every replica")
	}
	d0 := reps[0].Digest()

	// A change, announced by one replica, reaches all.
	write("p, group:eng, tool:read_*, call, allow\ng, user:alice, group:eng\ng, user:bob, group:eng\n")
	if err := ws[0].Update(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "all replicas to allow bob", func() bool {
		for _, a := range reps {
			if !allowed(a, "bob", "read_x") {
				return false
			}
		}
		return same()
	})
	d1 := reps[0].Digest()
	if d1 == d0 {
		t.Fatal("digest did not change")
	}

	// Broken policies in the store keep the last good one everywhere.
	for _, bad := range []string{
		"p, group:eng, tool:[, call, allow\n", // invalid glob
		"p, group:eng, tool:a, call\n",        // wrong field count (Casbin's loader rejects it)
		"# truncated\n",                       // empty
		"p9, x, y, z, allow\n",                // unknown policy type
	} {
		write(bad)
		errsBefore := reps[1].Stats().ReloadErrors
		_ = ws[1].Update()
		waitFor(t, "the failed reload to be counted", func() bool { return reps[1].Stats().ReloadErrors > errsBefore })
		for _, a := range reps {
			if a.Digest() != d1 || !allowed(a, "bob", "read_x") {
				t.Fatalf("policy %q replaced the last good one", bad)
			}
		}
		if reps[1].Stats().LastError == "" {
			t.Fatal("LastError not set")
		}
	}

	// Recovery.
	write("p, group:eng, tool:read_*, call, allow\n")
	_ = ws[2].Update()
	waitFor(t, "recovery", func() bool { return same() && !allowed(reps[0], "bob", "read_x") && reps[0].Stats().LastError == "" })
}

// TestAdapterSourceStoreFailures: a store that errors, hangs or returns
// garbage rows never replaces the last good policy; a hanging store is cut
// at the load timeout.
func TestAdapterSourceStoreFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mdl := mustModel(t, "rbac")
	ad := &scriptedAdapter{}
	ad.set([][]string{{"p", "*", "tool:a", "call", "allow"}}, nil, 0)
	src, err := NewAdapterSource(AdapterSourceConfig{Model: mdl, Adapter: ad, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(Config{Model: mdl, Source: src})
	if err != nil {
		t.Fatal(err)
	}
	good := a.Digest()
	cases := []struct {
		name    string
		rows    [][]string
		err     error
		delay   time.Duration
		wantErr error
	}{
		{"store down", nil, errors.New("connection refused"), 0, ErrStore},
		{"store hangs", [][]string{{"p", "*", "tool:b", "call", "allow"}}, nil, 2 * time.Second, ErrStore},
		{"row with a line break", [][]string{{"p", "*", "tool:a\np, *, *, *", "call", "allow"}}, nil, 0, ErrPolicy},
		{"wrong field count", [][]string{{"p", "*", "tool:a", "call"}}, nil, 0, ErrStore},
		{"unknown policy type", [][]string{{"p7", "*", "tool:a", "call", "allow"}}, nil, 0, ErrStore},
		{"invalid glob", [][]string{{"p", "*", "tool:{a", "call", "allow"}}, nil, 0, ErrPolicy},
		{"empty", nil, nil, 0, ErrPolicy},
	}
	for _, c := range cases {
		ad.set(c.rows, c.err, c.delay)
		start := time.Now()
		err := a.Reload(ctx)
		if !errors.Is(err, ErrReload) || !errors.Is(err, c.wantErr) {
			t.Fatalf("%s: Reload err = %v, want %v", c.name, err, c.wantErr)
		}
		if took := time.Since(start); took > time.Second {
			t.Fatalf("%s: Reload took %v, beyond the load timeout", c.name, took)
		}
		if d, err := a.Authorize(ctx, user("u"), tool("a")); err != nil || !d.Allow || a.Digest() != good {
			t.Fatalf("%s: last good policy lost: %+v %v", c.name, d, err)
		}
	}
}

// TestCanonicalPolicyQuoting: fields with commas, quotes and leading spaces
// survive the adapter -> text -> strict parser round trip.
func TestCanonicalPolicyQuoting(t *testing.T) {
	t.Parallel()
	mdl := mustModel(t, "rbac")
	ad := &scriptedAdapter{}
	rows := [][]string{
		{"p", "group:a,b", "tool:x", "call", "allow"},
		{"p", `group:"q"`, "tool:y", "call", "allow"},
		{"p", " group:sp", "tool:z", "call", "allow"},
	}
	ad.set(rows, nil, 0)
	src, err := NewAdapterSource(AdapterSourceConfig{Model: mdl, Adapter: ad})
	if err != nil {
		t.Fatal(err)
	}
	text, err := src.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseModel(mdl)
	if err != nil {
		t.Fatal(err)
	}
	lines, err := ParsePolicy(m, text)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(rows) {
		t.Fatalf("got %d lines:\n%s", len(lines), text)
	}
	for i, l := range lines {
		if l.Fields[0] != rows[i][1] {
			t.Fatalf("line %d: subject %q, want %q\n%s", i, l.Fields[0], rows[i][1], text)
		}
	}
}
