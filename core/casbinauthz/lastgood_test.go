package casbinauthz

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// switchSource is a Source that can be taken down and given new text.
type switchSource struct {
	mu   sync.Mutex
	text string
	down bool
}

func (s *switchSource) Load(context.Context) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return nil, errors.New("connection refused")
	}
	return []byte(s.text), nil
}

func (s *switchSource) set(text string, down bool) {
	s.mu.Lock()
	s.text, s.down = text, down
	s.mu.Unlock()
}

// lockLastGoodIdle waits (bounded) until no last-good write is queued or
// running and returns with a.lg.mu held. New and Reload wait at most
// lastGoodWriteWait for their write; a slower one (an fsync on a loaded
// machine) goes on in the writer goroutine after they return, so a test
// that replaces a.lg.write or moves a.lg.savedAt, reads the file or
// Stats.LastGoodError, or ends (t.TempDir's removal) waits for it first.
// Under the lock with no write in flight no writer goroutine runs, and the
// next one is started under it.
func lockLastGoodIdle(t *testing.T, a *Authorizer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		a.lg.mu.Lock()
		if a.lg.inflight == nil && a.lg.next == nil {
			return
		}
		a.lg.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("the last-good write did not finish in 30s")
		}
		time.Sleep(time.Millisecond)
	}
}

// lastGoodIdle waits (bounded) until no last-good write is queued or
// running.
func lastGoodIdle(t *testing.T, a *Authorizer) {
	t.Helper()
	lockLastGoodIdle(t, a)
	a.lg.mu.Unlock()
}

const (
	lgPolicyA = "p, user:alice, tool:deploy, call, allow\n"
	lgPolicyB = "p, user:alice, tool:deploy, call, allow\np, user:bob, tool:deploy, call, allow\n"
)

func allowed(t *testing.T, a *Authorizer, sub, name string) bool {
	t.Helper()
	d, err := a.Authorize(context.Background(), user(sub), tool(name))
	if err != nil {
		t.Fatal(err)
	}
	return d.Allow
}

// TestLastGoodBoot: a replica that starts while its Source is down fails
// without a last-good file, and with one starts from it, degraded and not
// ready, deciding with the last good policy; when the Source returns, Watch
// converges to it and the replica becomes ready; the file follows the
// accepted policy.
func TestLastGoodBoot(t *testing.T) {
	t.Parallel()
	mdl := mustModel(t, "rbac")
	path := filepath.Join(t.TempDir(), "policy.lastgood")
	src := &switchSource{text: lgPolicyA}
	first, err := New(Config{Model: mdl, Source: src, LastGoodPath: path})
	if err != nil {
		t.Fatal(err)
	}
	good := first.Digest()
	lastGoodIdle(t, first)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no last-good file written: %v", err)
	}
	if text, _, err := decodeLastGood(b, sha256.Sum256([]byte(mdl))); err != nil || string(text) != lgPolicyA {
		t.Fatalf("last-good file: %q %v", text, err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("last-good file mode: %v %v", fi.Mode(), err)
	}

	src.set(lgPolicyA, true)
	if _, err := New(Config{Model: mdl, Source: src}); !errors.Is(err, ErrReload) {
		t.Fatalf("without a last-good file, New with the Source down: %v", err)
	}
	a, err := New(Config{Model: mdl, Source: src, LastGoodPath: path, PollInterval: 10 * time.Millisecond, SettleWindow: 20 * time.Millisecond})
	if err != nil {
		t.Fatalf("New from the last-good file: %v", err)
	}
	st := a.Stats()
	if a.Digest() != good || st.Degraded == "" || !strings.Contains(st.Degraded, path) || st.LastError == "" {
		t.Fatalf("booted from the file: digest %s, stats %+v", a.Digest(), st)
	}
	if err := a.Ready(context.Background()); !errors.Is(err, core.ErrUnavailable) {
		t.Fatalf("Ready while degraded: %v", err)
	}
	if !allowed(t, a, "alice", "deploy") || allowed(t, a, "bob", "deploy") {
		t.Fatal("decisions from the last-good policy are wrong")
	}

	// The Source returns with a changed policy: Watch converges.
	ctx, cancel := context.WithCancel(context.Background())
	watching := make(chan struct{})
	go func() { _ = a.Watch(ctx); close(watching) }()
	src.set(lgPolicyB, false)
	deadline := time.Now().Add(5 * time.Second)
	for !allowed(t, a, "bob", "deploy") || a.Ready(context.Background()) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("not converged after the Source returned: %+v", a.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-watching
	if st := a.Stats(); st.Degraded != "" || st.LastError != "" {
		t.Fatalf("stats after convergence: %+v", st)
	}
	lastGoodIdle(t, a)
	b, _ = os.ReadFile(path)
	if text, _, err := decodeLastGood(b, sha256.Sum256([]byte(mdl))); err != nil || string(text) != lgPolicyB {
		t.Fatalf("last-good file after the change: %q %v", text, err)
	}

	// Same policy when the Source returns: Reload alone ends the degraded state.
	src.set(lgPolicyB, true)
	c, err := New(Config{Model: mdl, Source: src, LastGoodPath: path})
	if err != nil || c.Stats().Degraded == "" {
		t.Fatalf("second boot from the file: %v", err)
	}
	src.set(lgPolicyB, false)
	if err := c.Reload(context.Background()); err != nil || c.Ready(context.Background()) != nil || c.Stats().Degraded != "" {
		t.Fatalf("Reload with the same policy: %v, stats %+v", err, c.Stats())
	}
}

// TestLastGoodRefused: a last-good file that is not exactly what was
// written for this model and recently enough is refused whole: New fails
// as it would without the file, and nothing of it is loaded.
func TestLastGoodRefused(t *testing.T) {
	t.Parallel()
	mdl := mustModel(t, "rbac")
	mh := sha256.Sum256([]byte(mdl))
	now := time.Now()
	good := encodeLastGood([]byte(lgPolicyA), sha256.Sum256([]byte(lgPolicyA)), mh, now)
	reseal := func(b []byte) []byte { body, _, _ := splitTrailer(b); return SealTrailer(body) }
	cases := []struct {
		name string
		file []byte // nil: no file
		want error
	}{
		{"missing", nil, ErrLastGood},
		{"empty", []byte{}, ErrLastGood},
		{"half written", good[:len(good)/2], ErrLastGood},
		{"trailer cut", good[:len(good)-10], ErrLastGood},
		{"one byte flipped", bytes.Replace(good, []byte("alice"), []byte("alicf"), 1), ErrLastGood},
		{"policy edited and resealed", reseal(bytes.Replace(good, []byte("alice"), []byte("mallo"), 1)), ErrLastGood},
		{"policy-bytes short and resealed", reseal(bytes.Replace(good, []byte("policy-bytes: 40"), []byte("policy-bytes: 20"), 1)), ErrLastGood},
		{"another model", encodeLastGood([]byte(lgPolicyA), sha256.Sum256([]byte(lgPolicyA)), sha256.Sum256([]byte("other")), now), ErrLastGood},
		{"too old", encodeLastGood([]byte(lgPolicyA), sha256.Sum256([]byte(lgPolicyA)), mh, now.Add(-25*time.Hour)), ErrLastGood},
		{"from the future", encodeLastGood([]byte(lgPolicyA), sha256.Sum256([]byte(lgPolicyA)), mh, now.Add(time.Hour)), ErrLastGood},
		{"plain policy file", []byte(lgPolicyA), ErrLastGood},
		{"sealed policy file", SealTrailer([]byte(lgPolicyA)), ErrLastGood},
		{"intact but invalid policy", encodeLastGood([]byte("p, *, tool:[, call, allow\n"), sha256.Sum256([]byte("p, *, tool:[, call, allow\n")), mh, now), ErrPolicy},
	}
	if !bytes.Contains(good, []byte("policy-bytes: 40\n")) {
		t.Fatalf("fixture: %s", good)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "lastgood")
			if c.file != nil {
				if err := os.WriteFile(path, c.file, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			a, err := New(Config{Model: mdl, Source: &switchSource{down: true}, LastGoodPath: path})
			if a != nil || !errors.Is(err, ErrReload) || !errors.Is(err, ErrLastGood) || !errors.Is(err, c.want) {
				t.Fatalf("New: %v, want %v and ErrLastGood", err, c.want)
			}
		})
	}
	// The intact file itself boots (the cases above differ from it only
	// as named).
	path := filepath.Join(t.TempDir(), "lastgood")
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Model: mdl, Source: &switchSource{down: true}, LastGoodPath: path}); err != nil {
		t.Fatalf("intact file: %v", err)
	}
	if _, err := New(Config{Model: mdl, Source: &switchSource{down: true}, LastGoodPath: path, LastGoodMaxAge: time.Nanosecond}); !errors.Is(err, ErrLastGood) {
		t.Fatalf("LastGoodMaxAge not applied: %v", err)
	}
	if _, err := New(Config{Model: mdl, Source: StringSource(lgPolicyA), LastGoodMaxAge: -1}); err == nil {
		t.Fatal("negative LastGoodMaxAge accepted")
	}
}

// TestLastGoodWriteFailure: a file that cannot be written is reported and
// logged; the policy is accepted anyway.
func TestLastGoodWriteFailure(t *testing.T) {
	t.Parallel()
	mdl := mustModel(t, "rbac")
	path := filepath.Join(t.TempDir(), "no-such-dir", "lastgood")
	a, err := New(Config{Model: mdl, Source: StringSource(lgPolicyA), LastGoodPath: path})
	if err != nil {
		t.Fatal(err)
	}
	if st := a.Stats(); st.LastGoodError == "" || st.Degraded != "" || a.Ready(context.Background()) != nil {
		t.Fatalf("stats %+v", st)
	}
	if err := os.Mkdir(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	lockLastGoodIdle(t, a)
	a.lg.savedAt = time.Time{} // as if the refresh interval had passed
	a.lg.mu.Unlock()
	err = a.Reload(context.Background())
	lastGoodIdle(t, a)
	if err != nil || a.Stats().LastGoodError != "" {
		t.Fatalf("after the directory appeared: %v %+v", err, a.Stats())
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

// FuzzLastGoodDecode: any text round-trips through the file format, and no
// input makes the decoder panic or accept a file whose policy does not
// match its digest.
func FuzzLastGoodDecode(f *testing.F) {
	mh := sha256.Sum256([]byte("model"))
	f.Add([]byte(lgPolicyA), []byte(nil))
	f.Add([]byte("no newline"), encodeLastGood([]byte("x"), sha256.Sum256([]byte("x")), mh, time.Unix(0, 0)))
	f.Add([]byte(""), SealTrailer([]byte(lastGoodMagic+"\n# confirmed: 2026-01-01T00:00:00Z\n")))
	f.Fuzz(func(t *testing.T, text, raw []byte) {
		at := time.Unix(1_800_000_000, 123)
		got, when, err := decodeLastGood(encodeLastGood(text, sha256.Sum256(text), mh, at), mh)
		if err != nil || !bytes.Equal(got, text) || !when.Equal(at) {
			t.Fatalf("round trip of %q: %q %v %v", text, got, when, err)
		}
		if got, _, err := decodeLastGood(raw, mh); err == nil {
			if !bytes.Contains(raw, got) {
				t.Fatalf("decoded text not in the file")
			}
			sum := sha256.Sum256(got)
			if !bytes.Contains(raw, []byte(hex.EncodeToString(sum[:]))) {
				t.Fatalf("accepted a policy that does not match its digest")
			}
		}
	})
}

// TestLastGoodSlowWriteDoesNotHoldReloads: a last-good file on a volume
// that stops answering (a hung network mount, a stalled disk) must not
// hold the reload lock: a later policy change (a revoked rule) still
// applies at once, Stats reports the stuck write, and once the volume
// answers again the file ends with the newest policy.
func TestLastGoodSlowWriteDoesNotHoldReloads(t *testing.T) {
	t.Parallel()
	mdl := mustModel(t, "rbac")
	path := filepath.Join(t.TempDir(), "policy.lastgood")
	src := &switchSource{text: lgPolicyA}
	a, err := New(Config{Model: mdl, Source: src, LastGoodPath: path})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var calls sync.WaitGroup
	lockLastGoodIdle(t, a)
	a.lg.write = func(p string, b []byte) error {
		calls.Add(1)
		defer calls.Done()
		<-release
		return writeFileAtomic(p, b)
	}
	a.lg.mu.Unlock()
	for _, step := range []struct {
		policy string
		bob    bool
	}{{lgPolicyB, true}, {lgPolicyA, false}, {lgPolicyB, true}, {lgPolicyA, false}} {
		src.set(step.policy, false)
		done := make(chan error, 1)
		go func() { done <- a.Reload(context.Background()) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			close(release)
			t.Fatal("a reload waited for a stuck last-good write")
		}
		if got := allowed(t, a, "bob", "deploy"); got != step.bob {
			t.Fatalf("bob allowed=%t after the reload, want %t", got, step.bob)
		}
	}
	if st := a.Stats(); st.LastGoodError == "" {
		t.Fatalf("a stuck write is not reported: %+v", st)
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			if text, _, err := decodeLastGood(b, sha256.Sum256([]byte(mdl))); err == nil && string(text) == lgPolicyA && a.Stats().LastGoodError == "" {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the file did not end with the newest policy: %s %v %+v", b, err, a.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	calls.Wait()
}

// TestLastGoodNotOverwrittenByOlder: replicas sharing a last-good path. A
// replica whose Source returned its policy before another replica's file
// was confirmed does not replace that newer file; an older, damaged or
// other-model file is replaced.
func TestLastGoodNotOverwrittenByOlder(t *testing.T) {
	t.Parallel()
	mdl := mustModel(t, "rbac")
	now := time.Now()
	for _, tc := range []struct {
		name     string
		onDisk   func() []byte
		wantText string // the policy text the file holds after New
	}{
		{"newer confirmation kept", func() []byte {
			return encodeLastGood([]byte(lgPolicyB), sha256.Sum256([]byte(lgPolicyB)), sha256.Sum256([]byte(mdl)), now.Add(30*time.Second))
		}, lgPolicyB},
		{"older confirmation replaced", func() []byte {
			return encodeLastGood([]byte(lgPolicyB), sha256.Sum256([]byte(lgPolicyB)), sha256.Sum256([]byte(mdl)), now.Add(-time.Minute))
		}, lgPolicyA},
		{"other model replaced", func() []byte {
			return encodeLastGood([]byte(lgPolicyB), sha256.Sum256([]byte(lgPolicyB)), sha256.Sum256([]byte("other")), now.Add(time.Hour))
		}, lgPolicyA},
		{"damaged replaced", func() []byte { return []byte("# mcpauthz last-good policy v1\ngarbage") }, lgPolicyA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "policy.lastgood")
			if err := os.WriteFile(path, tc.onDisk(), 0o600); err != nil {
				t.Fatal(err)
			}
			a, err := New(Config{Model: mdl, Source: &switchSource{text: lgPolicyA}, LastGoodPath: path})
			if err != nil {
				t.Fatal(err)
			}
			lastGoodIdle(t, a)
			if a.Stats().LastGoodError != "" {
				t.Fatalf("LastGoodError %q", a.Stats().LastGoodError)
			}
			b, _ := os.ReadFile(path)
			if text, _, err := decodeLastGood(b, sha256.Sum256([]byte(mdl))); err != nil || string(text) != tc.wantText {
				t.Fatalf("file holds %q (%v), want %q", text, err, tc.wantText)
			}
		})
	}
}

// TestLastGoodStaleTempsRemoved: New removes the temporary files a crash
// left next to the last-good file once they are a minute old, and nothing
// else.
func TestLastGoodStaleTempsRemoved(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.lastgood")
	old := time.Now().Add(-2 * time.Minute)
	temps := []struct {
		name    string
		mtime   time.Time
		removed bool
	}{
		{".policy.lastgood.tmp-123", old, true},
		{".policy.lastgood.tmp-456", time.Now(), false}, // another replica may be writing it
		{".other.lastgood.tmp-123", old, false},         // not ours
		{"policy.lastgood.tmp-123", old, false},         // not the temp pattern
	}
	for _, tc := range temps {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, tc.mtime, tc.mtime); err != nil {
			t.Fatal(err)
		}
	}
	a, err := New(Config{Model: mustModel(t, "rbac"), Source: &switchSource{text: lgPolicyA}, LastGoodPath: path})
	if err != nil {
		t.Fatal(err)
	}
	lastGoodIdle(t, a)
	for _, tc := range temps {
		_, err := os.Stat(filepath.Join(dir, tc.name))
		if gone := errors.Is(err, os.ErrNotExist); gone != tc.removed {
			t.Errorf("%s: removed=%t, want %t", tc.name, gone, tc.removed)
		}
	}
}
