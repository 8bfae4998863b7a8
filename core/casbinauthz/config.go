package casbinauthz

import (
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// Defaults used when a Config field is zero.
const (
	DefaultCacheSize = 10_000
	// DefaultCacheBytes bounds the bytes of cached decisions (keys
	// included) per policy version.
	DefaultCacheBytes = 8 << 20
	// DefaultCacheMaxEntry is the largest cache entry (key plus decision)
	// that is cached; larger requests are decided every time.
	DefaultCacheMaxEntry = 4 << 10
	DefaultPollInterval  = 5 * time.Second
	DefaultMaxPolicy     = 16 << 20 // bytes per policy file
	// MinSettleWindow is the lower bound of the default settle window.
	MinSettleWindow = time.Second
)

// Config configures [New].
type Config struct {
	// Model is the Casbin model text (for example from casbinmodels.Model).
	// REQUIRED unless Enforcer is set.
	Model string

	// Source provides the policy text (Casbin CSV lines). REQUIRED unless
	// Enforcer is set. See [FileSource] and [StringSource].
	Source Source

	// Enforcer, when set, is used as is: no Source, no reload, no index and
	// no p2 scope requirements. Use it to plug in a casbin v3 enforcer or one
	// with a database adapter; it must be safe for concurrent use (for
	// casbin, a SyncedEnforcer). OPTIONAL.
	Enforcer Enforcer

	// RequestTokens names the request tokens of Enforcer's model, in order
	// (see the package documentation). OPTIONAL, only with Enforcer; default
	// sub, obj, act.
	RequestTokens []string

	// Subjects expands a principal into its typed policy subjects.
	// OPTIONAL; default [DefaultSubjects].
	Subjects func(p *core.Principal) []string

	// Logger receives reload results and errors. OPTIONAL; nil discards.
	Logger *slog.Logger

	// CacheSize bounds the cached decisions per policy version. OPTIONAL;
	// 0 means DefaultCacheSize, a negative value disables the cache.
	CacheSize int
	// CacheBytes bounds the bytes the decision cache holds per policy
	// version (keys, decisions and a per-entry overhead). OPTIONAL; default
	// DefaultCacheBytes (8 MiB).
	CacheBytes int64
	// CacheMaxEntryBytes is the largest entry cached: a request whose key
	// (object, subjects, domain, scopes, attributes) is larger is decided
	// without the cache, so huge names cost no cache memory. OPTIONAL;
	// default DefaultCacheMaxEntry (4 KiB).
	CacheMaxEntryBytes int

	// PollInterval is how often [Authorizer.Watch] checks the Source.
	// OPTIONAL; default DefaultPollInterval.
	PollInterval time.Duration

	// SettleWindow is how long a changed policy must stay unchanged (same
	// stamp, same SHA-256) before Watch loads it, so that a file still being
	// written is not loaded half-written. OPTIONAL; default the larger of
	// 2×PollInterval and MinSettleWindow (1 s); it must not be shorter than
	// PollInterval. A writer that pauses longer than the window can still
	// expose a prefix that happens to be a valid policy: use sealing
	// (FileSource.RequireSeal) to rule that out. [Authorizer.Reload] loads at
	// once (it is an explicit request).
	SettleWindow time.Duration

	// AllowEmptyPolicy accepts a policy without any rule. OPTIONAL; default
	// false, so a truncated-to-empty file is rejected and the last good
	// policy stays.
	AllowEmptyPolicy bool

	// Canaries are decisions every new policy must produce before it is
	// swapped in. OPTIONAL.
	Canaries []Canary

	// OnReload is called after every policy swapped in by Reload or Watch
	// (not for the first load in New), with the new Stats, e.g. to send MCP
	// notifications/tools/list_changed. It runs on the reloading goroutine
	// and must not call Reload. OPTIONAL.
	OnReload func(Stats)

	// Issuers namespaces policy subjects and domains by issuer. With more
	// than one issuer, or a "{tenantid}" template, a principal's namespace
	// (and domain) is "<alias>", or "<alias>/<tenant>" when it has a trusted
	// tenant: the one in a template issuer's "iss", or the tenant claim of
	// an issuer with AssertsTenant ("/", "%" and ":" in it escaped as %2F, %25, %3A).
	// Every typed subject is prefixed with the namespace
	// ("corp/user:alice", "entra/<tid>/group:<oid>"); the principal also
	// carries "<alias>/*" and "<alias>/<tenant>/*", and the bare "*" still
	// means every authenticated caller of every issuer. With one plain issuer, subjects are unchanged and the
	// domain is the tenant only if AssertsTenant (else the issuer). A
	// principal of an issuer not listed is denied (ReasonUnknownIssuer).
	// core.New requires it when the verifier trusts more than one issuer
	// or a template (see core.IssuerIsolator). OPTIONAL; nil keeps the
	// un-namespaced behaviour of a single-issuer deployment (the domain is
	// Principal.Tenant, else the issuer).
	Issuers []Issuer

	// Attributes declares the ABAC attributes (models with an attrs request
	// token) beyond the built-ins iss, tenant, client_id, sub, kind, method
	// and request, each with a type and a default; department, acr (string)
	// and amr (strings) are declared unless redeclared here. Pass the
	// mapper's declaration, e.g. mapper.Mapper.AttributeSchema(). A policy
	// or matcher that references an undeclared attribute (r.attrs.<name>) is
	// refused at load; a token without a declared attribute is evaluated
	// with its default, so a missing claim never turns into an evaluation
	// error; a token whose attribute has another type is denied
	// (ReasonBadAttribute). OPTIONAL.
	Attributes []core.AttributeSpec

	// Args are the tool-argument and resource URI-template declarations
	// given to the Guard (core.Config.Inspect.Args). A model with an args
	// request token sees them as r.args.<name>; a policy or model that
	// references an undeclared name, or compares one with a literal of
	// another type, is refused at load (see LintOptions.Args). OPTIONAL.
	Args *inspect.ArgDecls

	// DisableIndex forces evaluation through Casbin's Enforce even for the
	// indexed model families. OPTIONAL; default false.
	DisableIndex bool

	// MatchCacheBytes bounds, per policy version, the cached per-object
	// glob match sets of the compiled index (the positions of the glob
	// rules an object matches, for p and p2 rules together). OPTIONAL; 0
	// means DefaultMatchCacheBytes, a negative value disables the cache.
	MatchCacheBytes int

	// LastGoodPath keeps the last good policy on disk, so that a replica can
	// start while its Source (a database) is unavailable. Every policy
	// accepted from the Source is written there atomically (temporary file,
	// fsync, rename) with its digest, the model's digest and the time the
	// Source last returned it (rewritten at most hourly while unchanged).
	// When the first load in New fails (the Source is unavailable, or
	// returns a policy that fails validation, as the running replicas then
	// keep their last good one), New starts from this file instead of
	// failing, provided it is intact (a corrupt or half-written file is
	// refused whole, ErrLastGood), was written for the same Model, is not
	// older than LastGoodMaxAge and passes validation and Canaries. The
	// Authorizer is then degraded: it logs at error level, Stats.Degraded
	// says so, and Ready fails (core.ErrUnavailable) until a policy from the
	// Source is in force (run Watch and/or SetWatcher: they reach it when it
	// returns). A failed write is logged and reported in
	// Stats.LastGoodError; it never affects the live policy, and a reload
	// waits at most a second for it (a slower write finishes in the
	// background, the newest policy last). Use a path on a
	// disk that survives restarts (per replica or shared: writes are atomic
	// renames). OPTIONAL; "" disables.
	LastGoodPath string
	// LastGoodMaxAge refuses a last-good file that the Source last
	// confirmed longer ago, at start and while running: an Authorizer
	// serving the file (Stats.Degraded) drops it when it reaches this age
	// with the Source still unreached, and every decision then fails with
	// core.ErrUnavailable (503) until a load from the Source succeeds; the
	// drop is logged at error level and Ready and Stats.Degraded say so.
	// OPTIONAL; default DefaultLastGoodMaxAge (24 h).
	LastGoodMaxAge time.Duration

	// MeterProvider receives mcpauthz.policy.reloads (success or failure),
	// the mcpauthz.policy.version gauge and the decision cache's
	// mcpauthz.cache.lookups (docs/operations.md). OPTIONAL; nil or a no-op
	// provider records nothing at no cost.
	MeterProvider metric.MeterProvider
}

// Canary is a decision a policy must produce to be accepted on load.
type Canary struct {
	Principal  *core.Principal
	Permission core.Permission
	Allow      bool // the expected Decision.Allow
}

// Stats describes the live policy and the reload history.
type Stats struct {
	Version      uint64    // 1 for the first policy, +1 per accepted reload
	Rules        int       // p and p2 rules of the live policy
	Indexed      bool      // decisions come from the compiled index
	ReloadErrors uint64    // failed loads since New (each failed attempt)
	LastError    string    // text of the last failed load, "" if none since the last success
	LoadedAt     time.Time // when the live policy was swapped in
	Digest       string    // hex SHA-256 of the live policy text ("" for a caller-supplied Enforcer)
	HeldBack     uint64    // policy changes Watch saw and held back until they were stable
	// Degraded is why the live policy did not come from the Source (it was
	// read from Config.LastGoodPath at start), "" once it does.
	Degraded string
	// LastGoodError is the last failed write of Config.LastGoodPath, ""
	// after a success.
	LastGoodError string
}

// cacheLimitsOf applies the defaults of the cache fields.
func cacheLimitsOf(cfg Config) (cacheLimits, error) {
	l := cacheLimits{entries: cfg.CacheSize, bytes: cfg.CacheBytes, maxEntry: cfg.CacheMaxEntryBytes}
	if l.entries == 0 {
		l.entries = DefaultCacheSize
	}
	if l.bytes < 0 || l.maxEntry < 0 {
		return l, errors.New("casbinauthz: Config.CacheBytes and CacheMaxEntryBytes must not be negative")
	}
	if l.bytes == 0 {
		l.bytes = DefaultCacheBytes
	}
	if l.maxEntry == 0 {
		l.maxEntry = DefaultCacheMaxEntry
	}
	return l, nil
}
