package authserver

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/mcpauthz/mcpauthz/internal/otelx"
)

// Defaults and bounds of [KeyCheck].
const (
	// DefaultKeyCheckInterval is how often a replica publishes its view
	// and compares it with the others' (at most once per interval, on a
	// readiness check).
	DefaultKeyCheckInterval = 10 * time.Second
	// DefaultKeyCheckMaxUnknown is how long the last result stands while
	// the registry does not answer.
	DefaultKeyCheckMaxUnknown = time.Minute
	// MaxKeyCheckReplicas bounds the views a check compares; a registry
	// answering more is treated as not answering.
	MaxKeyCheckReplicas = 256
	// MaxKeyCheckKeys bounds the thumbprints of one view.
	MaxKeyCheckKeys = 16
	// MaxReplicaNameLength bounds KeyView.Replica.
	MaxReplicaNameLength = 128
)

// ErrKeyMismatch is wrapped by the readiness error of a replica whose
// signing keys disagree with most replicas' (see [KeyCheck]).
var ErrKeyMismatch = errors.New("authserver: signing keys disagree with the other replicas")

// KeyView is what one authorization server replica publishes in a
// [KeyRegistry]: the RFC 7638 thumbprints (SHA-256, base64url) of its
// signing keys. A thumbprint identifies a public key and reveals nothing
// of the private one.
type KeyView struct {
	// Replica names the replica: unique among the running replicas and
	// the same across restarts of one, so that a restarted replica
	// replaces its previous view instead of adding one.
	Replica string
	// Active is the thumbprint of the key the replica signs with.
	Active string
	// Published are the thumbprints of every key of its JWK Set, Active
	// first.
	Published []string
	// Seen is when the replica learned, from earlier answers, that each
	// thumbprint of Published was first published (the earliest
	// KeyRegistryState.FirstSeen it was given). A registry keeps the
	// earliest of its own record and Seen, so that it re-learns the
	// order of the keys after losing its record (a Redis flush or
	// restart): without it every key would count as first published then,
	// and a retired key still published would no longer be flagged stale.
	// OPTIONAL; [KeyCheck] sets it.
	Seen map[string]time.Time
}

// KeyRegistryState is what [KeyRegistry.Publish] answers.
type KeyRegistryState struct {
	// Views are the unexpired views of every replica, the one just
	// published included.
	Views []KeyView
	// FirstSeen is when a replica first published each thumbprint of
	// Views, on the registry's clock. A thumbprint it lacks is treated as
	// new.
	FirstSeen map[string]time.Time
}

// KeyRegistry is where the replicas of one authorization server publish
// their signing keys' thumbprints, so that each can compare its keys with
// the others' ([KeyCheck]). stores/redis's KeyRegistry is one.
// Implementations must be safe for concurrent use.
type KeyRegistry interface {
	// Publish records v, valid for ttl (replacing the previous view of
	// v.Replica), and returns every unexpired view. An error means the
	// registry could not be reached.
	Publish(ctx context.Context, v KeyView, ttl time.Duration) (KeyRegistryState, error)
}

// KeyCheck turns on the signing key check: at most once per Interval, a
// readiness check ([Server.Ready]) publishes this replica's key
// thumbprints in Registry and compares them with the views of the other
// live replicas. With N live replicas, a key is held by the majority when
// more than N/2 of them publish it. The replica is not ready, with
// [ErrKeyMismatch] naming the key and the fix, when
//
//   - minority: the key it signs with is not held by the majority, so its
//     tokens fail wherever another replica's JWK Set is used (a stale or
//     wrong key file, or rotation step 1 skipped);
//   - missing: a key that a replica signs with and the majority holds is
//     not in its JWK Set, so it refuses those tokens (step 1 skipped here);
//   - stale: it still publishes a key that the majority has retired, first
//     published before a key the majority signs with (step 3 skipped), so
//     a token signed with the retired key still verifies here.
//
// A replica alone in the registry is ready. When the registry does not
// answer, the check reports unknown and the last result stands for
// MaxUnknown after the last answer (for the same keys); then the replica
// is not ready until the registry answers. Each check counts
// mcpauthz.as.key_checks with its outcome (ok, minority, missing, stale,
// unknown). docs/deployment.md describes the rotation it guards.
type KeyCheck struct {
	// Registry is shared by every replica of the issuer. REQUIRED.
	Registry KeyRegistry
	// Replica names this replica in the registry: unique among the
	// running replicas and stable across its restarts, since a view under
	// a new name counts as one more replica until it expires (three
	// intervals: a pod replaced under a new name, as in a rolling update,
	// still counts for up to 3 × Interval after its last publication).
	// OPTIONAL; empty means [DefaultReplicaName](Issuer, os.Args): the
	// host name (a pod name is stable across container restarts) and 16
	// hex digits (64 bits) of the SHA-256 of the working directory, the
	// server's Issuer and the command line, or "replica-" and a random
	// suffix when the host name is unavailable or too long (the mcpauthz
	// commands pass their subcommand's arguments instead of os.Args). Two
	// processes on one host with the same directory and command line, or
	// two servers of one issuer in one process, share one view and count
	// as one replica: name them. At most MaxReplicaNameLength bytes,
	// printable.
	Replica string
	// Interval is the time between two publications; a view expires
	// after three. Probe /readyz at least this often. OPTIONAL; zero
	// means DefaultKeyCheckInterval (10 s).
	Interval time.Duration
	// MaxUnknown is how long the last result stands while the registry
	// does not answer. OPTIONAL; zero means DefaultKeyCheckMaxUnknown
	// (1 min).
	MaxUnknown time.Duration
}

// keyChecker runs the [KeyCheck] of one Server.
type keyChecker struct {
	reg        KeyRegistry
	replica    string
	interval   time.Duration
	maxUnknown time.Duration
	counter    metric.Int64Counter // nil: metrics off
	log        *slog.Logger

	mu      sync.Mutex
	keys    *keyState // the keys result was computed for
	at      time.Time // last round
	okAt    time.Time // last registry answer
	outcome string    // of the last answer
	result  error     // of the last answer
	// seen is the earliest first-seen time the registry answered for
	// each thumbprint this replica publishes (at most MaxKeyCheckKeys),
	// sent with every view (KeyView.Seen).
	seen map[string]time.Time
}

// newKeyChecker returns the checker of kc for the server of issuer (part
// of the default replica name).
func newKeyChecker(kc KeyCheck, issuer string, counter metric.Int64Counter, log *slog.Logger) (*keyChecker, error) {
	if kc.Registry == nil {
		return nil, cfgErr("key_check.registry", "is required")
	}
	if kc.Interval < 0 || kc.MaxUnknown < 0 {
		return nil, cfgErr("key_check", "interval and max_unknown must not be negative")
	}
	name := kc.Replica
	if name == "" {
		name = DefaultReplicaName(issuer, os.Args)
	}
	if len(name) > MaxReplicaNameLength || hasControl(name) {
		return nil, cfgErr("key_check.replica", fmt.Sprintf("must be printable and at most %d bytes", MaxReplicaNameLength))
	}
	return &keyChecker{
		reg: kc.Registry, replica: name, counter: counter, log: log,
		interval:   orDefault(kc.Interval, DefaultKeyCheckInterval),
		maxUnknown: orDefault(kc.MaxUnknown, DefaultKeyCheckMaxUnknown),
	}, nil
}

// replicaHashBytes is how much of the SHA-256 a default replica name
// keeps: 64 bits, so that distinct processes on one host collide with
// probability about n²/2⁶⁵ rather than n²/2³³.
const replicaHashBytes = 8

// DefaultReplicaName is the name of a replica in the key registry when
// its KeyCheck.Replica is empty, with args os.Args: the host name and 16
// hex digits (64 bits) of the SHA-256 of the working directory, issuer
// and args (each length-prefixed). A restarted process keeps it, so that
// its new view replaces its old one (a per-start name would leave the old
// views counted as replicas for three intervals, and a replica restarted
// a few times would outvote the others), while processes on one host
// started with different command lines (-listen), and servers of other
// issuers, differ. A program that runs several servers in one process
// sets each KeyCheck.Replica to this with that server's own arguments.
// Without a usable host name it is "replica-" and 16 random hex digits
// (a new name at each start).
func DefaultReplicaName(issuer string, args []string) string {
	host, err := os.Hostname()
	if err == nil && host != "" && len(host) <= MaxReplicaNameLength-1-2*replicaHashBytes && !hasControl(host) {
		return host + "-" + replicaHash(issuer, args)
	}
	var b [replicaHashBytes]byte
	_, _ = rand.Read(b[:])
	return "replica-" + hex.EncodeToString(b[:])
}

// replicaHash is the hex of the first replicaHashBytes of the SHA-256 of
// the working directory, issuer and args, each preceded by its length
// (no two lists hash the same input).
func replicaHash(issuer string, args []string) string {
	wd, _ := os.Getwd()
	h := sha256.New()
	var n [8]byte
	for _, s := range append([]string{wd, issuer}, args...) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil)[:replicaHashBytes])
}

// view is what ks publishes.
func (ks *keyState) view(replica string) KeyView {
	v := KeyView{Replica: replica, Active: ks.current.thumb, Published: make([]string, 0, len(ks.all))}
	for _, k := range ks.all {
		v.Published = append(v.Published, k.thumb)
	}
	return v
}

// check runs a round when the last one is older than the interval or was
// for other keys, and returns the readiness error (nil: ready).
func (k *keyChecker) check(ctx context.Context, ks *keyState, now time.Time) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if ks == k.keys && !k.at.IsZero() && now.Sub(k.at) < k.interval && !now.Before(k.at) {
		return k.result
	}
	k.at = now
	view := ks.view(k.replica)
	view.Seen = make(map[string]time.Time, len(view.Published))
	for _, t := range view.Published {
		if at, ok := k.seen[t]; ok {
			view.Seen[t] = at
		}
	}
	st, err := k.reg.Publish(ctx, view, 3*k.interval)
	if err == nil && len(st.Views) > MaxKeyCheckReplicas {
		err = fmt.Errorf("%d views, more than %d", len(st.Views), MaxKeyCheckReplicas)
	}
	if err != nil {
		k.record(ctx, "unknown")
		if ks == k.keys && !k.okAt.IsZero() && now.Sub(k.okAt) <= k.maxUnknown {
			k.log.WarnContext(ctx, "authserver: signing key check: registry unreachable; the last result stands", "since", k.okAt, "result", k.outcome, "error", err)
			return k.result
		}
		k.keys = nil // the next call tries again
		return fmt.Errorf("signing key check: key registry unreachable (results stand %s after the last answer): %w", k.maxUnknown, err)
	}
	for t, at := range st.FirstSeen {
		if prev, ok := view.Seen[t]; slices.Contains(view.Published, t) && (!ok || at.Before(prev)) {
			view.Seen[t] = at
		}
	}
	k.seen = view.Seen
	outcome, res := evaluateKeys(ks, k.replica, st)
	k.record(ctx, outcome)
	if outcome != k.outcome {
		if res != nil {
			k.log.WarnContext(ctx, "authserver: signing key check failed; not ready", "outcome", outcome, "replicas", len(st.Views), "error", res)
		} else if k.outcome != "" {
			k.log.InfoContext(ctx, "authserver: signing key check agrees with the other replicas", "replicas", len(st.Views))
		}
	}
	k.keys, k.okAt, k.outcome, k.result = ks, now, outcome, res
	return res
}

func (k *keyChecker) record(ctx context.Context, outcome string) {
	if k.counter != nil {
		k.counter.Add(ctx, 1, metric.WithAttributes(otelx.AttrOutcome.String(outcome)))
	}
}

// evaluateKeys compares this replica's keys ks with the registry's views
// (see [KeyCheck]) and returns the outcome and the readiness error.
func evaluateKeys(ks *keyState, replica string, st KeyRegistryState) (string, error) {
	self := ks.view(replica)
	views := []KeyView{self}
	for _, v := range st.Views {
		if v.Replica != replica {
			views = append(views, v)
		}
	}
	n := len(views)
	if n == 1 {
		return "ok", nil
	}
	count := map[string]int{}
	for _, v := range views {
		for _, t := range uniq(v.Published) {
			count[t]++
		}
	}
	held := func(t string) bool { return 2*count[t] > n }
	kid := func(t string) string {
		for _, k := range ks.all {
			if k.thumb == t {
				return k.kid
			}
		}
		return ""
	}
	var outcome string
	var errs []error
	fail := func(o string, err error) {
		if outcome == "" {
			outcome = o
		}
		errs = append(errs, err)
	}
	if !held(self.Active) {
		fail("minority", fmt.Errorf("this replica signs with key %s (kid %q), which %d of %d replicas publish: its tokens fail where another replica's JWK Set is used; give it the other replicas' signing_keys",
			self.Active, kid(self.Active), count[self.Active], n))
	}
	// active keys of the majority, each with how many replicas sign with it
	signers := map[string]int{}
	for _, v := range views {
		if held(v.Active) {
			signers[v.Active]++
		}
	}
	for _, t := range sortedKeys(signers) {
		if !slices.Contains(self.Published, t) {
			fail("missing", fmt.Errorf("%d of %d replicas sign with key %s, which this replica does not publish: it refuses their tokens; add it to its signing_keys (rotation step 1)",
				signers[t], n, t))
		}
	}
	for _, t := range uniq(self.Published) {
		if held(t) || t == self.Active {
			continue
		}
		first, ok := st.FirstSeen[t]
		if !ok {
			continue
		}
		for _, a := range sortedKeys(signers) {
			if fa, ok := st.FirstSeen[a]; ok && first.Before(fa) {
				fail("stale", fmt.Errorf("this replica still publishes key %s (kid %q), which only %d of %d replicas publish (the others retired it): tokens signed with it still verify here; remove it from its signing_keys (rotation step 3)",
					t, kid(t), count[t], n))
				break
			}
		}
	}
	if outcome == "" {
		return "ok", nil
	}
	return outcome, fmt.Errorf("%w: %w", ErrKeyMismatch, errors.Join(errs...))
}

func uniq(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
