package authserver

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mcpauthz/mcpauthz/internal/httpx"
)

// Grant types, the public-client authentication method and the broker's
// defaults.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"

	// AuthNone marks a public client (RFC 7591 token_endpoint_auth_method
	// "none"): it has no credentials and may use only the authorization
	// code and refresh token grants, always with PKCE.
	AuthNone = "none"

	// DefaultCodeLifetime is the lifetime of authorization codes. It is
	// also the maximum.
	DefaultCodeLifetime = 60 * time.Second
	// DefaultRefreshIdleLifetime: a refresh token family unused for this
	// long is dead.
	DefaultRefreshIdleLifetime = 24 * time.Hour
	// DefaultRefreshAbsoluteLifetime: a refresh token family older than
	// this is dead, however often it is used; the user logs in again.
	DefaultRefreshAbsoluteLifetime = 7 * 24 * time.Hour
	// DefaultLoginLifetime bounds the time between /authorize and the
	// consent decision.
	DefaultLoginLifetime = 10 * time.Minute
	// DefaultMaxPendingBytes was the bound of the server-side state of
	// logins in progress.
	//
	// Deprecated: logins in progress are sealed in the browser's cookie and
	// take no server state; Broker.MaxPendingBytes is ignored.
	DefaultMaxPendingBytes = 4 << 20
	// DefaultMaxConsents bounds the remembered consents (user, client) of
	// the default memory ConsentStore.
	DefaultMaxConsents = 10000
	// MaxPreviousCodeKeys bounds Broker.PreviousCodeKeys.
	MaxPreviousCodeKeys = 3
	// DefaultMaxRefreshFamilies bounds the in-memory refresh token store.
	DefaultMaxRefreshFamilies = 10000
)

// Broker turns on the authorization code flow: MCP clients log in at this
// server, which authenticates the user at an upstream OpenID Connect
// provider and issues access tokens with the same claim shape as ID-JAG
// grants (sub, idp_iss, tenant, acr, amr, auth_time and the configured
// claim copies). See docs/authserver-broker.md.
type Broker struct {
	// Upstream is the enterprise IdP users log in at. REQUIRED.
	Upstream Upstream
	// Access decides which upstream groups may obtain which scopes of which
	// resource. REQUIRED: at least one rule. A user matching no rule for
	// the requested resource is refused with an error page.
	Access []AccessRule
	// CodeKey is the 32-byte AES-256-GCM key that seals authorization
	// codes, and from which (HKDF-SHA256) the key sealing logins in
	// progress is derived. OPTIONAL; nil means a random key per process,
	// which is only correct for a single instance: replicas behind one
	// issuer must share it (and a shared Config.ReplayStore, so that codes,
	// upstream callbacks and consent forms stay single use). A key that is
	// not random bytes is refused: fewer than 16 distinct byte values (all
	// zero, a repeated pattern) or only printable ASCII (a password); so
	// are such PreviousCodeKeys. Generate one with openssl rand -base64 32.
	CodeKey []byte
	// PreviousCodeKeys are earlier code keys, newest first: what they
	// sealed (authorization codes, login cookies, consent forms) still
	// opens, and nothing new is sealed with them. Sealed values name their
	// key (a key id derived from it), so a value whose key is in neither
	// CodeKey nor PreviousCodeKeys is refused. Keep a removed key here for
	// LoginLifetime after every replica seals with the new one (see
	// docs/deployment.md, "Rotating the code key"). OPTIONAL; at most
	// MaxPreviousCodeKeys keys of 32 bytes; needs CodeKey.
	PreviousCodeKeys [][]byte
	// RefreshStore keeps refresh token families. OPTIONAL; nil means an
	// in-memory store of MaxRefreshFamilies families (single instance).
	// Replicas share one (stores/redis's RefreshStore), so that a rotated
	// token reused on any replica revokes its family on all of them.
	RefreshStore RefreshStore
	// MaxRefreshFamilies caps the default in-memory RefreshStore.
	// OPTIONAL; zero means DefaultMaxRefreshFamilies. When full, the least
	// recently used family is dropped (its user logs in again).
	MaxRefreshFamilies int
	// RefreshIdleLifetime and RefreshAbsoluteLifetime bound refresh token
	// families. OPTIONAL; zero means DefaultRefreshIdleLifetime (24 h) and
	// DefaultRefreshAbsoluteLifetime (7 days). Idle at most the absolute
	// lifetime; absolute at most 90 days.
	RefreshIdleLifetime     time.Duration
	RefreshAbsoluteLifetime time.Duration
	// LoginLifetime bounds a login in progress: its sealed cookie and
	// consent form expire after it. OPTIONAL; zero means
	// DefaultLoginLifetime (10 min); at most 1 h.
	LoginLifetime time.Duration
	// MaxPendingBytes is ignored: logins in progress take no server state
	// (they are sealed in the browser's login cookie, at most 3,800 bytes).
	//
	// Deprecated: no longer needed.
	MaxPendingBytes int64
	// ConsentStore remembers consents. OPTIONAL; nil means a
	// [MemoryConsentStore] of MaxConsents entries and
	// DefaultMaxConsentBytes (single instance). Replicas share one
	// (stores/redis's ConsentStore), so that a consent, and its
	// revocation, holds at every replica.
	ConsentStore ConsentStore
	// MaxConsents bounds the default memory ConsentStore. OPTIONAL; zero
	// means DefaultMaxConsents. When full, the oldest consent is forgotten
	// (its user sees the consent page again). Must be zero with a
	// ConsentStore.
	MaxConsents int
}

// Upstream is the OpenID Connect provider the broker sends users to.
type Upstream struct {
	// Issuer is the provider's issuer; its discovery document is fetched
	// on the first login (and again after a failure). REQUIRED.
	Issuer string
	// ClientID and ClientSecret are this server's registration at the
	// provider, with redirect URI Issuer+"/callback" of this server.
	// ClientID REQUIRED; ClientSecret OPTIONAL (public client with PKCE).
	ClientID     string
	ClientSecret string
	// Scopes requested upstream. OPTIONAL; nil means openid, profile,
	// email. "openid" is always requested.
	Scopes []string
	// GroupsClaim names the ID token claim with the user's groups, used by
	// Access. OPTIONAL; empty means "groups".
	GroupsClaim string
	// Claims copies ID token claims into access tokens, exactly as
	// TrustedIdP.Claims does for ID-JAGs (e.g. "groups": "groups").
	Claims map[string]string
}

// AccessRule grants members of Group the Scopes of Resource.
type AccessRule struct {
	Group    string
	Resource string
	Scopes   []string
}

// broker is the validated Broker.
type broker struct {
	up          Upstream
	upIdP       *idp // issuer + claim copies, for provenance
	groupsClaim string
	access      []AccessRule
	codes       *sealer // authorization codes
	logins      *sealer // login cookies (loginState)
	forms       *sealer // consent forms (consentState)
	refresh     RefreshStore
	refreshIdle time.Duration
	refreshAbs  time.Duration
	loginTTL    time.Duration
	consents    ConsentStore
	secure      bool // Secure cookies (false only for a loopback http issuer)
	callback    string
	hc          *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
}

func (s *Server) setBroker(b *Broker, hc *http.Client) error {
	if b == nil {
		for _, c := range s.clients {
			if c.grants[GrantAuthorizationCode] {
				return cfgErr("clients ("+c.id+").grant_types", "authorization_code needs broker")
			}
		}
		return nil
	}
	if s.authorizeEndpoint == "" {
		return cfgErr("broker", "needs the authorization endpoint (omit_authorization_endpoint must be false)")
	}
	if _, err := httpx.CheckURL(b.Upstream.Issuer, false); err != nil {
		return cfgErr("broker.upstream.issuer", err.Error())
	}
	if b.Upstream.Issuer == s.issuer {
		return cfgErr("broker.upstream.issuer", "must differ from issuer")
	}
	if b.Upstream.ClientID == "" {
		return cfgErr("broker.upstream.client_id", "is required")
	}
	for from, to := range b.Upstream.Claims {
		if from == "" || to == "" || slices.Contains(reservedClaims, to) {
			return cfgErr("broker.upstream.claims", fmt.Sprintf("cannot copy %q to %q", from, to))
		}
	}
	if len(b.Access) == 0 {
		return cfgErr("broker.access", "at least one rule is required")
	}
	for i, r := range b.Access {
		f := fmt.Sprintf("broker.access[%d]", i)
		res := s.resources[r.Resource]
		if r.Group == "" {
			return cfgErr(f+".group", "is required")
		}
		if res == nil {
			return cfgErr(f+".resource", "not a configured resource")
		}
		for _, sc := range r.Scopes {
			if !res.set[sc] {
				return cfgErr(f+".scopes", fmt.Sprintf("%q is not a scope of the resource", sc))
			}
		}
	}
	br := &broker{
		up:          b.Upstream,
		upIdP:       &idp{issuer: b.Upstream.Issuer, claims: b.Upstream.Claims},
		groupsClaim: b.Upstream.GroupsClaim,
		access:      slices.Clone(b.Access),
		refreshIdle: orDefault(b.RefreshIdleLifetime, DefaultRefreshIdleLifetime),
		refreshAbs:  orDefault(b.RefreshAbsoluteLifetime, DefaultRefreshAbsoluteLifetime),
		loginTTL:    orDefault(b.LoginLifetime, DefaultLoginLifetime),
		callback:    s.issuer + "/callback",
		secure:      true,
	}
	if br.groupsClaim == "" {
		br.groupsClaim = "groups"
	}
	switch {
	case br.refreshAbs < 0 || br.refreshAbs > 90*24*time.Hour:
		return cfgErr("broker.refresh_absolute_lifetime", "must be between 0 and 90 days")
	case br.refreshIdle < 0 || br.refreshIdle > br.refreshAbs:
		return cfgErr("broker.refresh_idle_lifetime", "must be between 0 and the absolute lifetime")
	case br.loginTTL < 0 || br.loginTTL > time.Hour:
		return cfgErr("broker.login_lifetime", "must be between 0 and 1h")
	}
	if u, _ := url.Parse(s.issuer); u != nil && u.Scheme == "http" {
		br.secure = false // loopback development issuer (checked by setIssuer)
	}
	if b.CodeKey == nil && len(b.PreviousCodeKeys) > 0 {
		return cfgErr("broker.previous_code_keys", "need a current code_key")
	}
	if len(b.PreviousCodeKeys) > MaxPreviousCodeKeys {
		return cfgErr("broker.previous_code_keys", fmt.Sprintf("at most %d keys", MaxPreviousCodeKeys))
	}
	if err := br.setKeys(b.CodeKey, b.PreviousCodeKeys...); err != nil {
		return cfgErr("broker.code_key", err.Error())
	}
	br.refresh = b.RefreshStore
	if br.refresh == nil {
		n := b.MaxRefreshFamilies
		if n < 0 {
			return cfgErr("broker.max_refresh_families", "must not be negative")
		}
		if n == 0 {
			n = DefaultMaxRefreshFamilies
		}
		br.refresh = NewMemoryRefreshStore(n)
	}
	if b.MaxPendingBytes < 0 {
		return cfgErr("broker.max_pending_bytes", "must not be negative")
	}
	br.consents = b.ConsentStore
	if br.consents == nil {
		m, err := NewMemoryConsentStore(b.MaxConsents, 0)
		if err != nil {
			return err
		}
		br.consents = m
	} else if b.MaxConsents != 0 {
		return cfgErr("broker.max_consents", "bounds the default memory store; with a consent store, set its own bounds")
	}
	br.hc = httpx.NoRedirects(hc, 10*time.Second) // discovery, token and key set requests to the upstream IdP
	for _, c := range s.clients {
		if c.grants[GrantAuthorizationCode] && len(c.redirects) == 0 {
			return cfgErr("clients ("+c.id+").redirect_uris", "required with authorization_code")
		}
	}
	s.broker = br
	p := issuerPath(s.issuer)
	s.routes[p+"/callback"] = routeCallback
	s.routes[p+"/consent"] = routeConsent
	return nil
}

// setKeys makes the sealers of the key ring [current, previous...]:
// codes under each key itself, login cookies and consent forms under a key
// derived from it; every sealer seals with current and opens with any ring
// key.
// weakKey refuses a code key that is not random bytes: fewer than 16
// distinct byte values (all zero, a repeated byte or pattern) or only
// printable ASCII (a password or hex string base64-encoded). Neither
// happens by chance to 32 random bytes (the second about once in 10^13).
func weakKey(key []byte) error {
	var seen [256]bool
	distinct, printable := 0, true
	for _, c := range key {
		if !seen[c] {
			seen[c] = true
			distinct++
		}
		printable = printable && c >= 0x20 && c < 0x7f
	}
	switch {
	case distinct < 16:
		return fmt.Errorf("is not random (%d distinct byte values): generate one with openssl rand -base64 32", distinct)
	case printable:
		return errors.New("is printable text, not random bytes: generate one with openssl rand -base64 32")
	}
	return nil
}

func (br *broker) setKeys(current []byte, previous ...[]byte) error {
	if current == nil {
		current = randomKey()
	}
	var codes, logins []ringKey
	for i, key := range append([][]byte{current}, previous...) {
		if len(key) != 32 {
			if i > 0 {
				return fmt.Errorf("previous key %d: must be 32 bytes", i-1)
			}
			return errors.New("must be 32 bytes")
		}
		if err := weakKey(key); err != nil {
			if i > 0 {
				return fmt.Errorf("previous key %d: %w", i-1, err)
			}
			return err
		}
		id := keyID(key)
		for _, k := range codes {
			if k.id == id {
				return fmt.Errorf("key %d repeats an earlier key", i)
			}
		}
		lk, err := subKey(key, "mcpauthz login state v1")
		if err != nil {
			return err
		}
		codes, logins = append(codes, ringKey{id, key}), append(logins, ringKey{id, lk})
	}
	var err error
	if br.codes, err = newSealer(codes, codeAAD, maxCodeBytes); err != nil {
		return err
	}
	if br.logins, err = newSealer(logins, loginPurpose, maxLoginCookie); err != nil {
		return err
	}
	br.forms, err = newSealer(logins, consentPurpose, maxConsentField)
	return err
}

func issuerPath(iss string) string {
	u, err := url.Parse(iss)
	if err != nil {
		return ""
	}
	return u.Path
}

// upstream returns the discovered provider and the OAuth 2 config. A failed
// discovery is not cached; the caller answers 503.
func (b *broker) upstream(ctx context.Context) (*oidc.Provider, *oauth2.Config, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.provider == nil {
		ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, b.hc), 10*time.Second)
		defer cancel()
		p, err := oidc.NewProvider(ctx, b.up.Issuer)
		if err != nil {
			return nil, nil, fmt.Errorf("upstream discovery: %w", err)
		}
		b.provider = p
	}
	scopes := b.up.Scopes
	if scopes == nil {
		scopes = []string{"profile", "email"}
	}
	if !slices.Contains(scopes, oidc.ScopeOpenID) {
		scopes = append([]string{oidc.ScopeOpenID}, scopes...)
	}
	return b.provider, &oauth2.Config{
		ClientID:     b.up.ClientID,
		ClientSecret: b.up.ClientSecret,
		Endpoint:     b.provider.Endpoint(),
		RedirectURL:  b.callback,
		Scopes:       scopes,
	}, nil
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func equalSecret(a, b string) bool {
	return len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

var errBrokerRefused = errors.New("access policy refused the user")

// accessGroups returns the groups of the user that match an access rule
// for resource, each once, in rule order (what a refresh re-checks).
func (b *broker) accessGroups(groups []string, resource string) []string {
	var out []string
	for _, r := range b.access {
		if r.Resource == resource && slices.Contains(groups, r.Group) && !slices.Contains(out, r.Group) {
			out = append(out, r.Group)
		}
	}
	return out
}

// allowedScopes returns the scopes of resource the user's groups grant, and
// whether any rule matched.
func (b *broker) allowedScopes(groups []string, resource string) ([]string, bool) {
	var out []string
	matched := false
	for _, r := range b.access {
		if r.Resource != resource || !slices.Contains(groups, r.Group) {
			continue
		}
		matched = true
		for _, sc := range r.Scopes {
			if !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	return out, matched
}
