package authserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// memKeyRegistry is a KeyRegistry in this process for the unit tests of
// the comparison; stores/redis tests the real one.
type memKeyRegistry struct {
	mu    sync.Mutex
	views map[string]KeyView
	seen  map[string]time.Time
	clock time.Time
	down  bool
}

func newMemKeyRegistry() *memKeyRegistry {
	return &memKeyRegistry{views: map[string]KeyView{}, seen: map[string]time.Time{}, clock: time.Unix(1e9, 0)}
}

func (m *memKeyRegistry) Publish(_ context.Context, v KeyView, _ time.Duration) (KeyRegistryState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return KeyRegistryState{}, errors.New("registry down")
	}
	m.views[v.Replica] = v
	for _, t := range v.Published {
		if _, ok := m.seen[t]; !ok {
			m.clock = m.clock.Add(time.Second)
			m.seen[t] = m.clock
		}
	}
	st := KeyRegistryState{FirstSeen: map[string]time.Time{}}
	for _, v := range m.views {
		st.Views = append(st.Views, v)
		for _, t := range v.Published {
			st.FirstSeen[t] = m.seen[t]
		}
	}
	return st, nil
}

func checkKeys(t *testing.T, n int) []*signingKey {
	t.Helper()
	var out []*signingKey
	for i := range n {
		k, err := jose.GenerateKey(jose.ES256)
		if err != nil {
			t.Fatal(err)
		}
		sk, err := newSigningKey(SigningKey{Signer: k, KeyID: fmt.Sprintf("k%d", i+1)})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sk)
	}
	return out
}

func stateOf(t *testing.T, keys ...*signingKey) *keyState {
	t.Helper()
	ks, err := newKeyState(keys)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// countingMeter counts mcpauthz.as.key_checks by outcome.
type countingMeter struct {
	noop.MeterProvider
	mu sync.Mutex
	n  map[string]int
}

func (c *countingMeter) Meter(string, ...metric.MeterOption) metric.Meter {
	return countingMeterM{c: c}
}

type countingMeterM struct {
	noop.Meter
	c *countingMeter
}

func (m countingMeterM) Int64Counter(name string, _ ...metric.Int64CounterOption) (metric.Int64Counter, error) {
	if name != "mcpauthz.as.key_checks" {
		return noop.Int64Counter{}, nil
	}
	return countingCounter{c: m.c}, nil
}

type countingCounter struct {
	noop.Int64Counter
	c *countingMeter
}

func (cc countingCounter) Add(_ context.Context, _ int64, opts ...metric.AddOption) {
	set := metric.NewAddConfig(opts).Attributes()
	v, _ := set.Value("mcpauthz.outcome")
	cc.c.mu.Lock()
	cc.c.n[v.AsString()]++
	cc.c.mu.Unlock()
}

// Each way a replica's keys can disagree with the majority's, with the
// outcome and a word of the reason.
func TestEvaluateKeys(t *testing.T) {
	t.Parallel()
	k := checkKeys(t, 4)
	k1, k2, k3, k4 := k[0], k[1], k[2], k[3]
	tests := []struct {
		name    string
		history [][]*signingKey // published first, in this order (first-seen order)
		others  [][]*signingKey
		self    []*signingKey
		outcome string
		reason  string
	}{
		{name: "alone", self: []*signingKey{k1}, outcome: "ok"},
		{name: "same keys", others: [][]*signingKey{{k1}, {k1}}, self: []*signingKey{k1}, outcome: "ok"},
		{name: "wrong key file", others: [][]*signingKey{{k1}, {k1}}, self: []*signingKey{k3}, outcome: "minority", reason: "1 of 3 replicas publish"},
		{name: "publish step, rolling", others: [][]*signingKey{{k1}, {k1}}, self: []*signingKey{k1, k2}, outcome: "ok"},
		{name: "publish step, others first", others: [][]*signingKey{{k1, k2}, {k1}}, self: []*signingKey{k1}, outcome: "ok"},
		{name: "switch without publish", others: [][]*signingKey{{k1}, {k1}}, self: []*signingKey{k2, k1}, outcome: "minority", reason: "give it the other replicas' signing_keys"},
		{name: "switch, rolling", others: [][]*signingKey{{k1, k2}, {k2, k1}}, self: []*signingKey{k1, k2}, outcome: "ok"},
		{name: "publish skipped here", others: [][]*signingKey{{k2, k1}, {k2, k1}}, self: []*signingKey{k1}, outcome: "missing", reason: "rotation step 1"},
		{name: "switch skipped, others retired", others: [][]*signingKey{{k2}, {k2}}, self: []*signingKey{k1, k2}, outcome: "minority", reason: "1 of 3"},
		{name: "retire, rolling", others: [][]*signingKey{{k2}, {k2, k1}}, self: []*signingKey{k2, k1}, outcome: "ok"},
		{name: "retire skipped", history: [][]*signingKey{{k1}, {k1, k2}}, others: [][]*signingKey{{k2}, {k2}}, self: []*signingKey{k2, k1}, outcome: "stale", reason: "rotation step 3"},
		{name: "next rotation published early", history: [][]*signingKey{{k1}, {k2}}, others: [][]*signingKey{{k2}, {k2}}, self: []*signingKey{k2, k3}, outcome: "ok"},
		{name: "two against two, no majority", others: [][]*signingKey{{k1}, {k4}, {k4}}, self: []*signingKey{k1}, outcome: "minority", reason: "2 of 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := newMemKeyRegistry()
			ctx := context.Background()
			for i, h := range tt.history {
				if _, err := reg.Publish(ctx, stateOf(t, h...).view(fmt.Sprintf("h%d", i)), time.Minute); err != nil {
					t.Fatal(err)
				}
			}
			reg.views = map[string]KeyView{}
			for i, o := range tt.others {
				if _, err := reg.Publish(ctx, stateOf(t, o...).view(fmt.Sprintf("r%d", i)), time.Minute); err != nil {
					t.Fatal(err)
				}
			}
			self := stateOf(t, tt.self...)
			st, err := reg.Publish(ctx, self.view("self"), time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			outcome, res := evaluateKeys(self, "self", st)
			if outcome != tt.outcome {
				t.Fatalf("outcome %s (%v), want %s", outcome, res, tt.outcome)
			}
			if (res == nil) != (tt.outcome == "ok") || (res != nil && !errors.Is(res, ErrKeyMismatch)) {
				t.Fatalf("result %v for outcome %s", res, outcome)
			}
			if res != nil && !strings.Contains(res.Error(), tt.reason) {
				t.Fatalf("reason %q lacks %q", res, tt.reason)
			}
		})
	}
}

// A registry that stops answering: the last result stands for MaxUnknown
// (with the same keys), then the replica is not ready; every round counts
// its outcome.
func TestKeyCheckRegistryDown(t *testing.T) {
	t.Parallel()
	k := checkKeys(t, 2)
	reg := newMemKeyRegistry()
	meter := &countingMeter{n: map[string]int{}}
	var in telemetry
	var err error
	if in, err = newTelemetry(nil, meter); err != nil {
		t.Fatal(err)
	}
	kc, err := newKeyChecker(KeyCheck{Registry: reg, Replica: "self", Interval: 10 * time.Second, MaxUnknown: time.Minute}, testIssuer, in.keyChecks, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Unix(2e9, 0)
	good := stateOf(t, k[0])
	for i := range 2 {
		if _, err := reg.Publish(ctx, good.view(fmt.Sprintf("r%d", i)), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if err := kc.check(ctx, good, now); err != nil {
		t.Fatal(err)
	}
	if err := kc.check(ctx, good, now.Add(time.Second)); err != nil || meter.n["ok"] != 1 {
		t.Fatalf("cached round: %v, counts %v", err, meter.n)
	}
	reg.mu.Lock()
	reg.down = true
	reg.mu.Unlock()
	for _, d := range []time.Duration{20 * time.Second, 50 * time.Second} {
		if err := kc.check(ctx, good, now.Add(d)); err != nil {
			t.Fatalf("after %s down: %v", d, err)
		}
	}
	if err := kc.check(ctx, good, now.Add(61*time.Second)); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("after MaxUnknown: %v", err)
	}
	// rotated keys while down: the old result does not hold for them
	reg.mu.Lock()
	reg.down = false
	reg.mu.Unlock()
	if err := kc.check(ctx, good, now.Add(70*time.Second)); err != nil {
		t.Fatal(err)
	}
	reg.mu.Lock()
	reg.down = true
	reg.mu.Unlock()
	if err := kc.check(ctx, stateOf(t, k[1], k[0]), now.Add(71*time.Second)); err == nil {
		t.Fatal("new keys passed with the registry down")
	}
	if meter.n["ok"] != 2 || meter.n["unknown"] != 4 {
		t.Fatalf("counts %v, want ok 2, unknown 4", meter.n)
	}
	// a mismatch is counted and cached like a success
	reg.mu.Lock()
	reg.down = false
	reg.mu.Unlock()
	bad := stateOf(t, checkKeys(t, 1)[0])
	if err := kc.check(ctx, bad, now.Add(80*time.Second)); !errors.Is(err, ErrKeyMismatch) || meter.n["minority"] != 1 {
		t.Fatalf("wrong key: %v, counts %v", err, meter.n)
	}
}

func TestKeyCheckConfig(t *testing.T) {
	t.Parallel()
	for _, kc := range []KeyCheck{
		{},
		{Registry: newMemKeyRegistry(), Interval: -1},
		{Registry: newMemKeyRegistry(), Replica: strings.Repeat("r", MaxReplicaNameLength+1)},
		{Registry: newMemKeyRegistry(), Replica: "a\nb"},
	} {
		if _, err := newKeyChecker(kc, testIssuer, nil, slog.New(slog.DiscardHandler)); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v", kc, err)
		}
	}
	c, err := newKeyChecker(KeyCheck{Registry: newMemKeyRegistry()}, testIssuer, nil, slog.New(slog.DiscardHandler))
	if err != nil || c.replica == "" || c.interval != DefaultKeyCheckInterval || c.maxUnknown != DefaultKeyCheckMaxUnknown {
		t.Fatalf("defaults: %+v %v", c, err)
	}
}

// A replica restarted within the views' lifetime (three intervals) must
// not count once per start (review 8): with a name stable across restarts
// its new view replaces the old one, so one badly keyed replica restarted
// four times does not outvote three good ones. Distinct replicas still
// each count.
func TestKeyCheckRestartsDoNotMultiplyVotes(t *testing.T) {
	t.Parallel()
	if a, b, c := DefaultReplicaName(testIssuer, os.Args), DefaultReplicaName(testIssuer, os.Args), DefaultReplicaName("https://other.example", os.Args); a != b || a == c || strings.HasPrefix(a, "replica-") || len(a) > MaxReplicaNameLength {
		t.Fatalf("default replica names %q, %q (same server), %q (another issuer): not host-based, not stable across starts, or not distinct per issuer", a, b, c)
	}
	k := checkKeys(t, 2)
	tests := []struct {
		name    string
		bad     []string // the bad replica's name at each start, in order
		outcome string   // of a good replica afterwards
	}{
		{name: "default name, 4 restarts", bad: []string{"", "", "", ""}, outcome: "ok"},
		{name: "explicit name, 4 restarts", bad: []string{"as-bad", "as-bad", "as-bad", "as-bad"}, outcome: "ok"},
		{name: "4 distinct bad replicas", bad: []string{"bad-1", "bad-2", "bad-3", "bad-4"}, outcome: "minority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := newMemKeyRegistry()
			ctx := context.Background()
			log := slog.New(slog.DiscardHandler)
			now := time.Unix(2e9, 0)
			good, bad := stateOf(t, k[0]), stateOf(t, k[1])
			for _, n := range []string{"good-1", "good-2"} {
				if _, err := reg.Publish(ctx, good.view(n), time.Minute); err != nil {
					t.Fatal(err)
				}
			}
			for i, n := range tt.bad {
				if n == "" { // each start of the process builds its first checker
					n = DefaultReplicaName(testIssuer, os.Args)
				}
				kc, err := newKeyChecker(KeyCheck{Registry: reg, Replica: n}, testIssuer, nil, log)
				if err != nil {
					t.Fatal(err)
				}
				// the first bad view meets two good ones
				if err := kc.check(ctx, bad, now.Add(time.Duration(i)*5*time.Second)); i == 0 && !errors.Is(err, ErrKeyMismatch) {
					t.Fatalf("first start of the bad replica: %v, want ErrKeyMismatch", err)
				}
			}
			st, err := reg.Publish(ctx, good.view("self"), time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			outcome, res := evaluateKeys(good, "self", st)
			if outcome != tt.outcome {
				t.Fatalf("good replica among %d views: outcome %s (%v), want %s", len(st.Views), outcome, res, tt.outcome)
			}
		})
	}
}

// The default replica name keeps 64 bits of a SHA-256 (not 32: on a host
// running many processes a collision merges two replicas' views), over
// length-prefixed parts (arguments that concatenate alike differ), and
// depends on nothing but the process's directory, command line and the
// server's issuer: no process-wide counter, so the same server built
// again (a restart, or a second checker) gets the same name.
func TestDefaultReplicaName(t *testing.T) {
	t.Parallel()
	hexRE := regexp.MustCompile(`^[0-9a-f]{16}$`)
	tests := []struct {
		name string
		a, b []string
		iss  string
		same bool
	}{
		{name: "same command line", a: []string{"as", "-listen", ":8443"}, b: []string{"as", "-listen", ":8443"}, same: true},
		{name: "other port", a: []string{"as", "-listen", ":8443"}, b: []string{"as", "-listen", ":8444"}},
		{name: "split differently", a: []string{"as", "-l:8443"}, b: []string{"as-l", ":8443"}},
		{name: "argument moved into the issuer", a: []string{"x"}, b: []string{}, iss: testIssuer + "x"},
		{name: "other issuer", a: []string{"as"}, b: []string{"as"}, iss: "https://other.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			iss := tt.iss
			if iss == "" {
				iss = testIssuer
			}
			ha, hb := replicaHash(testIssuer, tt.a), replicaHash(iss, tt.b)
			if !hexRE.MatchString(ha) || !hexRE.MatchString(hb) {
				t.Fatalf("hashes %q %q: want 16 hex digits", ha, hb)
			}
			if (ha == hb) != tt.same {
				t.Fatalf("hashes %q %q: same %v, want %v", ha, hb, ha == hb, tt.same)
			}
		})
	}
	log := slog.New(slog.DiscardHandler)
	var names []string
	for range 3 {
		c, err := newKeyChecker(KeyCheck{Registry: newMemKeyRegistry()}, testIssuer, nil, log)
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, c.replica)
	}
	if names[0] != names[1] || names[1] != names[2] || !hexRE.MatchString(names[0][len(names[0])-16:]) {
		t.Fatalf("default names of one server built three times: %q", names)
	}
}
