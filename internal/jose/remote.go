package jose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/clip"
	"github.com/mcpauthz/mcpauthz/internal/httpx"
)

// RemoteKeySet defaults.
const (
	// DefaultMinRefreshInterval is the minimum time between two fetches
	// caused by unknown kids (RemoteKeySetConfig.MinRefreshInterval): under
	// a flood of unknown kids at most one fetch per interval, and a key the
	// IdP publishes at any moment validates at most this long (plus one
	// fetch) later.
	DefaultMinRefreshInterval = 4 * time.Second
	// DefaultMaxNegativeKids bounds the negative kid cache (entries; a kid
	// is at most MaxKeyIDLength bytes, so at most about 300 KiB).
	DefaultMaxNegativeKids = 1024
	DefaultCooldown        = 30 * time.Second
	DefaultMaxStale        = 24 * time.Hour
	DefaultFetchTimeout    = 5 * time.Second
)

// RemoteKeySetConfig configures [NewRemoteKeySet].
type RemoteKeySetConfig struct {
	// URL of the JWK Set. REQUIRED. It must be https, except for loopback
	// hosts (127.0.0.0/8, ::1, "localhost"), which may use http. No
	// user-info, no fragment.
	URL string
	// HTTPClient is used for fetches. OPTIONAL; nil means a new client. The
	// client is copied: its CheckRedirect is replaced by a policy that refuses
	// redirects to another host or from https to http (at most 3 hops), and
	// a zero Timeout becomes 2×FetchTimeout. http.DefaultClient is never used.
	HTTPClient *http.Client
	// Algorithms, when non-empty, drops JWKs labelled with other algorithms
	// (see KeySetOptions). OPTIONAL.
	Algorithms []string
	// MinRefreshInterval is the minimum time between two fetches caused by
	// unknown kids after a successful fetch (the global refresh budget).
	// OPTIONAL; zero means 4 s (DefaultMinRefreshInterval). Larger values
	// lower the load a flood of unknown kids puts on the IdP and delay new
	// keys by as much.
	MinRefreshInterval time.Duration
	// Cooldown is the minimum time after a failed fetch before the next
	// one, and between two background refreshes. OPTIONAL; zero means 30 s.
	Cooldown time.Duration
	// MaxStale is how long the last good key set is used while fetches fail
	// (stale-while-error); after it the set fails closed. OPTIONAL; zero
	// means 24 h.
	MaxStale time.Duration
	// RefreshInterval, when positive, starts a background refresh when a
	// lookup finds the set older than this (still at most once per
	// Cooldown), so that removed keys disappear without waiting for an
	// unknown kid. OPTIONAL; zero disables it.
	RefreshInterval time.Duration
	// FetchTimeout bounds one fetch. OPTIONAL; zero means 5 s.
	FetchTimeout time.Duration
	// MaxBytes and MaxKeys cap the document (see KeySetOptions). OPTIONAL.
	MaxBytes int
	MaxKeys  int
	// Now is the clock. OPTIONAL; nil means time.Now.
	Now func() time.Time
	// Logger receives fetch failures and key-set changes. OPTIONAL; nil
	// discards. Tokens are never logged.
	Logger *slog.Logger
	// OnFetch is called after every fetch with its error (nil on success),
	// e.g. to count fetches and failures. OPTIONAL.
	OnFetch func(err error)
}

// RemoteKeySet is a KeySet backed by a JWKS URL. It fetches lazily on first
// use, refreshes when a token names an unknown kid (at most once per
// MinRefreshInterval, single-flight; a kid already found absent from the
// current set fails fast until then) or (RefreshInterval) in the background
// when the set has grown old (at most once per Cooldown), backs off for
// Cooldown after a failed fetch, never fetches because a signature failed,
// and keeps the
// last good set through outages until MaxStale. A fetch that fails, returns
// non-200, more than MaxBytes, invalid JSON or no usable key never replaces
// a good set. Safe for concurrent use.
type RemoteKeySet struct {
	url      string
	client   *http.Client
	opts     KeySetOptions
	cooldown time.Duration
	minFetch time.Duration
	maxStale time.Duration
	interval time.Duration
	timeout  time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu          sync.Mutex
	keys        *StaticKeySet // last good set, nil before the first success
	fetchedAt   time.Time     // time of the last successful fetch
	lastAttempt time.Time     // start of the last fetch (zero: never)
	lastErr     error
	inflight    chan struct{} // closed when the running fetch ends
	fetches     int           // number of fetches started (for tests and metrics)
	gen         uint64        // number of successful fetches: the set's generation
	// negative maps a kid to the generation of the set it was last found
	// absent from (bounded by DefaultMaxNegativeKids): a kid already known
	// absent from the current set fails fast, without waiting for a fetch
	// in flight, until the next fetch is allowed.
	negative map[string]uint64
	onFetch  func(error)
	// snap is keys and fetchedAt, published together after each
	// successful fetch so that ContainsAt reads them without the lock.
	snap atomic.Pointer[keySnapshot]
}

// keySnapshot is one successfully fetched set and the time it was fetched.
type keySnapshot struct {
	keys *StaticKeySet
	at   time.Time
}

// NewRemoteKeySet validates cfg and returns a key set. It does no I/O.
func NewRemoteKeySet(cfg RemoteKeySetConfig) (*RemoteKeySet, error) {
	u, err := CheckFetchURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if len(cfg.Algorithms) > 0 {
		if err := ValidateAlgorithms(cfg.Algorithms); err != nil {
			return nil, err
		}
	}
	if cfg.MinRefreshInterval < 0 || cfg.Cooldown < 0 {
		return nil, errors.New("jose: negative MinRefreshInterval or Cooldown")
	}
	r := &RemoteKeySet{
		url:      u.String(),
		opts:     KeySetOptions{Algorithms: cfg.Algorithms, MaxBytes: cfg.MaxBytes, MaxKeys: cfg.MaxKeys, Logger: cfg.Logger},
		cooldown: orDefault(cfg.Cooldown, DefaultCooldown),
		minFetch: orDefault(cfg.MinRefreshInterval, DefaultMinRefreshInterval),
		maxStale: orDefault(cfg.MaxStale, DefaultMaxStale),
		interval: cfg.RefreshInterval,
		timeout:  orDefault(cfg.FetchTimeout, DefaultFetchTimeout),
		now:      cfg.Now,
		log:      cfg.Logger,
		onFetch:  cfg.OnFetch,
	}
	if r.opts.MaxBytes <= 0 {
		r.opts.MaxBytes = DefaultMaxKeySetBytes
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.client = SafeHTTPClient(cfg.HTTPClient, 2*r.timeout)
	return r, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// CheckFetchURL parses a URL this package may fetch: internal/httpx's
// CheckURL (absolute, https or http for a loopback host, no user-info or
// fragment).
func CheckFetchURL(raw string) (*url.URL, error) {
	u, err := httpx.CheckURL(raw, false)
	if err != nil {
		return nil, fmt.Errorf("jose: fetch URL %s: %w", clip.Quote(raw, 128), err)
	}
	return u, nil
}

// SafeHTTPClient returns a copy of c (or a new client when c is nil) whose
// redirects stay on the same host and never downgrade https to http (at most
// 3 hops), and whose Timeout is timeout when c has none.
func SafeHTTPClient(c *http.Client, timeout time.Duration) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	}
	if cp.Timeout == 0 {
		cp.Timeout = timeout
	}
	next := cp.CheckRedirect
	cp.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("jose: too many redirects")
		}
		prev := via[len(via)-1].URL
		if !strings.EqualFold(req.URL.Host, prev.Host) {
			return fmt.Errorf("jose: redirect to another host refused")
		}
		if prev.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("jose: redirect from https to %s refused", req.URL.Scheme)
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &cp
}

// Keys implements KeySet. A kid present in the current set never causes a
// fetch, whatever happens to the signature.
func (r *RemoteKeySet) Keys(ctx context.Context, kid, alg string) ([]*PublicKey, error) {
	keys, usable := r.current()
	if usable {
		found, err := keys.lookup(kid, alg)
		if found != nil || err != nil {
			r.maybeBackgroundRefresh()
			return found, err
		}
		if r.knownAbsent(kid) {
			return nil, fmt.Errorf("%w: kid %s", ErrUnknownKey, clip.Quote(kid, 128))
		}
	}
	// Unknown kid, no set yet, or a set older than MaxStale: try to refresh
	// (a failed fetch keeps the previous set, checked below).
	if _, err := r.refresh(ctx); err != nil {
		return nil, err
	}
	keys, usable = r.current()
	if !usable {
		r.mu.Lock()
		last := r.lastErr
		r.mu.Unlock()
		if last == nil {
			last = errors.New("no key set fetched yet")
		}
		return nil, fmt.Errorf("%w: %s: %v", ErrUnavailable, r.url, last)
	}
	found, err := keys.lookup(kid, alg)
	if err != nil {
		return nil, err
	}
	if found == nil {
		r.markAbsent(kid)
		return nil, fmt.Errorf("%w: kid %s", ErrUnknownKey, clip.Quote(kid, 128))
	}
	return found, nil
}

// knownAbsent reports whether kid was found absent from the current set and
// no fetch is allowed yet: the caller fails fast.
func (r *RemoteKeySet) knownAbsent(kid string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	g, ok := r.negative[kid]
	return ok && g == r.gen && !r.fetchAllowed(r.now())
}

// markAbsent records that kid is absent from the current set.
func (r *RemoteKeySet) markAbsent(kid string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.negative == nil || len(r.negative) >= DefaultMaxNegativeKids {
		r.negative = make(map[string]uint64) // bounded: start over
	}
	r.negative[kid] = r.gen
}

// fetchAllowed applies the global refresh budget: MinRefreshInterval after
// a successful fetch, Cooldown after a failed one. r.mu must be held.
func (r *RemoteKeySet) fetchAllowed(now time.Time) bool {
	if r.lastAttempt.IsZero() {
		return true
	}
	wait := r.minFetch
	if r.lastErr != nil {
		wait = max(r.cooldown, r.minFetch)
	}
	return now.Sub(r.lastAttempt) >= wait
}

// current returns the last good set and whether it is fresh enough to use.
func (r *RemoteKeySet) current() (*StaticKeySet, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil || r.now().Sub(r.fetchedAt) > r.maxStale {
		return r.keys, false
	}
	return r.keys, true
}

// Refresh fetches now unless the refresh budget forbids it (a fetch less
// than MinRefreshInterval ago, or less than Cooldown after a failed one); a
// running fetch is joined. It returns the error of the fetch it started or joined,
// nil when none was allowed, or ctx.Err().
func (r *RemoteKeySet) Refresh(ctx context.Context) error {
	fetchErr, err := r.refresh(ctx)
	if err != nil {
		return err
	}
	return fetchErr
}

// refresh returns the result of the fetch it started or joined (nil when the
// cooldown allowed none) and, separately, a wait error when ctx ended first.
func (r *RemoteKeySet) refresh(ctx context.Context) (fetchErr, waitErr error) {
	r.mu.Lock()
	done := r.inflight
	if done == nil {
		if !r.fetchAllowed(r.now()) {
			r.mu.Unlock()
			return nil, nil
		}
		done = r.start()
	}
	r.mu.Unlock()
	select {
	case <-done:
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.lastErr, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for %s: %v", ErrUnavailable, r.url, ctx.Err())
	}
}

// maybeBackgroundRefresh starts a refresh when RefreshInterval has passed.
func (r *RemoteKeySet) maybeBackgroundRefresh() {
	if r.interval <= 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if r.inflight != nil || now.Sub(r.fetchedAt) < r.interval || now.Sub(r.lastAttempt) < r.cooldown {
		return
	}
	r.start()
}

// start launches a fetch; r.mu must be held.
func (r *RemoteKeySet) start() chan struct{} {
	done := make(chan struct{})
	r.inflight = done
	r.lastAttempt = r.now()
	r.fetches++
	go func() {
		keys, err := r.fetch()
		r.mu.Lock()
		defer r.mu.Unlock()
		r.inflight = nil
		r.lastErr = err
		if err == nil {
			r.keys, r.fetchedAt = keys, r.now()
			r.snap.Store(&keySnapshot{keys: keys, at: r.fetchedAt})
			r.gen++
		}
		close(done)
	}()
	return done
}

// fetch downloads and parses the set. It runs detached from any request
// context, bounded by FetchTimeout.
func (r *RemoteKeySet) fetch() (*StaticKeySet, error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	keys, err := r.download(ctx)
	if r.onFetch != nil {
		r.onFetch(err)
	}
	if err != nil {
		r.mu.Lock()
		kept := r.keys != nil
		r.mu.Unlock()
		if kept {
			r.log.Warn("jose: JWKS fetch failed; keeping the last good key set", "url", r.url, "error", err.Error())
		} else {
			// Nothing was ever fetched: tokens are refused until a fetch succeeds.
			r.log.Warn("jose: JWKS fetch failed; no key set loaded, tokens are refused until a fetch succeeds", "url", r.url, "error", err.Error())
		}
		return nil, err
	}
	r.log.Info("jose: JWKS fetched", "url", r.url, "keys", len(keys))
	return newIndex(keys), nil
}

func (r *RemoteKeySet) download(ctx context.Context) ([]*PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, int64(r.opts.MaxBytes)+1))
	if err != nil {
		return nil, err
	}
	if len(body) > r.opts.MaxBytes {
		return nil, fmt.Errorf("%w: body larger than %d bytes", ErrInvalidKeySet, r.opts.MaxBytes)
	}
	keys, err := ParseJWKS(body, r.opts)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no usable key", ErrInvalidKeySet)
	}
	return keys, nil
}

// Fetches returns how many fetches were started so far.
func (r *RemoteKeySet) Fetches() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.fetches
}

// Ready reports whether a usable key set is loaded (fetched and not older
// than MaxStale). Without one it fetches now (at most once per Cooldown,
// joining a running fetch) and reports the failure, wrapping
// ErrUnavailable.
func (r *RemoteKeySet) Ready(ctx context.Context) error {
	if _, usable := r.current(); usable {
		return nil
	}
	if _, err := r.refresh(ctx); err != nil {
		return err
	}
	if _, usable := r.current(); usable {
		return nil
	}
	r.mu.Lock()
	last := r.lastErr
	r.mu.Unlock()
	if last == nil {
		last = errors.New("no key set fetched yet")
	}
	return fmt.Errorf("%w: %s: %v", ErrUnavailable, r.url, last)
}
