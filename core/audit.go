package core

import (
	"context"
	"log/slog"
	"time"
)

// Decision values of a DecisionEvent.
const (
	DecisionAllow = "allow" // the request was passed to the MCP handler
	DecisionDeny  = "deny"  // refused: authentication, request or policy
	DecisionError = "error" // refused because a dependency failed (503/500)
	// DecisionFilter (listaudit.go): items were hidden from a list.
)

// DecisionEvent is the audit record of one [Guard.Check]: exactly one event
// per checked request, plus one when [Result.BindSession] refuses the
// session an allowed initialize created, and one ([DecisionFilter]) when
// the list filter hid items from an allowed */list response. It never contains a token, a secret or a request
// body; identities are the verified iss/sub/client_id.
type DecisionEvent struct {
	Time      time.Time
	RequestID string // X-Request-Id of the request when printable and ≤128 bytes, else ""

	Issuer      string // empty when authentication failed
	Subject     string
	ClientID    string
	SubjectKind PrincipalKind

	Method string // JSON-RPC method ("tools/call"; several joined by "," for a batch); the HTTP method for GET/DELETE and for requests refused before inspection
	// Target is the policy object of the deciding operation
	// ("tool:deploy"), or "". An allowed batch names every distinct object
	// it ran, joined by "," in order ("tool:deploy,tool:echo"), and its
	// Rule every distinct rule, joined by " | ".
	Target string
	// ObjectKind is the kind of the deciding operation's object ("" when
	// the request was refused before a decision).
	ObjectKind ObjectKind
	// Args are the declared arguments of the deciding operation
	// (Config.Inspect.Args) as sorted name=value pairs, each value
	// truncated (see auditArgs); never an undeclared argument. "" when none.
	// An allowed batch lists every call's arguments, each prefixed by its
	// object and separated by "; " (at most 2 KiB, ending with "…" when cut).
	Args string

	Decision       string   // DecisionAllow, DecisionDeny or DecisionError
	Rule           string   // the policy rule that decided, when the Authorizer names it
	PolicyVersion  uint64   // version of the policy that decided (Decision.PolicyVersion), 0 if unknown
	PolicyDigest   string   // digest of that policy (Decision.PolicyDigest), "" if unknown
	RequiredScopes []string // for insufficient_scope denials
	Status         int      // HTTP status the Guard chose (200 for allow)
	// Latency is the time Check took; SlogAudit logs it as latency_ms
	// (milliseconds, fractional).
	Latency time.Duration
	Reason  string // short reason: error kind and client-safe description

	RemoteAddr string // Request.RemoteAddr: the peer address the adapter saw (no X-Forwarded-For)
	UserAgent  string // User-Agent header of the request
	Path       string // Request.Path

	// TokenIssuer and TokenAudience, on a refused token, are the "iss" and
	// "aud" the token named, when the verifier reports them with a
	// TokenRefusalError. They are caller-supplied and unverified: they say
	// which issuer and audience were involved, never who the caller is.
	TokenIssuer   string
	TokenAudience []string

	// Hidden and HiddenItems are set on a DecisionFilter event only: how
	// many items the list filter removed from the response, and the
	// first of them as policy objects ("tool:deploy"), at most
	// MaxLogItems names of at most MaxLogField bytes, MaxHiddenBytes in
	// all.
	Hidden      int
	HiddenItems []string
}

// Every string of a recorded DecisionEvent is at most MaxLogField bytes
// (Path MaxLogPath, Reason MaxLogReason; longer values end with the
// TruncateField marker) and its lists hold at most MaxLogItems values, so
// one request adds a bounded number of bytes to an audit log.

// TokenRefusalError annotates a token verification error with the issuer
// and audience the refused token named, for the audit record
// (DecisionEvent.TokenIssuer, TokenAudience). Verifiers wrap their error in
// it once the token's claims could be decoded; errors.Is and errors.As see
// the wrapped cause. The values are unverified.
type TokenRefusalError struct {
	Issuer   string   // the token's "iss" (unverified)
	Audience []string // the token's "aud" (unverified)
	Err      error
}

func (e *TokenRefusalError) Error() string { return e.Err.Error() }

// Unwrap returns the verification error.
func (e *TokenRefusalError) Unwrap() error { return e.Err }

// PolicyDigester is implemented by Authorizers that can name the policy
// they decide with (casbinauthz: "sha256:<hex of the policy text>"). The
// Guard records it in DecisionEvent.PolicyDigest and on trace spans.
type PolicyDigester interface {
	PolicyDigest() string
}

// AuditSink receives one DecisionEvent per checked request (and one per
// refused session binding). Record is called
// synchronously on the request path; implementations must be fast, safe for
// concurrent use and must not retain ctx.
type AuditSink interface {
	Record(ctx context.Context, ev DecisionEvent)
}

// AuditFunc adapts a function to AuditSink.
type AuditFunc func(ctx context.Context, ev DecisionEvent)

// Record calls f.
func (f AuditFunc) Record(ctx context.Context, ev DecisionEvent) { f(ctx, ev) }

// SlogAudit returns an AuditSink that logs each event as one record,
// message "mcpauthz decision", at Info for allow, Warn for deny and Error for
// error. A nil logger discards.
func SlogAudit(l *slog.Logger) AuditSink {
	if l == nil {
		l = discardLogger()
	}
	return slogAudit{l: l}
}

type slogAudit struct{ l *slog.Logger }

func (s slogAudit) Record(ctx context.Context, ev DecisionEvent) {
	lvl := slog.LevelInfo
	switch ev.Decision {
	case DecisionDeny:
		lvl = slog.LevelWarn
	case DecisionError:
		lvl = slog.LevelError
	}
	if !s.l.Enabled(ctx, lvl) {
		return
	}
	attrs := []slog.Attr{
		slog.String("decision", ev.Decision),
		slog.Int("status", ev.Status),
		slog.String("method", ev.Method),
		slog.String("target", ev.Target),
		slog.String("iss", ev.Issuer),
		slog.String("sub", ev.Subject),
		slog.String("client_id", ev.ClientID),
		slog.String("kind", string(ev.SubjectKind)),
		slog.Float64("latency_ms", float64(ev.Latency)/float64(time.Millisecond)),
	}
	for _, a := range [...]struct{ k, v string }{{"remote_addr", ev.RemoteAddr}, {"user_agent", ev.UserAgent},
		{"path", ev.Path}, {"token_iss", ev.TokenIssuer}} {
		if a.v != "" {
			attrs = append(attrs, slog.String(a.k, a.v))
		}
	}
	if len(ev.TokenAudience) > 0 {
		attrs = append(attrs, slog.Any("token_aud", ev.TokenAudience))
	}
	if ev.RequestID != "" {
		attrs = append(attrs, slog.String("request_id", ev.RequestID))
	}
	if ev.Args != "" {
		attrs = append(attrs, slog.String("args", ev.Args))
	}
	if ev.Rule != "" {
		attrs = append(attrs, slog.String("rule", ev.Rule))
	}
	if ev.PolicyVersion != 0 || ev.PolicyDigest != "" {
		attrs = append(attrs, slog.Uint64("policy_version", ev.PolicyVersion), slog.String("policy_digest", ev.PolicyDigest))
	}
	if len(ev.RequiredScopes) > 0 {
		attrs = append(attrs, slog.Any("required_scopes", ev.RequiredScopes))
	}
	if ev.Reason != "" {
		attrs = append(attrs, slog.String("reason", ev.Reason))
	}
	if ev.Hidden > 0 {
		attrs = append(attrs, slog.Int("hidden", ev.Hidden), slog.Any("hidden_items", ev.HiddenItems))
	}
	s.l.LogAttrs(ctx, lvl, "mcpauthz decision", attrs...)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
