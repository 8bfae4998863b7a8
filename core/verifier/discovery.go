package verifier

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/clip"
	"github.com/mcpauthz/mcpauthz/internal/jose"
	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// maxDiscoveryBytes caps an authorization server metadata document.
const maxDiscoveryBytes = 1 << 20

// discoveryURLs returns the default metadata URLs for an issuer: OpenID
// Connect discovery, then RFC 8414 with the well-known segment inserted
// before the issuer's path. A "{tenantid}" template is resolved with
// "common" (whose metadata names the template itself as issuer).
func discoveryURLs(issuer string) ([]string, error) {
	iss := strings.Replace(issuer, TenantPlaceholder, "common", 1)
	u, err := url.Parse(iss)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("issuer %q is not a URL usable for discovery; set JWKSURL or DiscoveryURL", issuer)
	}
	oidc := strings.TrimSuffix(iss, "/") + "/.well-known/openid-configuration"
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	rfc8414 := u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + path
	return []string{oidc, rfc8414}, nil
}

// discoveryKeySet resolves jwks_uri lazily from metadata and then delegates
// to a RemoteKeySet. Discovery is retried at most once per cooldown.
type discoveryKeySet struct {
	issuer string
	urls   []string
	client *http.Client
	remote jose.RemoteKeySetConfig // URL filled after discovery

	// keys is the RemoteKeySet once discovery succeeded, set once and
	// never changed: Keys and a cache hit's ContainsSince read it without
	// taking mu.
	keys atomic.Pointer[jose.RemoteKeySet]

	mu          sync.Mutex // guards discovery: the fields below
	lastAttempt int64      // UnixNano of the last discovery start; 0 = never
	lastErr     error
	inflight    chan struct{}
}

func newDiscoveryKeySet(issuer string, urls []string, client *http.Client, remote jose.RemoteKeySetConfig) *discoveryKeySet {
	if remote.Now == nil {
		remote.Now = time.Now
	}
	return &discoveryKeySet{issuer: issuer, urls: urls, client: client, remote: remote}
}

// Keys implements jose.KeySet.
func (d *discoveryKeySet) Keys(ctx context.Context, kid, alg string) ([]*jose.PublicKey, error) {
	ks, err := d.resolve(ctx)
	if err != nil {
		return nil, err
	}
	return ks.Keys(ctx, kid, alg)
}

// Contains reports whether k is in the discovered key set's current keys
// (false before discovery succeeded); see jose.RemoteKeySet.Contains.
func (d *discoveryKeySet) Contains(k *jose.PublicKey) bool {
	return d.ContainsSince(k, d.remote.Now(), 0)
}

// ContainsSince is Contains at the instant elapsed after base (see
// jose.RemoteKeySet.ContainsSince).
func (d *discoveryKeySet) ContainsSince(k *jose.PublicKey, base time.Time, elapsed time.Duration) bool {
	ks := d.keys.Load()
	return ks != nil && ks.ContainsSince(k, base, elapsed)
}

func (d *discoveryKeySet) resolve(ctx context.Context) (*jose.RemoteKeySet, error) {
	if ks := d.keys.Load(); ks != nil {
		return ks, nil
	}
	d.mu.Lock()
	if ks := d.keys.Load(); ks != nil {
		d.mu.Unlock()
		return ks, nil
	}
	done := d.inflight
	if done == nil {
		now := d.remote.Now().UnixNano()
		if d.lastAttempt != 0 && now-d.lastAttempt < int64(jose.DefaultCooldown) {
			err := d.lastErr
			d.mu.Unlock()
			return nil, fmt.Errorf("%w: discovery for %q failed recently: %v", jose.ErrUnavailable, d.issuer, err)
		}
		d.lastAttempt = now
		done = make(chan struct{})
		d.inflight = done
		go d.discover(done)
	}
	d.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: waiting for discovery of %q: %v", jose.ErrUnavailable, d.issuer, ctx.Err())
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	ks := d.keys.Load()
	if ks == nil {
		return nil, fmt.Errorf("%w: discovery for %q: %v", jose.ErrUnavailable, d.issuer, d.lastErr)
	}
	return ks, nil
}

func (d *discoveryKeySet) discover(done chan struct{}) {
	timeout := d.remote.FetchTimeout
	if timeout <= 0 {
		timeout = jose.DefaultFetchTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var ks *jose.RemoteKeySet
	var errs []error
	for _, u := range d.urls {
		jwksURI, err := d.fetchMetadata(ctx, u)
		if err == nil {
			cfg := d.remote
			cfg.URL = jwksURI
			ks, err = jose.NewRemoteKeySet(cfg)
		}
		if err == nil {
			break
		}
		errs = append(errs, fmt.Errorf("%s: %w", u, err))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.inflight = nil
	if ks != nil {
		d.keys.Store(ks)
		d.lastErr = nil
	} else {
		d.lastErr = errors.Join(errs...)
		if d.remote.Logger != nil {
			d.remote.Logger.Warn("verifier: discovery failed", "issuer", d.issuer, "error", d.lastErr.Error())
		}
	}
	close(done)
}

// fetchMetadata returns jwks_uri from one metadata document whose issuer
// equals the configured issuer exactly.
func (d *discoveryKeySet) fetchMetadata(ctx context.Context, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDiscoveryBytes+1))
	if err != nil {
		return "", err
	}
	if len(body) > maxDiscoveryBytes {
		return "", errors.New("metadata document too large")
	}
	doc, err := jsonscan.DecodeObject(body, jsonscan.Options{})
	if err != nil {
		return "", fmt.Errorf("metadata: %w", err)
	}
	if iss, _ := doc["issuer"].(string); iss != d.issuer {
		return "", fmt.Errorf("metadata issuer %s does not equal the configured issuer %q", clip.Quote(iss, 128), d.issuer)
	}
	jwksURI, _ := doc["jwks_uri"].(string)
	if jwksURI == "" {
		return "", errors.New("metadata has no jwks_uri")
	}
	if _, err := jose.CheckFetchURL(jwksURI); err != nil {
		return "", err
	}
	return jwksURI, nil
}
