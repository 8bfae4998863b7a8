package authserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mcpauthz/mcpauthz/internal/httpx"
	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// Defaults of [Registration].
const (
	// DefaultRegistrationMaxBytes bounds the registered clients kept in
	// memory (about 4,000 typical registrations).
	DefaultRegistrationMaxBytes = 4 << 20
	// DefaultRegistrationIdleLifetime: a registered client unused for this
	// long is forgotten.
	DefaultRegistrationIdleLifetime = 30 * 24 * time.Hour
	// DefaultRegistrationMaxPerSubject bounds the registered clients one
	// subject's uses keep protected from eviction (ClientStore.MarkUsed).
	DefaultRegistrationMaxPerSubject = 16
	// MaxRegistrationMaxPerSubject is the largest MaxPerSubject a store
	// accepts: larger values are refused at start-up, since each protected
	// client costs the store its tracking.
	MaxRegistrationMaxPerSubject = 1024
	// MaxRegistrationRequestBytes caps a registration request body.
	MaxRegistrationRequestBytes = 8 << 10
	// maxRegisteredRedirects caps redirect_uris of one registration.
	maxRegisteredRedirects = 8
	// maxRegisteredRedirectLen caps one registered redirect URI.
	maxRegisteredRedirectLen = 512
	// maxClientNameRunes caps client_name.
	maxClientNameRunes = 100
	// registeredIDPrefix starts the client_id of every registered client.
	registeredIDPrefix = "dcr-"
)

// defaultRegistrationPerSource and defaultRegistrationGlobal are the
// registration rate limits used for zero [Registration] limits: 10 at once
// and then one a minute per source address; 60 at once and then one a
// second server-wide.
var (
	defaultRegistrationPerSource = Limit{PerSecond: 1.0 / 60, Burst: 10}
	defaultRegistrationGlobal    = Limit{PerSecond: 1, Burst: 60}
)

// RFC 7591 §3.2.2 error codes.
const (
	codeInvalidRedirectURI    = "invalid_redirect_uri"
	codeInvalidClientMetadata = "invalid_client_metadata"
)

// Registration turns on RFC 7591 dynamic client registration at
// Issuer+"/register" (advertised as registration_endpoint). It needs
// Config.Broker: registered clients use the authorization code flow. Any
// request within the policy below registers a client; nothing else does.
//
// Registered clients are kept in Store: by default in this process's
// memory, bounded by MaxBytes and forgotten after IdleLifetime without
// use. Replicas behind one issuer share one Store (stores/redis's
// ClientStore), so that a client registered at one replica is known at all.
type Registration struct {
	// LoopbackRedirects allows http redirect URIs on loopback hosts
	// (127.0.0.1, [::1], localhost), which for public clients match any
	// port (RFC 8252 §7.3). OPTIONAL; default false.
	LoopbackRedirects bool
	// RedirectHosts are the hosts allowed in https redirect URIs: an exact
	// host name ("app.example.com") or "*.example.com" for its subdomains.
	// OPTIONAL. At least one of LoopbackRedirects and RedirectHosts is
	// REQUIRED. Private-use URI schemes are never accepted by registration
	// (pre-register such clients).
	RedirectHosts []string
	// GrantTypes are the grants a registered client may ask for: a subset
	// of GrantAuthorizationCode and GrantRefreshToken, with
	// GrantAuthorizationCode. OPTIONAL; nil means both. A request without
	// grant_types gets all of them.
	GrantTypes []string
	// Scopes are the scopes a registered client may obtain (the broker's
	// access rules still decide per user). OPTIONAL; nil means every scope
	// of every resource. Requested scopes outside them are dropped from
	// the registration (RFC 7591 §2 lets the server replace values); a
	// request naming none of them is refused.
	Scopes []string
	// Resources restricts the resources registered clients may obtain
	// tokens for. OPTIONAL; nil means all.
	Resources []string
	// AllowConfidential lets clients register with client_secret_basic or
	// client_secret_post; they receive a generated client_secret, shown
	// once. OPTIONAL; default false: only public clients
	// (token_endpoint_auth_method "none"; a request without the member
	// is registered as public).
	AllowConfidential bool
	// PerSource limits registrations per source address
	// (Config.ClientAddress), charged before the request is read.
	// OPTIONAL; zero means a burst of 10, then one a minute.
	PerSource Limit
	// Global limits registrations server-wide. OPTIONAL; zero means a
	// burst of 60, then one a second. Both limits are kept by
	// Config.RateLimiter when set (shared by replicas), else in memory.
	Global Limit
	// MaxBytes bounds the memory held by registered clients in the
	// default memory store (zero with a Store). OPTIONAL;
	// zero means DefaultRegistrationMaxBytes (4 MiB). When full, expired
	// clients are dropped, then the oldest client that never completed a
	// login (no code redeemed: a flood of registrations cannot complete
	// one without a user of the enterprise IdP); when every client has,
	// registration answers 503 until some expire.
	MaxBytes int64
	// IdleLifetime forgets a registered client that redeemed no code or
	// refresh token for this long (lookups by /authorize do not count:
	// they are unauthenticated), in the default memory
	// store (zero with a Store). OPTIONAL; zero means
	// DefaultRegistrationIdleLifetime (30 days); at most 1 year.
	IdleLifetime time.Duration
	// MaxPerSubject bounds the registered clients one user's (or
	// client's) redeemed codes and refresh tokens keep protected from
	// eviction, in the default memory store (zero with a Store, which
	// has its own): past it the least recently used one is evictable
	// again, so that an insider who completes a login with many clients
	// and refreshes each once per IdleLifetime cannot keep the store full
	// and registration at 503. OPTIONAL; zero means
	// DefaultRegistrationMaxPerSubject (16); at most
	// MaxRegistrationMaxPerSubject (1,024), else New fails.
	MaxPerSubject int
	// Store keeps the registered clients. OPTIONAL; nil means a
	// [MemoryClientStore] bounded by MaxBytes and IdleLifetime (single
	// instance). With a Store, MaxBytes and IdleLifetime must be zero: the
	// store has its own bounds.
	Store ClientStore
}

// checkMaxPerSubject refuses a MaxPerSubject outside
// [0, MaxRegistrationMaxPerSubject].
func checkMaxPerSubject(n int) error {
	if n < 0 || n > MaxRegistrationMaxPerSubject {
		return cfgErr("registration.max_per_subject", fmt.Sprintf("must be between 0 (default %d) and %d", DefaultRegistrationMaxPerSubject, MaxRegistrationMaxPerSubject))
	}
	return nil
}

// registrar is the validated Registration with its store and limits.
type registrar struct {
	loopback  bool
	hosts     []string // exact, or ".example.com" for "*.example.com"
	grants    []string
	scopes    map[string]bool // nil: all
	resources map[string]bool // nil: all
	confid    bool
	perSource Limit
	global    Limit
	limiter   Limiter
	store     ClientStore
	// policy sets for lookups (the policy is fixed after New)
	grantSet, scopeSet map[string]bool
}

func (s *Server) setRegistration(r *Registration, shared Limiter) error {
	if r == nil {
		return nil
	}
	if s.broker == nil {
		return cfgErr("registration", "needs broker (registered clients use the authorization code flow)")
	}
	rg := &registrar{loopback: r.LoopbackRedirects, confid: r.AllowConfidential}
	for i, h := range r.RedirectHosts {
		h = strings.ToLower(h)
		base := strings.TrimPrefix(h, "*.")
		if base == "" || strings.ContainsAny(base, "*/:@?#[] ") || !strings.Contains(base, ".") && base != "localhost" {
			return cfgErr(fmt.Sprintf("registration.redirect_hosts[%d]", i), "must be a host name or *.domain")
		}
		if base != h {
			h = "." + base
		}
		rg.hosts = append(rg.hosts, h)
	}
	if !rg.loopback && len(rg.hosts) == 0 {
		return cfgErr("registration", "allow loopback_redirects or at least one redirect_hosts entry")
	}
	rg.grants = slices.Clone(r.GrantTypes)
	if rg.grants == nil {
		rg.grants = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	for i, g := range rg.grants {
		if g != GrantAuthorizationCode && g != GrantRefreshToken {
			return cfgErr(fmt.Sprintf("registration.grant_types[%d]", i), "only authorization_code and refresh_token")
		}
	}
	if !slices.Contains(rg.grants, GrantAuthorizationCode) {
		return cfgErr("registration.grant_types", "must contain authorization_code")
	}
	if r.Scopes != nil {
		rg.scopes = map[string]bool{}
		for i, sc := range r.Scopes {
			known := false
			for _, res := range s.resources {
				known = known || res.set[sc]
			}
			if !known {
				return cfgErr(fmt.Sprintf("registration.scopes[%d]", i), "not a scope of any resource")
			}
			rg.scopes[sc] = true
		}
	}
	if r.Resources != nil {
		rg.resources = map[string]bool{}
		for i, id := range r.Resources {
			if s.resources[id] == nil {
				return cfgErr(fmt.Sprintf("registration.resources[%d]", i), "not a configured resource")
			}
			rg.resources[id] = true
		}
	}
	rg.perSource, rg.global = r.PerSource, r.Global
	if rg.perSource == (Limit{}) {
		rg.perSource = defaultRegistrationPerSource
	}
	if rg.global == (Limit{}) {
		rg.global = defaultRegistrationGlobal
	}
	for _, l := range []Limit{rg.perSource, rg.global} {
		if l.PerSecond <= 0 || l.Burst <= 0 {
			return cfgErr("registration", "rate limits must be positive")
		}
	}
	if r.MaxBytes < 0 || r.IdleLifetime < 0 || r.IdleLifetime > 365*24*time.Hour {
		return cfgErr("registration", "max_bytes must not be negative; idle_lifetime between 0 and 1 year")
	}
	if err := checkMaxPerSubject(r.MaxPerSubject); err != nil {
		return err
	}
	rg.store = r.Store
	if rg.store == nil {
		m, err := NewMemoryClientStore(MemoryClientStoreConfig{MaxBytes: r.MaxBytes, IdleLifetime: r.IdleLifetime, MaxPerSubject: r.MaxPerSubject, Now: s.now})
		if err != nil {
			return err
		}
		rg.store = m
	} else if r.MaxBytes != 0 || r.IdleLifetime != 0 || r.MaxPerSubject != 0 {
		return cfgErr("registration", "max_bytes, idle_lifetime and max_per_subject bound the default memory store; with a store, set its own bounds")
	}
	rg.limiter = shared
	if rg.limiter == nil {
		l, err := NewMemoryLimiter(MemoryLimiterConfig{Now: s.now})
		if err != nil {
			return err
		}
		rg.limiter = l
	}
	rg.grantSet, rg.scopeSet = toSet(rg.grants), toSet(rg.allowedScopes(s))
	s.registrar = rg
	s.registrationEndpoint = s.issuer + "/register"
	s.routes[issuerPath(s.issuer)+"/register"] = routeRegister
	return nil
}

// registrationRequest is a parsed RFC 7591 §2 request, before policy.
type registrationRequest struct {
	RedirectURIs  []string
	AuthMethod    string // "" = not sent
	GrantTypes    []string
	ResponseTypes []string
	ClientName    string
	Scope         string
	hasScope      bool
}

// regErr is a registration failure (RFC 7591 §3.2.2).
func regErr(code, desc string) *oauthError {
	return newErr(http.StatusBadRequest, code, desc, nil)
}

// registrationMembers are the request members this server reads.
var registrationMembers = []string{"redirect_uris", "token_endpoint_auth_method", "grant_types", "response_types", "client_name", "scope"}

// parseRegistrationRequest decodes a registration request strictly with
// internal/jsonscan: one JSON object, no duplicate or case-variant keys,
// depth ≤ 4, no case variant of a member name this server reads. Members
// this server does not use are ignored (RFC 7591 §2);
// the members it uses must have their RFC 7591 type (null counts as
// absent).
func parseRegistrationRequest(body []byte) (*registrationRequest, *oauthError) {
	if len(body) > MaxRegistrationRequestBytes {
		return nil, newErr(http.StatusRequestEntityTooLarge, codeInvalidClientMetadata, "request body too large", nil)
	}
	m, err := jsonscan.DecodeObject(body, jsonscan.Options{MaxDepth: 4})
	if err != nil {
		return nil, regErr(codeInvalidClientMetadata, "the request is not a strict JSON object")
	}
	return registrationFromMap(m)
}

// registrationFromMap reads the RFC 7591 members of a decoded request (or
// client ID metadata document).
func registrationFromMap(m map[string]any) (*registrationRequest, *oauthError) {
	for k := range m {
		for _, name := range registrationMembers {
			if k != name && strings.EqualFold(k, name) {
				// encoding/json would bind it: refuse, so that every
				// decoder reads the same registration
				return nil, regErr(codeInvalidClientMetadata, "member name in the wrong case: "+quoteForText(k))
			}
		}
	}
	req := &registrationRequest{}
	var oe *oauthError
	str := func(name string, max int) string {
		v, ok := m[name]
		if !ok || v == nil || oe != nil {
			return ""
		}
		sv, isStr := v.(string)
		if !isStr || len(sv) > max {
			oe = regErr(codeInvalidClientMetadata, name+" must be a string of at most "+fmt.Sprint(max)+" bytes")
			return ""
		}
		return sv
	}
	list := func(name string, maxItems, maxLen int, code string) []string {
		v, ok := m[name]
		if !ok || v == nil || oe != nil {
			return nil
		}
		arr, isArr := v.([]any)
		if !isArr || len(arr) > maxItems {
			oe = regErr(code, fmt.Sprintf("%s must be an array of at most %d strings", name, maxItems))
			return nil
		}
		out := make([]string, 0, len(arr))
		for _, it := range arr {
			sv, isStr := it.(string)
			if !isStr || sv == "" || len(sv) > maxLen {
				oe = regErr(code, fmt.Sprintf("%s must hold non-empty strings of at most %d bytes", name, maxLen))
				return nil
			}
			if !slices.Contains(out, sv) {
				out = append(out, sv)
			}
		}
		return out
	}
	req.RedirectURIs = list("redirect_uris", maxRegisteredRedirects, maxRegisteredRedirectLen, codeInvalidRedirectURI)
	req.AuthMethod = str("token_endpoint_auth_method", 64)
	req.GrantTypes = list("grant_types", 8, 128, codeInvalidClientMetadata)
	req.ResponseTypes = list("response_types", 8, 64, codeInvalidClientMetadata)
	req.ClientName = str("client_name", 4*maxClientNameRunes)
	if v, ok := m["scope"]; ok && v != nil {
		req.hasScope = true
	}
	req.Scope = str("scope", 1024)
	if oe != nil {
		return nil, oe
	}
	if len(req.RedirectURIs) == 0 {
		return nil, regErr(codeInvalidRedirectURI, "redirect_uris is required")
	}
	if utf8.RuneCountInString(req.ClientName) > maxClientNameRunes || !displaySafe(req.ClientName) {
		return nil, regErr(codeInvalidClientMetadata, "client_name is too long or has control, format or invisible characters")
	}
	if _, err := parseScope(req.Scope); err != nil {
		return nil, regErr(codeInvalidClientMetadata, "malformed scope")
	}
	return req, nil
}

// displaySafe reports whether a name shown on the consent page has no
// control (Cc), format (Cf: bidi overrides and isolates, zero-width
// characters, BOM) or line/paragraph separator characters and is valid
// UTF-8: bidi controls could visually reorder the client id shown after
// the name, invisible ones make look-alikes of configured names.
func displaySafe(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			return false
		}
	}
	return true
}

// redirectFits reports whether a registered redirect URI fits the
// policy: http on a loopback host (LoopbackRedirects), or https on an
// allowed host. checkRedirectURI's rules apply first.
func (rg *registrar) redirectFits(raw string) bool {
	if checkRedirectURI(raw, true) != nil {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	switch u.Scheme {
	case "http":
		return rg.loopback && httpx.IsLoopbackHost(host) // checkRedirectURI: loopback only
	case "https":
		if host == "" || strings.HasPrefix(host, ".") || strings.HasSuffix(host, ".") || strings.Contains(host, "..") || !isLDH(host) {
			return false
		}
		for _, h := range rg.hosts {
			if wild := strings.HasPrefix(h, "."); !wild && host == h || wild && strings.HasSuffix(host, h) {
				return true
			}
		}
	}
	return false
}

// isLDH reports whether host has only ASCII letters, digits, '-' and
// '.': other characters (Unicode that browsers map through IDNA, such as
// a fullwidth solidus or ideographic full stop, or forbidden host code
// points) could make a browser read another host than the suffix check
// did. Internationalized names register as xn-- labels.
func isLDH(host string) bool {
	for i := 0; i < len(host); i++ {
		c := host[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// apply checks req against the policy and builds the client to store.
// secretHash is the hash of the generated secret of a confidential client.
func (rg *registrar) apply(s *Server, req *registrationRequest, id, secretHash string) (*RegisteredClient, *oauthError) {
	for _, ru := range req.RedirectURIs {
		if !rg.redirectFits(ru) {
			return nil, regErr(codeInvalidRedirectURI, "a redirect URI is not allowed by this server's registration policy")
		}
	}
	method := req.AuthMethod
	switch method {
	case "":
		method = AuthNone // RFC 7591 §2 lets the server substitute its default
		if rg.confid {
			method = AuthClientSecretBasic
		}
	case AuthNone:
	case AuthClientSecretBasic, AuthClientSecretPost:
		if !rg.confid {
			return nil, regErr(codeInvalidClientMetadata, "only public clients (token_endpoint_auth_method none) may register")
		}
	default:
		return nil, regErr(codeInvalidClientMetadata, "unsupported token_endpoint_auth_method")
	}
	grants := req.GrantTypes
	if grants == nil {
		grants = rg.grants
	}
	for _, g := range grants {
		if !slices.Contains(rg.grants, g) {
			return nil, regErr(codeInvalidClientMetadata, "grant type not allowed: "+quoteForText(g))
		}
	}
	if !slices.Contains(grants, GrantAuthorizationCode) {
		return nil, regErr(codeInvalidClientMetadata, "grant_types must contain authorization_code")
	}
	for _, rt := range req.ResponseTypes {
		if rt != "code" {
			return nil, regErr(codeInvalidClientMetadata, "response_types must be [\"code\"]")
		}
	}
	allowed := rg.allowedScopes(s)
	scopes := allowed
	if req.hasScope {
		// RFC 7591 §2: the server may replace requested values. Scopes
		// outside the policy (offline_access, openid, ...) are dropped;
		// the response names the scopes registered.
		asked, _ := parseScope(req.Scope)
		scopes = intersect(asked, toSet(allowed))
		if len(asked) > 0 && len(scopes) == 0 {
			return nil, regErr(codeInvalidClientMetadata, "none of the requested scopes is allowed")
		}
	}
	if method != AuthNone && secretHash == "" {
		return nil, newErr(http.StatusInternalServerError, codeServerError, "cannot register", errors.New("confidential client without a secret"))
	}
	rc := &RegisteredClient{
		ID: id, AuthMethod: method, GrantTypes: slices.Clone(grants), Scopes: scopes,
		RedirectURIs: slices.Clone(req.RedirectURIs), Name: req.ClientName, IssuedAt: s.now().UTC().Truncate(time.Second),
	}
	if method != AuthNone {
		rc.SecretHash = secretHash
	}
	return rc, nil
}

// client builds the server's view of a stored registration under the
// current policy: grants, scopes and redirect URIs it no longer allows
// are dropped, and resources are the policy's. It returns nil for a
// registration that cannot be used (no authorization code grant or
// redirect URI left, or a damaged secret hash).
func (rg *registrar) client(rc *RegisteredClient) *client {
	c := &client{
		id: rc.ID, methods: map[string]bool{rc.AuthMethod: true}, public: rc.AuthMethod == AuthNone,
		grants: toSet(intersect(rc.GrantTypes, rg.grantSet)), scopes: toSet(intersect(rc.Scopes, rg.scopeSet)),
		resources: rg.resources, name: rc.Name, origin: originRegistered,
	}
	switch rc.AuthMethod {
	case AuthNone, AuthClientSecretBasic, AuthClientSecretPost:
	default:
		return nil
	}
	for _, ru := range rc.RedirectURIs {
		if rg.redirectFits(ru) {
			c.redirects = append(c.redirects, ru)
		}
	}
	if !c.grants[GrantAuthorizationCode] || len(c.redirects) == 0 {
		return nil
	}
	if !c.public {
		h, err := parseSecretHash(rc.SecretHash)
		if err != nil {
			return nil
		}
		c.secret = h
	}
	return c
}

// lookup returns the registered client id under the current policy: nil
// when unknown (or unusable), an error when the store is unavailable.
func (rg *registrar) lookup(ctx context.Context, s *Server, id string) (*client, error) {
	rc, err := rg.store.Client(ctx, id)
	if errors.Is(err, ErrClientUnknown) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errClientStore, err)
	}
	c := rg.client(&rc)
	if c == nil || c.id != id {
		return nil, nil
	}
	return c, nil
}

// errClientStore wraps a ClientStore failure: the client can be neither
// accepted nor refused as unknown, so the request gets a 503.
var errClientStore = errors.New("registered client store unavailable")

// allowedScopes is the policy's scope list, sorted.
func (rg *registrar) allowedScopes(s *Server) []string {
	var out []string
	for id, res := range s.resources {
		if rg.resources != nil && !rg.resources[id] {
			continue
		}
		for _, sc := range res.scopes {
			if (rg.scopes == nil || rg.scopes[sc]) && !slices.Contains(out, sc) {
				out = append(out, sc)
			}
		}
	}
	slices.Sort(out)
	return out
}

// registrationResponse is the RFC 7591 §3.2.1 body.
type registrationResponse struct {
	ClientID                string   `json:"client_id"`
	ClientIDIssuedAt        int64    `json:"client_id_issued_at"`
	ClientSecret            string   `json:"client_secret,omitempty"`
	ClientSecretExpiresAt   *int64   `json:"client_secret_expires_at,omitempty"`
	RedirectURIs            []string `json:"redirect_uris"`
	TokenEndpointAuthMethod string   `json:"token_endpoint_auth_method"`
	GrantTypes              []string `json:"grant_types"`
	ResponseTypes           []string `json:"response_types"`
	ClientName              string   `json:"client_name,omitempty"`
	Scope                   string   `json:"scope,omitempty"`
}

// serveRegister is the RFC 7591 registration endpoint.
func (s *Server) serveRegister(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, newErr(http.StatusMethodNotAllowed, codeInvalidRequest, "the registration endpoint accepts POST only", nil))
		return
	}
	src := s.sourceOf(r)
	if oe := s.registrar.limit(ctx, src); oe != nil {
		s.logRegister(ctx, nil, oe.Error())
		writeError(w, oe)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		writeError(w, regErr(codeInvalidClientMetadata, "Content-Type must be application/json"))
		return
	}
	if r.ContentLength > MaxRegistrationRequestBytes {
		writeError(w, newErr(http.StatusRequestEntityTooLarge, codeInvalidClientMetadata, "request body too large", nil))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxRegistrationRequestBytes+1))
	if err != nil {
		writeError(w, regErr(codeInvalidClientMetadata, "cannot read the request body"))
		return
	}
	req, oe := parseRegistrationRequest(body)
	if oe != nil {
		s.logRegister(ctx, nil, oe.Error())
		writeError(w, oe)
		return
	}
	id := registeredIDPrefix + randomToken()
	var secret, hash string
	if req.AuthMethod == AuthClientSecretBasic || req.AuthMethod == AuthClientSecretPost || req.AuthMethod == "" && s.registrar.confid {
		secret = randomToken()
		if hash, err = HashSecret(secret); err != nil {
			writeError(w, newErr(http.StatusInternalServerError, codeServerError, "cannot register", err))
			return
		}
	}
	rc, oe := s.registrar.apply(s, req, id, hash)
	if oe != nil {
		s.logRegister(ctx, nil, oe.Error())
		writeError(w, oe)
		return
	}
	c := s.registrar.client(rc)
	if c == nil {
		writeError(w, newErr(http.StatusInternalServerError, codeServerError, "cannot register", errors.New("registration unusable under the policy")))
		return
	}
	if err := s.registrar.store.Register(ctx, *rc); err != nil {
		s.log.WarnContext(ctx, "authserver.register refused", "error", err)
		oe := errUnavailable(http.StatusServiceUnavailable, "registration is full; try again later", err)
		oe.retryAfter = 60
		if !errors.Is(err, ErrRegistrationFull) {
			oe = errUnavailable(http.StatusServiceUnavailable, "registration is unavailable; try again later", err)
			oe.retryAfter = 5
		}
		writeError(w, oe)
		return
	}
	s.logRegister(ctx, c, "registered")
	res := registrationResponse{
		ClientID: c.id, ClientIDIssuedAt: rc.IssuedAt.Unix(), ClientSecret: secret,
		RedirectURIs: c.redirects, ResponseTypes: []string{"code"}, ClientName: c.name,
	}
	for m := range c.methods {
		res.TokenEndpointAuthMethod = m
	}
	for _, g := range []string{GrantAuthorizationCode, GrantRefreshToken} {
		if c.grants[g] {
			res.GrantTypes = append(res.GrantTypes, g)
		}
	}
	scopes := make([]string, 0, len(c.scopes))
	for sc := range c.scopes {
		scopes = append(scopes, sc)
	}
	slices.Sort(scopes)
	res.Scope = strings.Join(scopes, " ")
	if secret != "" {
		zero := int64(0) // no fixed expiry; the client expires when idle
		res.ClientSecretExpiresAt = &zero
	}
	h := w.Header()
	setNoStore(h)
	h.Set("Content-Type", "application/json")
	b, _ := json.Marshal(res)
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(b)
}

func (s *Server) logRegister(ctx context.Context, c *client, outcome string) {
	attrs := []any{"outcome", truncateForLog(outcome)}
	if c != nil {
		attrs = append(attrs, "client_id", c.id, "client_name", truncateForLog(c.name))
	}
	s.log.InfoContext(ctx, "authserver.register", attrs...)
}

// limit charges the source's bucket, then the global one.
func (rg *registrar) limit(ctx context.Context, source string) *oauthError {
	if len(source) > 256 {
		source = source[:256]
	}
	for _, c := range []struct {
		key string
		l   Limit
	}{{"register|" + source, rg.perSource}, {"register-global", rg.global}} {
		d, err := rg.limiter.Allow(ctx, c.key, c.l)
		if err != nil {
			return limiterDown(err)
		}
		if !d.Allowed {
			return tooMany(d.RetryAfter, "too many registrations")
		}
	}
	return nil
}
