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
)

// DecisionEvent is the audit record of one [Guard.Check]: exactly one event
// per checked request. It never contains a token, a secret or a request
// body; identities are the verified iss/sub/client_id.
type DecisionEvent struct {
	Time      time.Time
	RequestID string // X-Request-Id of the request when printable and ≤128 bytes, else ""

	Issuer      string // empty when authentication failed
	Subject     string
	ClientID    string
	SubjectKind PrincipalKind

	Method string // JSON-RPC method ("tools/call"; several joined by "," for a batch); the HTTP method for GET/DELETE and for requests refused before inspection
	Target string // policy object of the deciding operation ("tool:deploy"), or ""
	// Args are the declared arguments of the deciding operation
	// (Config.Inspect.Args) as sorted name=value pairs, each value
	// truncated (see auditArgs); never an undeclared argument. "" when none.
	Args string

	Decision       string   // DecisionAllow, DecisionDeny or DecisionError
	Rule           string   // the policy rule that decided, when the Authorizer names it
	PolicyVersion  uint64   // version of the policy that decided (Decision.PolicyVersion), 0 if unknown
	PolicyDigest   string   // digest of that policy (Decision.PolicyDigest), "" if unknown
	RequiredScopes []string // for insufficient_scope denials
	Status         int      // HTTP status the Guard chose (200 for allow)
	Latency        time.Duration
	Reason         string // short reason: error kind and client-safe description
}

// AuditSink receives one DecisionEvent per checked request. Record is called
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
		slog.Duration("latency", ev.Latency),
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
	s.l.LogAttrs(ctx, lvl, "mcpauthz decision", attrs...)
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
