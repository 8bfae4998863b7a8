package authserver

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/httpx"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// Server is the embedded authorization server. It is an http.Handler; see
// [Server.ServeHTTP] for its routes. It is safe for concurrent use.
type Server struct {
	issuer        string
	tokenEndpoint string
	// authorizeEndpoint is the stub authorization endpoint URL, or "".
	authorizeEndpoint string
	jwksURI           string
	routes            routeTable
	metadata          []byte

	resources       map[string]*resource
	defaultResource string
	clients         map[string]*client
	idps            map[string]*idp

	keys     atomic.Pointer[keyState]
	rotateMu sync.Mutex
	keyCheck *keyChecker // nil: no KeyCheck

	atLifetime   time.Duration
	maxAssertion time.Duration
	leeway       time.Duration
	// replayHold is Leeway + ReplayClockSkew: how long after its exp a
	// one-time identifier stays recorded.
	replayHold    time.Duration
	strictScopes  bool
	allowTEAud    bool
	assertionAlgs []string
	maxBody       int64
	// bounded is route behind core.BoundBodyReads (boundBodies): a body
	// read on a server without ReadTimeout is bounded by
	// core.BodyReadTimeout (shortened by tests).
	bounded http.Handler

	replay replay.Store
	steps  GrantSteps // ReplayStore and RateLimiter as one GrantSteps, or nil
	// signWhileStoring: Config.SignWhileStoring with a GrantSteps store
	signWhileStoring bool
	limits           *limits
	clientAddr       func(*http.Request) string
	srcBits4         int // RateLimit.SourcePrefixIPv4, defaulted
	srcBits6         int // RateLimit.SourcePrefixIPv6, defaulted
	dummyKeys        jose.KeySet
	tel              telemetry
	log              *slog.Logger
	proxyWarned      atomic.Bool // peerHost's warning was logged
	now              func() time.Time

	broker *broker // nil: no authorization code flow

	registrar            *registrar // nil: no dynamic registration
	cimd                 *cimd      // nil: no client ID metadata documents
	registrationEndpoint string

	dummySecret     *hashedSecret
	secretChecks    atomic.Int64 // number of secret comparisons, for tests
	assertionChecks atomic.Int64 // number of client assertion verifications, for tests
}

type resource struct {
	id     string
	scopes []string
	set    map[string]bool
}

type client struct {
	id        string
	secret    *hashedSecret
	keys      jose.KeySet
	methods   map[string]bool
	grants    map[string]bool
	scopes    map[string]bool
	resources map[string]bool // nil: all
	public    bool            // AuthNone: no credentials
	redirects []string
	name      string
	origin    clientOrigin
}

// clientOrigin tells where a client's registration comes from.
type clientOrigin uint8

const (
	originConfig     clientOrigin = iota // Config.Clients
	originRegistered                     // RFC 7591 dynamic registration
	originDocument                       // client ID metadata document
)

type idp struct {
	issuer string
	keys   jose.KeySet
	algs   []string
	claims map[string]string
}

// New validates cfg and returns a ready Server. Every configuration error
// wraps ErrInvalidConfig and names the offending field.
func New(cfg Config) (*Server, error) {
	s := &Server{
		atLifetime:   orDefault(cfg.AccessTokenLifetime, DefaultAccessTokenLifetime),
		maxAssertion: orDefault(cfg.MaxAssertionLifetime, DefaultMaxAssertionLifetime),
		leeway:       orDefault(cfg.Leeway, DefaultLeeway),
		strictScopes: cfg.StrictScopes,
		allowTEAud:   cfg.AllowTokenEndpointAudience,
		maxBody:      cfg.MaxBodyBytes,
		log:          cfg.Logger,
		now:          cfg.Now,
		dummySecret:  newDummySecret(),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.boundBodies(core.BodyReadTimeout)
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	switch {
	case s.atLifetime < 0 || s.atLifetime > 24*time.Hour:
		return nil, cfgErr("access_token_lifetime", "must be between 0 and 24h")
	case s.maxAssertion < 0 || s.maxAssertion > time.Hour:
		return nil, cfgErr("max_assertion_lifetime", "must be between 0 and 1h")
	case s.leeway < 0 || s.leeway > 5*time.Minute:
		return nil, cfgErr("leeway", "must be between 0 and 5m")
	case cfg.ReplayClockSkew < 0 || cfg.ReplayClockSkew > 5*time.Minute:
		return nil, cfgErr("replay_clock_skew", "must be between 0 and 5m")
	}
	s.replayHold = s.leeway + orDefault(cfg.ReplayClockSkew, DefaultReplayClockSkew)
	if err := s.setIssuer(cfg.Issuer, !cfg.OmitAuthorizationEndpoint); err != nil {
		return nil, err
	}
	s.assertionAlgs = slices.Clone(cfg.ClientAssertionAlgorithms)
	if s.assertionAlgs == nil {
		s.assertionAlgs = []string{jose.ES256, jose.RS256, jose.PS256, jose.EdDSA}
	}
	if err := jose.ValidateAlgorithms(s.assertionAlgs); err != nil {
		return nil, cfgErr("client_assertion_algorithms", err.Error())
	}
	if err := s.setResources(cfg.Resources, cfg.DefaultResource); err != nil {
		return nil, err
	}
	hc := cfg.HTTPClient
	if err := s.setClients(cfg.Clients, hc); err != nil {
		return nil, err
	}
	if err := s.setIdPs(cfg.TrustedIdPs, hc); err != nil {
		return nil, err
	}
	if err := s.setBroker(cfg.Broker, hc); err != nil {
		return nil, err
	}
	if err := s.setRegistration(cfg.Registration, cfg.RateLimiter); err != nil {
		return nil, err
	}
	if err := s.setMetadataDocuments(cfg.ClientMetadataDocuments, cfg.RateLimiter); err != nil {
		return nil, err
	}
	if err := s.setKeys(cfg.SigningKeys, cfg.DevGenerateKey); err != nil {
		return nil, err
	}
	s.replay = cfg.ReplayStore
	if s.replay == nil {
		m, err := replay.NewMemory(replay.MemoryConfig{MaxEntries: cfg.ReplayCacheMaxEntries, Now: s.now})
		if err != nil {
			return nil, cfgErr("replay_cache.max_entries", err.Error())
		}
		s.replay = m
	}
	if q, ok := cfg.ReplayStore.(replay.Quarantiner); ok {
		need := cfg.ReplayMarkLifetime()
		if q.Quarantine() < need {
			return nil, cfgErr("replay_store", fmt.Sprintf("its quarantine %v is shorter than the longest replay mark (%v, Config.ReplayMarkLifetime): a mark lost in a failover could be redeemed again after it", q.Quarantine(), need))
		}
		// A refresh store that detects the same events (stores/redis) may
		// be the first to see one and start the quarantine both stores
		// then keep: its own must be as long.
		if rq, ok := brokerRefreshStore(cfg).(replay.Quarantiner); ok && rq.Quarantine() < need {
			return nil, cfgErr("broker.refresh_store", fmt.Sprintf("its quarantine %v is shorter than the longest replay mark (%v, Config.ReplayMarkLifetime): it may start the quarantine the replay store keeps after a failover, and a mark lost then could be redeemed again after it; give it the replay store's quarantine", rq.Quarantine(), need))
		}
	}
	s.warnPerProcess(cfg)
	lim, err := newLimits(cfg.RateLimit, cfg.RateLimiter, s.now)
	if err != nil {
		return nil, err
	}
	s.limits = lim
	if gs, ok := cfg.RateLimiter.(GrantSteps); ok && sameValue(cfg.ReplayStore, cfg.RateLimiter) {
		s.steps = gs
		s.signWhileStoring = cfg.SignWhileStoring
		if s.limits != nil {
			if s.limits.recent, err = NewMemoryLimiter(MemoryLimiterConfig{MaxKeys: cfg.RateLimit.MaxKeys, Now: s.now}); err != nil {
				return nil, err
			}
		}
	}
	s.clientAddr = cfg.ClientAddress
	if s.clientAddr == nil {
		s.clientAddr = s.peerHost
	}
	s.srcBits4, s.srcBits6 = cmp.Or(cfg.RateLimit.SourcePrefixIPv4, DefaultSourcePrefixIPv4), cmp.Or(cfg.RateLimit.SourcePrefixIPv6, DefaultSourcePrefixIPv6)
	if s.srcBits4 < 8 || s.srcBits4 > 32 || s.srcBits6 < 16 || s.srcBits6 > 128 {
		return nil, cfgErr("rate_limit.source_prefix_ipv4/ipv6", "must be 8..32 and 16..128 (zero: 32 and 64)")
	}
	dk, err := newDummyKeySet()
	if err != nil {
		return nil, err
	}
	s.dummyKeys = dk
	if s.tel, err = newTelemetry(cfg.TracerProvider, cfg.MeterProvider); err != nil {
		return nil, cfgErr("telemetry", err.Error())
	}
	if cfg.KeyCheck != nil {
		if s.keyCheck, err = newKeyChecker(*cfg.KeyCheck, s.issuer, s.tel.keyChecks, s.log); err != nil {
			return nil, err
		}
	}
	md, err := s.buildMetadata()
	if err != nil {
		return nil, err
	}
	s.metadata = md
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func cfgErr(field, msg string) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, msg)
}

// Issuer returns the issuer identifier, exactly as configured.
func (s *Server) Issuer() string { return s.issuer }

// TokenEndpoint returns the absolute token endpoint URL (Issuer + "/token").
func (s *Server) TokenEndpoint() string { return s.tokenEndpoint }

// JWKSURI returns the absolute JWK Set URL (Issuer + "/jwks.json").
func (s *Server) JWKSURI() string { return s.jwksURI }

// Routes returns the URL paths the server answers, for mounting it on a
// shared mux: for _, p := range as.Routes() { mux.Handle(p, as) }. The
// well-known paths are at the origin root even when the issuer has a path.
func (s *Server) Routes() []string {
	return s.routes.paths()
}

// ServeHTTP answers:
//
//   - GET/HEAD /.well-known/oauth-authorization-server{issuer path} and the
//     OpenID discovery paths /.well-known/openid-configuration{issuer path}
//     and {issuer path}/.well-known/openid-configuration: the RFC 8414
//     metadata document;
//   - GET/HEAD {issuer path}/jwks.json: the public JWK Set;
//   - POST {issuer path}/token: the token endpoint;
//   - GET/POST {issuer path}/authorize: the authorization endpoint; with
//     Config.Broker the authorization code flow, else a stub that answers
//     400 unsupported_response_type (absent with
//     Config.OmitAuthorizationEndpoint);
//   - GET {issuer path}/callback and POST {issuer path}/consent (with
//     Config.Broker): the upstream login's return and the consent form;
//   - POST {issuer path}/register (with Config.Registration): RFC 7591
//     dynamic client registration.
//
// Paths are matched exactly on r.URL.Path; anything else is 404, and a wrong
// method is 405 with an Allow header. Responses never depend on the Host
// header. On an http.Server without ReadTimeout every request body is
// bounded by core.BodyReadTimeout as [core.BoundBodyReads] bounds it (its
// one Warn, when the read deadline cannot be set, goes to Config.Logger).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.bounded.ServeHTTP(w, r) }

// boundBodies puts route behind core.BoundBodyReads with timeout, logging
// to the Server's logger.
func (s *Server) boundBodies(timeout time.Duration) {
	s.bounded = core.BoundBodyReads(http.HandlerFunc(s.route), core.BodyReadConfig{Timeout: timeout, Logger: s.log})
}

// route is ServeHTTP once the body is bounded.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	switch s.routes.match(r.URL.Path) {
	case routeMetadata:
		if !httpx.AllowGet(w, r) {
			return
		}
		writeStatic(w, r, s.metadata)
	case routeJWKS:
		if !httpx.AllowGet(w, r) {
			return
		}
		writeStatic(w, r, s.keys.Load().jwks)
	case routeToken:
		s.serveToken(w, r)
	case routeAuthorize:
		s.serveAuthorize(w, r)
	case routeCallback:
		s.serveCallback(w, r)
	case routeConsent:
		s.serveConsent(w, r)
	case routeRegister:
		s.serveRegister(w, r)
	default:
		http.NotFound(w, r)
	}
}

// lookupClient returns the client registered as id: configured,
// dynamically registered (which counts as a use of it), or described by the
// client ID metadata document at id (cached or fetched). It returns nil and
// an error naming the reason when a document is refused or the registered
// client store is unavailable (errClientStore), nil and nil for an unknown
// client. source is the request's address (Config.ClientAddress), charged
// for a document fetch; "" when there is none.
func (s *Server) lookupClient(ctx context.Context, id, source string) (*client, error) {
	if c, err := s.credentialedClient(ctx, id); c != nil || err != nil || !strings.HasPrefix(id, "http") {
		return c, err
	}
	if s.cimd != nil && s.cimd.isDocumentClientID(id) {
		return s.cimd.client(ctx, s, id, source)
	}
	return nil, nil
}

// credentialedClient is lookupClient without metadata documents (whose
// clients are public): it never fetches. A registered client is looked up
// in the ClientStore; its failure is an error wrapping errClientStore.
func (s *Server) credentialedClient(ctx context.Context, id string) (*client, error) {
	if c := s.clients[id]; c != nil {
		return c, nil
	}
	if s.registrar != nil && strings.HasPrefix(id, registeredIDPrefix) {
		return s.registrar.lookup(ctx, s, id)
	}
	return nil, nil
}

func writeStatic(w http.ResponseWriter, r *http.Request, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	_, _ = w.Write(body)
}

// remoteHost is the default Config.ClientAddress: the host of r.RemoteAddr.
// peerHost is the default Config.ClientAddress: the peer's host. Behind a
// reverse proxy that is the proxy's address for every client, which turns
// each per-source limit (failed client authentication, /authorize,
// registration, document fetches) into one bucket that a single attacker
// empties for everyone, so the first request that came through a proxy
// (Forwarded or X-Forwarded-For) logs a warning, once.
func (s *Server) peerHost(r *http.Request) string {
	if (r.Header["X-Forwarded-For"] != nil || r.Header["Forwarded"] != nil) && s.proxyWarned.CompareAndSwap(false, true) {
		s.log.Warn("authserver: requests come through a proxy (Forwarded or X-Forwarded-For) but Config.ClientAddress is not set: " +
			"every client shares the proxy's address, so one source can exhaust the per-source rate limits for all; " +
			"set Config.ClientAddress to read the address your proxy appends")
	}
	return remoteHost(r)
}

func remoteHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return h
	}
	return r.RemoteAddr
}

// newDummyKeySet is a throwaway P-256 key that assertions claiming an
// unregistered client are verified against, so that they cost what a
// registered client's failed verification costs.
func newDummyKeySet() (jose.KeySet, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	pk, err := jose.NewPublicKey(k.Public(), "", jose.ES256)
	if err != nil {
		return nil, err
	}
	return jose.NewStaticKeySet(pk), nil
}

// sameValue reports whether a and b hold the same comparable value.
func sameValue(a, b any) bool {
	ta := reflect.TypeOf(a)
	return ta != nil && ta == reflect.TypeOf(b) && ta.Comparable() && a == b
}

// brokerRefreshStore is cfg.Broker.RefreshStore, nil without a broker.
func brokerRefreshStore(cfg Config) RefreshStore {
	if cfg.Broker == nil {
		return nil
	}
	return cfg.Broker.RefreshStore
}

// warnPerProcess logs, at start-up, a shared code key combined with
// per-process stores: the key says "replicas", and with the default
// stores each replica would redeem an authorization code once (the replay
// store enforces single use) and honour only the refresh tokens it issued.
func (s *Server) warnPerProcess(cfg Config) {
	b := cfg.Broker
	if b == nil {
		return
	}
	if b.CodeKey == nil {
		if b.RefreshStore != nil || b.ConsentStore != nil || cfg.Registration != nil && cfg.Registration.Store != nil {
			// shared stores say "replicas", which a per-process key breaks
			s.log.Warn("authserver: broker.code_key is unset but stores are shared: behind several replicas codes and logins in progress work only at the replica that made them; give every replica the same code key")
		}
		return
	}
	if cfg.ReplayStore == nil {
		s.log.Warn("authserver: broker.code_key is shared but Config.ReplayStore is per process: behind several replicas an authorization code can be redeemed once per replica; set a shared ReplayStore (stores/redis)")
	}
	if cfg.Broker.RefreshStore == nil {
		s.log.Warn("authserver: broker.code_key is shared but Broker.RefreshStore is per process: behind several replicas a refresh token works only at the replica that issued it, and reuse of a rotated token is seen by that replica only; set a shared RefreshStore (stores/redis)")
	}
	if cfg.Broker.ConsentStore == nil {
		s.log.Warn("authserver: broker.code_key is shared but Broker.ConsentStore is per process: behind several replicas a user is asked again at each replica, and RevokeConsent holds only at the replica it ran on; set a shared ConsentStore (stores/redis)")
	}
	if cfg.Registration != nil && cfg.Registration.Store == nil {
		s.log.Warn("authserver: broker.code_key is shared but Registration.Store is per process: behind several replicas a client registered at one replica is unknown at the others; set a shared Store (stores/redis)")
	}
}
