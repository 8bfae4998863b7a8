package core

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// Defaults of Config.
const (
	DefaultMaxBodyBytes = 1 << 20 // 1 MiB, below the go-sdk's 4 MiB
	DefaultDenyCode     = -31403  // JSON-RPC code of pure policy denials (spec-checklist OQ-12)
	DefaultRetryAfter   = 5 * time.Second
)

// Config configures a [Guard]. Fields are REQUIRED or OPTIONAL as marked;
// zero values of OPTIONAL fields select the documented defaults. New copies
// everything it keeps: changing the Config afterwards has no effect.
type Config struct {
	// Resource is the canonical URI of the protected MCP endpoint, e.g.
	// "https://mcp.example.com/mcp" (RFC 8707 §2; no fragment; https, or
	// http for loopback hosts). REQUIRED. The metadata well-known path and
	// the resource_metadata URL of every challenge are computed from it; the
	// verifier must check that tokens carry it in "aud".
	Resource string

	// Verifier checks bearer tokens. REQUIRED.
	Verifier TokenVerifier

	// Mapper turns claims into a principal. OPTIONAL; default DefaultMapper().
	// Use core/mapper (mapper.Standard) for IdP presets and claim paths.
	Mapper ClaimMapper

	// Authorizer decides every MCP operation. OPTIONAL, but a nil Authorizer
	// must be chosen explicitly with AuthenticateOnly: New fails closed
	// otherwise.
	Authorizer Authorizer
	// AuthenticateOnly, with a nil Authorizer, lets every authenticated,
	// well-formed request through. It is an error together with an
	// Authorizer.
	AuthenticateOnly bool

	// InsecureSharedSubjects lets New accept a Verifier that trusts more
	// than one issuer (or a "{tenantid}" template) with an Authorizer that
	// does not namespace policy subjects and domains by issuer (see
	// IssuerIsolator; casbinauthz: Config.Issuers). Then "user:alice",
	// "group:admins" or tenant "acme" from one issuer match rules written
	// for another issuer's principals, and a tenant claim from any issuer is
	// trusted. Set it only when every trusted issuer is one administrative
	// domain that assigns subjects, groups and tenants consistently.
	// OPTIONAL; default false: New fails with ErrSharedSubjects.
	InsecureSharedSubjects bool

	// Metadata is the RFC 9728 document. REQUIRED: AuthorizationServers
	// (≥1). Resource defaults to Config.Resource (a different value is an
	// error); BearerMethodsSupported defaults to ["header"].
	Metadata ProtectedResourceMetadata

	// MaxBodyBytes caps the request body. OPTIONAL; default
	// DefaultMaxBodyBytes (1 MiB). Adapters read at most this many bytes and
	// report more as Request.BodyTooLarge (413).
	MaxBodyBytes int64

	// Inspect tunes MCP message inspection (supported protocol versions,
	// unknown methods, nesting depth). OPTIONAL. Its MaxBodyBytes is set to
	// MaxBodyBytes.
	Inspect inspect.Options

	// DenyCode is the JSON-RPC error code of pure policy denials and of
	// insufficient-scope bodies. OPTIONAL; default DefaultDenyCode (-31403),
	// outside the ranges reserved by JSON-RPC and MCP.
	DenyCode int

	// ChallengeScopes is the scope parameter of the 401 challenge sent when
	// no token is presented. OPTIONAL; nil means Metadata.ScopesSupported; an
	// empty non-nil slice (or an empty default) omits the parameter.
	ChallengeScopes []string

	// AllowedOrigins, when non-empty, lists the Origin values accepted
	// ("https://app.example.com", compared case-insensitively); a request
	// whose Origin header is present and not listed is refused with 403
	// (MCP transports, DNS rebinding). OPTIONAL; default: no Origin check
	// (requests without Origin, i.e. non-browser clients, always pass).
	AllowedOrigins []string

	// AllowEventReplay lets requests carrying Last-Event-ID (SSE stream
	// resumption, 2025-11-25) through when an Authorizer is set. OPTIONAL;
	// default false: such requests are refused with 400, because an MCP SDK
	// with an event store replays the events it stored BEFORE this Guard
	// filtered them, so a replayed */list response would reach the client
	// unfiltered. Enable it only for servers without an event store.
	AllowEventReplay bool

	// DisableSessionBinding turns off the binding of legacy (before
	// 2026-07-28) Mcp-Session-Id values to the principal that created
	// them. OPTIONAL; default false (binding on). With binding on, every
	// request that carries an Mcp-Session-Id header, whatever its
	// MCP-Protocol-Version, must name a live session bound to its own
	// principal; unknown, expired and foreign ids all get the same 404
	// (byte-identical for the same request), so the answer does not confirm
	// that a session exists, and the MCP server behind the Guard never sees
	// a session id its caller does not own, even when it gets no TokenInfo.
	// A session is bound when it is created: the adapter reports the
	// Mcp-Session-Id of the response to a request containing initialize
	// (Result.BindSession; every adapter of this repository does). Ids are
	// never bound by use. A binding is removed on an allowed DELETE and
	// when it has not been used for SessionTTL. See docs/security.md,
	// "Sessions".
	DisableSessionBinding bool
	// Sessions stores the bindings. OPTIONAL; nil selects an in-memory,
	// per-process store (NewMemorySessions with MaxSessions and
	// MaxSessionBytes); stores/redis shares them across replicas. A store
	// error fails closed (503) for the requests that need a binding and
	// for no others.
	Sessions SessionBindings
	// SessionTTL is how long an unused binding is kept. OPTIONAL; default
	// DefaultSessionTTL (1h). Set it to the go-sdk server's
	// StreamableHTTPOptions.SessionTimeout so that a binding ends with its
	// session.
	SessionTTL time.Duration
	// MaxSessionsPerPrincipal caps the live sessions of one principal.
	// OPTIONAL; default DefaultMaxSessionsPerPrincipal (100); negative
	// means no cap. An initialize past the cap is refused with 429 and the
	// JSON-RPC error CodeSessionLimit; other principals' bindings are
	// never evicted.
	MaxSessionsPerPrincipal int
	// MaxSessions and MaxSessionBytes bound the default in-memory store
	// (entries, accounted bytes). OPTIONAL; defaults DefaultMaxSessions and
	// DefaultMaxSessionBytes. When the table is full of live bindings, a
	// new session is refused with 503 (nothing is evicted). Ignored when
	// Sessions is set.
	MaxSessions     int
	MaxSessionBytes int64

	// RetryAfter is the Retry-After of 503 answers. OPTIONAL; default 5s.
	RetryAfter time.Duration

	// Audit receives one DecisionEvent per request (and one per refused
	// session binding). OPTIONAL; nil = none.
	Audit AuditSink
	// Logger receives the internal causes of refusals at Debug level and
	// dependency failures at Warn. OPTIONAL; nil discards. Tokens are never
	// logged.
	Logger *slog.Logger
	// WarnLogInterval aggregates the Warn refusal lines (a dependency down:
	// the IdP's key set, a store) per error kind: the first is written,
	// the others within the interval are counted, and the next line
	// written after it carries that count as "suppressed". Debug lines and
	// audit events are never limited. OPTIONAL; default
	// DefaultWarnLogInterval (10s); negative writes every line.
	WarnLogInterval time.Duration
	// Now is the clock for session binding and audit. OPTIONAL; default
	// time.Now.
	Now func() time.Time

	// ReadyChecks are extra readiness checks of Guard.Ready, typically the
	// shared stores (session bindings, replay, rate limits) or a policy
	// sealing check. OPTIONAL.
	ReadyChecks []ReadinessChecker

	// TracerProvider receives one span per Check (SpanCheck) with a child
	// per pipeline step (SpanVerify, SpanMap, SpanInspect, SpanDecide) and
	// one SpanFilter per filtered list response; see docs/operations.md for
	// the attributes. OPTIONAL; nil or a no-op provider records nothing at
	// no cost. There is no global default: pass otel.GetTracerProvider() to
	// use the global provider.
	TracerProvider trace.TracerProvider
	// MeterProvider receives the decision counter and the check latency
	// histogram (docs/operations.md). OPTIONAL; nil or a no-op provider
	// records nothing at no cost.
	MeterProvider metric.MeterProvider
	// SpanObjectNameBytes bounds the object name (tool, prompt or resource
	// URI) in the mcpauthz.object.name span attribute, cut with
	// TruncateField. OPTIONAL; 0 selects MaxLogField (256 bytes), a
	// negative value leaves the attribute out; otherwise between
	// MinSpanObjectNameBytes and MaxSpanObjectNameBytes.
	SpanObjectNameBytes int
}

// Bounds of Config.SpanObjectNameBytes: the truncation marker needs room.
const (
	MinSpanObjectNameBytes = 64
	MaxSpanObjectNameBytes = 8 << 10
)

// Guard runs the authorization pipeline. It is immutable after New (apart
// from its session binding store) and safe for concurrent use.
type Guard struct {
	resource        string
	verifier        TokenVerifier
	cached          CachedVerifier // verifier, when it is one
	mapper          ClaimMapper
	defaultMapper   bool // mapper is DefaultMapper: Check maps in place
	authorizer      Authorizer
	digester        PolicyDigester // authorizer, when it names its policy
	metadata        ProtectedResourceMetadata
	metadataJSON    []byte
	metadataPath    string
	metadataURL     string
	resourcePath    string
	maxBody         int64
	inspectOpts     inspect.Options
	denyCode        int
	challengeScopes string
	origins         map[string]bool
	allowReplay     bool
	sessions        *sessionConfig
	retryAfter      string
	audit           AuditSink
	tel             telemetry
	readyChecks     []ReadinessChecker
	wantTarget      bool // audit or tracing needs DecisionEvent.Target of allowed requests
	log             *slog.Logger
	warns           warnLimiter // logfield.go
	now             func() time.Time
	sdkKey          any       // the go-sdk's TokenInfo context key (sdkcontext.go)
	bodies          bodyWatch // Serve's body reads on servers without ReadTimeout (bodywatch.go)
}

// New validates cfg and returns a Guard. It never performs I/O.
func New(cfg Config) (*Guard, error) {
	u, err := resourceURL(cfg.Resource)
	if err != nil {
		return nil, err
	}
	if cfg.Verifier == nil {
		return nil, errors.New("core: Config.Verifier is required")
	}
	switch {
	case cfg.Authorizer == nil && !cfg.AuthenticateOnly:
		return nil, errors.New("core: Config.Authorizer is nil; set AuthenticateOnly to allow every authenticated request explicitly")
	case cfg.Authorizer != nil && cfg.AuthenticateOnly:
		return nil, errors.New("core: Config.AuthenticateOnly is set together with an Authorizer")
	}
	if err := checkIssuerIsolation(&cfg); err != nil {
		return nil, err
	}
	if cfg.Mapper != nil && cfg.Authorizer != nil {
		if err := checkAttributes(cfg.Mapper, cfg.Authorizer); err != nil {
			return nil, err
		}
	}
	md, mdJSON, err := prepareMetadata(cfg.Metadata, cfg.Resource)
	if err != nil {
		return nil, err
	}
	g := &Guard{
		resource:     cfg.Resource,
		verifier:     cfg.Verifier,
		mapper:       cfg.Mapper,
		authorizer:   cfg.Authorizer,
		metadata:     md,
		metadataJSON: mdJSON,
		maxBody:      cfg.MaxBodyBytes,
		inspectOpts:  cfg.Inspect,
		denyCode:     cfg.DenyCode,
		allowReplay:  cfg.AllowEventReplay,
		audit:        cfg.Audit,
		log:          cfg.Logger,
		now:          cfg.Now,
		sdkKey:       sdkTokenInfoKey(),
		bodies:       bodyWatch{timeout: BodyReadTimeout, tick: bodyWatchTick, owner: "the Guard"},
	}
	g.metadataURL, g.metadataPath = wellKnown(u)
	g.resourcePath = u.EscapedPath()
	if g.resourcePath == "" {
		g.resourcePath = "/"
	}
	if g.mapper == nil {
		g.mapper, g.defaultMapper = DefaultMapper(), true
	}
	g.digester, _ = cfg.Authorizer.(PolicyDigester)
	if n := cfg.SpanObjectNameBytes; n > MaxSpanObjectNameBytes || n > 0 && n < MinSpanObjectNameBytes {
		return nil, fmt.Errorf("core: Config.SpanObjectNameBytes %d is outside [%d, %d]", n, MinSpanObjectNameBytes, MaxSpanObjectNameBytes)
	}
	if g.tel, err = newTelemetry(cfg.TracerProvider, cfg.MeterProvider); err != nil {
		return nil, fmt.Errorf("core: telemetry: %w", err)
	}
	g.tel.nameBytes = cfg.SpanObjectNameBytes
	if g.tel.nameBytes == 0 {
		g.tel.nameBytes = MaxLogField
	}
	g.wantTarget = g.audit != nil || g.tel.tracer != nil
	for i, c := range cfg.ReadyChecks {
		if c == nil {
			return nil, fmt.Errorf("core: Config.ReadyChecks[%d] is nil", i)
		}
	}
	g.readyChecks = append([]ReadinessChecker(nil), cfg.ReadyChecks...)
	if g.maxBody < 0 {
		return nil, errors.New("core: Config.MaxBodyBytes must not be negative")
	}
	if g.maxBody == 0 {
		g.maxBody = DefaultMaxBodyBytes
	}
	g.inspectOpts.MaxBodyBytes = int(g.maxBody)
	g.inspectOpts.SupportedVersions = append([]string(nil), cfg.Inspect.SupportedVersions...)
	if g.denyCode == 0 {
		g.denyCode = DefaultDenyCode
	}
	scopes := cfg.ChallengeScopes
	if scopes == nil {
		scopes = md.ScopesSupported
	}
	for _, s := range scopes {
		if !isScopeToken(s) {
			return nil, fmt.Errorf("core: Config.ChallengeScopes: %q is not a valid scope token", s)
		}
	}
	g.challengeScopes = strings.Join(scopes, " ")
	if len(cfg.AllowedOrigins) > 0 {
		g.origins = make(map[string]bool, len(cfg.AllowedOrigins))
		for _, o := range cfg.AllowedOrigins {
			ou, err := url.Parse(o)
			if err != nil || ou.Scheme == "" || ou.Host == "" || (ou.Path != "" && ou.Path != "/") {
				return nil, fmt.Errorf("core: Config.AllowedOrigins: %q is not an origin (scheme://host[:port])", o)
			}
			g.origins[strings.ToLower(strings.TrimSuffix(o, "/"))] = true
		}
	}
	if g.sessions, err = newSessionConfig(&cfg); err != nil {
		return nil, err
	}
	ra := cfg.RetryAfter
	if ra <= 0 {
		ra = DefaultRetryAfter
	}
	g.retryAfter = fmt.Sprint(int((ra + time.Second - 1) / time.Second))
	if g.log == nil {
		g.log = discardLogger()
	}
	g.bodies.log = g.log
	g.cached = cachedVerifierOf(cfg.Verifier, g.log)
	if g.now == nil {
		g.now = time.Now
	}
	g.warns.every = cfg.WarnLogInterval
	if g.warns.every == 0 {
		g.warns.every = DefaultWarnLogInterval
	}
	g.warnResourceAudience()
	return g, nil
}

// MaxBodyBytes is the body limit adapters must enforce while reading.
// It is 0 on a nil Guard, which refuses every request (ErrNilGuard).
func (g *Guard) MaxBodyBytes() int64 {
	if g == nil {
		return 0
	}
	return g.maxBody
}
