package casbinauthz

import (
	"log/slog"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// Defaults used when a Config field is zero.
const (
	DefaultCacheSize    = 10_000
	DefaultPollInterval = 5 * time.Second
	DefaultMaxPolicy    = 16 << 20 // bytes per policy file
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

	// PollInterval is how often [Authorizer.Watch] checks the Source.
	// OPTIONAL; default DefaultPollInterval.
	PollInterval time.Duration

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

	// DisableIndex forces evaluation through Casbin's Enforce even for the
	// indexed model families. OPTIONAL; default false.
	DisableIndex bool

	// MatchCacheBytes bounds, per policy version, the cached per-object
	// glob match sets of the compiled index (the positions of the glob
	// rules an object matches, for p and p2 rules together). OPTIONAL; 0
	// means DefaultMatchCacheBytes, a negative value disables the cache.
	MatchCacheBytes int
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
}
