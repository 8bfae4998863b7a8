package introspect

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/sync/singleflight"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
	"github.com/mcpauthz/mcpauthz/internal/httpx"
	"github.com/mcpauthz/mcpauthz/internal/lru"
	"github.com/mcpauthz/mcpauthz/internal/otelx"
)

// Verifier is an RFC 7662 [core.TokenVerifier]. It is safe for concurrent
// use.
type Verifier struct {
	cfg    Config
	ck     checks
	cache  *cache
	flight singleflight.Group
	back   *backoff
	slots  chan struct{} // one per request in flight; nil: unbounded
	// lookups counts cache hits and misses of Verify (not of the
	// single-flight re-check).
	lookups otelx.CacheLookups
}

var _ core.TokenVerifier = (*Verifier)(nil)

// New validates cfg (see [Config] for the REQUIRED fields and defaults) and
// returns a Verifier. It does not contact the endpoint.
func New(cfg Config) (*Verifier, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	lookups, err := otelx.NewCacheLookups(otelx.Meter(cfg.MeterProvider), "introspection")
	if err != nil {
		return nil, fmt.Errorf("introspect: telemetry: %w", err)
	}
	return &Verifier{
		lookups: lookups,
		cfg:     c,
		ck: checks{
			issuer:     c.Issuer,
			audience:   c.Audience,
			allowNoAud: c.AllowMissingAudience,
			leeway:     c.Leeway,
		},
		cache: lru.New[tokenKey, *entry](c.MaxEntries, c.MaxBytes),
		back:  newBackoff(c.BackoffInitial, c.BackoffMax),
		slots: newSlots(c.MaxConcurrent),
	}, nil
}

// Verify introspects token and returns its claims (see the package
// documentation for the checks). A cached answer is used when one is live;
// concurrent calls for the same token share one request. The returned
// Claims are the caller's to keep, but Claims.Raw is shared with the cache
// and must not be modified.
//
// If ctx ends while waiting, Verify returns ctx's error wrapped in
// core.ErrUnavailable; the shared request still completes (bounded by
// Config.Timeout) and its answer is cached for later calls.
func (v *Verifier) Verify(ctx context.Context, token string) (*core.Claims, error) {
	if err := v.checkSyntax(token); err != nil {
		return nil, err
	}
	key := tokenKey(sha256.Sum256([]byte(token)))
	c, ok, err := v.cached(key)
	v.lookups.Record(ctx, ok)
	if ok {
		return c, err
	}
	ch := v.flight.DoChan(string(key[:]), func() (any, error) {
		if c, ok, err := v.cached(key); ok {
			return c, err
		}
		// At most MaxConcurrent requests in flight, whoever sends them.
		release, err := v.acquire()
		if err != nil {
			return nil, err
		}
		defer release()
		// While the endpoint fails, at most one call per backoff step.
		if err := v.back.allow(v.cfg.Now()); err != nil {
			return nil, err
		}
		// The shared request must not die with the first caller's context.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.cfg.Timeout)
		defer cancel()
		return v.introspect(rctx, key, token)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return cloneClaims(res.Val.(*core.Claims)), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: introspection wait: %w", core.ErrUnavailable, ctx.Err())
	}
}

// errBusy is wrapped in the core.ErrUnavailable refusal of a token met
// while Config.MaxConcurrent requests are in flight.
var errBusy = errors.New("introspection requests in flight at Config.MaxConcurrent")

func newSlots(n int) chan struct{} {
	if n < 0 {
		return nil
	}
	return make(chan struct{}, n)
}

// acquire takes a slot for one request without waiting.
func (v *Verifier) acquire() (release func(), err error) {
	if v.slots == nil {
		return func() {}, nil
	}
	select {
	case v.slots <- struct{}{}:
		return func() { <-v.slots }, nil
	default:
		return nil, fmt.Errorf("%w: %w (%d)", core.ErrUnavailable, errBusy, cap(v.slots))
	}
}

// cached returns a live cache entry's answer.
func (v *Verifier) cached(key tokenKey) (*core.Claims, bool, error) {
	now := v.cfg.Now()
	e, ok := v.cache.Get(key, now)
	if !ok {
		return nil, false, nil
	}
	if e.err != nil {
		return nil, true, e.err
	}
	// The entry never outlives exp, but the leeway check is cheap and keeps
	// the rule in one place.
	if err := checkTimes(e.claims, now, v.ck.leeway); err != nil {
		return nil, true, err
	}
	return cloneClaims(e.claims), true, nil
}

// introspect performs one request and caches the outcome.
func (v *Verifier) introspect(ctx context.Context, key tokenKey, token string) (*core.Claims, error) {
	body, err := v.post(ctx, token)
	if err != nil {
		v.back.done(v.cfg.Now(), true)
		v.cfg.Logger.Warn("introspection unavailable", "endpoint", v.cfg.Endpoint, "err", err)
		return nil, err
	}
	r, raw, err := parseResponse(body)
	now := v.cfg.Now()
	v.back.done(now, err != nil)
	if err != nil {
		v.cfg.Logger.Warn("introspection response rejected", "endpoint", v.cfg.Endpoint, "err", err)
		return nil, err
	}
	c, err := claimsFrom(r, raw, v.ck, now)
	if err != nil {
		if v.cfg.NegativeTTL > 0 {
			put(v.cache, key, &entry{err: err}, now.Add(v.cfg.NegativeTTL))
		}
		v.cfg.Logger.Debug("introspection: token rejected", "err", err)
		return nil, err
	}
	if v.cfg.PositiveTTL > 0 {
		until := now.Add(v.cfg.PositiveTTL)
		if !c.Expiry.IsZero() && c.Expiry.Before(until) {
			until = c.Expiry
		}
		put(v.cache, key, &entry{claims: c}, until)
	}
	v.cfg.Logger.Debug("introspection: token active",
		"iss", core.TruncateField(c.Issuer, core.MaxLogField), "sub", core.TruncateField(c.Subject, core.MaxLogField),
		"client_id", core.TruncateField(c.ClientID, core.MaxLogField), "jti", core.TruncateField(c.ID, core.MaxLogField))
	return c, nil
}

// post sends the introspection request and returns the 200 JSON body.
func (v *Verifier) post(ctx context.Context, token string) ([]byte, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	if v.cfg.AuthStyle == AuthStylePost {
		form.Set("client_id", v.cfg.ClientID)
		form.Set("client_secret", v.cfg.ClientSecret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.cfg.Endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: introspection request: %w", core.ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if v.cfg.AuthStyle == AuthStyleBasic {
		req.Header.Set("Authorization", basicAuth(v.cfg.ClientID, v.cfg.ClientSecret))
	}
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		// url.Error includes the URL only, never the body.
		return nil, fmt.Errorf("%w: introspection: %w", core.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, v.cfg.MaxResponseBytes))
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return nil, fmt.Errorf("%w: introspection endpoint answered HTTP %d: it refuses this resource server's client credentials", core.ErrUnavailable, resp.StatusCode)
		}
		return nil, fmt.Errorf("%w: introspection endpoint answered HTTP %d", core.ErrUnavailable, resp.StatusCode)
	}
	if !httpx.IsJSON(resp.Header.Get("Content-Type")) {
		return nil, fmt.Errorf("%w: introspection content type %s is not application/json",
			core.ErrUnavailable, clip.Quote(resp.Header.Get("Content-Type"), maxErrValue))
	}
	body, err := httpx.ReadBounded(resp.Body, v.cfg.MaxResponseBytes)
	if err != nil {
		return nil, fmt.Errorf("%w: introspection response: %w", core.ErrUnavailable, err)
	}
	return body, nil
}

// basicAuth is client_secret_basic: form-urlencode, then base64 (RFC 6749
// §2.3.1).
func basicAuth(id, secret string) string {
	cred := url.QueryEscape(id) + ":" + url.QueryEscape(secret)
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(cred))
}

// errMalformed is returned for tokens that are empty, too long or not an
// RFC 6750 b64token.
var errMalformed = errors.New("token is not an RFC 6750 b64token within the length limit")

func (v *Verifier) checkSyntax(token string) error {
	if token == "" || len(token) > v.cfg.MaxTokenBytes {
		return fmt.Errorf("%w: %w", core.ErrMalformedToken, errMalformed)
	}
	// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
	i := 0
	for ; i < len(token); i++ {
		ch := token[i]
		if !('a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' ||
			ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '+' || ch == '/') {
			break
		}
	}
	if i == 0 {
		return fmt.Errorf("%w: %w", core.ErrMalformedToken, errMalformed)
	}
	for ; i < len(token); i++ {
		if token[i] != '=' {
			return fmt.Errorf("%w: %w", core.ErrMalformedToken, errMalformed)
		}
	}
	return nil
}

func cloneClaims(c *core.Claims) *core.Claims {
	cp := *c
	cp.Audience = slices.Clone(c.Audience)
	cp.Scopes = slices.Clone(c.Scopes)
	return &cp
}

// cacheLen reports the number of cached answers (for tests).
func (v *Verifier) cacheLen() int { return v.cache.Len() }
