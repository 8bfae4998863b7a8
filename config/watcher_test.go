package config

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/casbin/casbin/v2/persist"

	"github.com/mcpauthz/mcpauthz/core"
)

// recWatcher records what the Authorizer does with a watcher; stores/redis
// tests the real one (TestPolicyWatcherFromFile).
type recWatcher struct {
	mu     sync.Mutex
	cb     func(string)
	closed bool
}

func (w *recWatcher) SetUpdateCallback(f func(string)) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cb = f
	return nil
}
func (w *recWatcher) Update() error { return nil }
func (w *recWatcher) Close()        { w.mu.Lock(); w.closed = true; w.mu.Unlock() }

// TestPolicyWatcherSection: policy.watcher is built by the registered
// factory with its options, given to the Authorizer, and closed by
// Built.Close (and when a later step of Build fails); the section's
// errors name the field.
func TestPolicyWatcherSection(t *testing.T) {
	withWatcher := func(w string) string {
		return strings.Replace(base, "policy: {files: [testdata/policy.csv]}", "policy: {files: [testdata/policy.csv], watcher: "+w+"}", 1)
	}
	var got map[string]any
	var made []*recWatcher
	opts := Options{LookupEnv: func(n string) (string, bool) { return "s3cret", n == "PW" }, Watchers: map[string]WatcherFactory{
		"pubsub": func(_ context.Context, o map[string]any, _ *slog.Logger) (persist.Watcher, error) {
			if o["fail"] != nil {
				return nil, errors.New("cannot subscribe")
			}
			got = o
			w := &recWatcher{}
			made = append(made, w)
			return w, nil
		},
	}}
	f, err := Parse([]byte(withWatcher(`{kind: pubsub, options: {url: "${PW}", prefix: "{p}:"}}`)), opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Build(context.Background(), "", opts)
	if err != nil {
		t.Fatal(err)
	}
	w := made[0]
	w.mu.Lock()
	set := w.cb != nil
	w.mu.Unlock()
	if got["url"] != "s3cret" || got["prefix"] != "{p}:" || !set {
		t.Fatalf("options %v, callback set %v", got, set)
	}
	if err := b.Close(); err != nil || !w.closed {
		t.Fatalf("Close: %v, watcher closed %v", err, w.closed)
	}
	// A later failure of Build closes the watcher it started.
	failing := opts
	failing.Stores = map[string]StoreFactory{"shared": func(context.Context, map[string]any, *core.Config) (io.Closer, error) {
		return nil, errors.New("store down")
	}}
	f2, err := Parse([]byte(withWatcher(`{kind: pubsub}`)+"stores: {sessions: shared}\n"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f2.Build(context.Background(), "", failing); err == nil || !made[1].closed {
		t.Fatalf("failing store: %v, watcher closed %v", err, made[1].closed)
	}

	for _, tc := range []struct{ name, yaml, want string }{
		{"no kind", withWatcher(`{options: {url: x}}`), "policy.watcher.kind: is required"},
		{"unknown kind", withWatcher(`{kind: redis}`), `policy.watcher.kind: unknown watcher "redis" (registered: pubsub; the mcpauthz-redis binary registers redis)`},
		{"factory error", withWatcher(`{kind: pubsub, options: {fail: true}}`), `policy.watcher "pubsub": cannot subscribe`},
		{"literal password", withWatcher(`{kind: pubsub, options: {url: "redis://:hunter2@r:6379"}}`), "policy.watcher.options.url: holds a password"},
		{"literal nested password", withWatcher(`{kind: pubsub, options: {sentinel: {password: hunter2}}}`), "policy.watcher.options.sentinel.password: holds a password"},
		{"unknown key", withWatcher(`{kind: pubsub, url: x}`), "policy.watcher.url"},
		{"authenticate_only", "resource: https://mcp.example.com/mcp\nissuers: [{preset: okta, domain: acme.okta.com}]\nauthenticate_only: true\npolicy: {watcher: {kind: pubsub}}\n", "authenticate_only: cannot be combined with model or policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.yaml), opts)
			if err == nil {
				_, err = f.Build(context.Background(), "", opts)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := Parse([]byte(withWatcher(`{kind: pubsub}`)), Options{}); err != nil {
		t.Fatalf("Parse needs no registry: %v", err)
	}
}
