package core

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/clip"
)

// Byte bounds of caller-influenced strings in audit events and log records.
// A request adds at most a few KiB to the logs whatever it sends: every
// string field is cut to its bound and marked (see TruncateField).
const (
	MaxLogField     = 256 // names, methods, targets, identities, user agent, remote address
	MaxLogPath      = 512 // URL path
	MaxLogReason    = 512 // reason and cause texts
	MaxLogItems     = 8   // values kept from a list field (audiences, required scopes)
	truncatedMarker = clip.Marker
)

// TruncateField returns s when it has at most max bytes; otherwise its
// longest valid-UTF-8 prefix that, with the marker "…[truncated N bytes]"
// (N = bytes dropped) appended, fits in max bytes. Invalid UTF-8 in the
// kept prefix is preserved as is (slog escapes it). Use it for every
// caller-supplied string put into a log record.
func TruncateField(s string, max int) string { return clip.String(s, max) }

// bound cuts every string field of ev to its log bound (see MaxLogField).
func (ev *DecisionEvent) bound() {
	for _, f := range [...]*string{&ev.Issuer, &ev.Subject, &ev.ClientID, &ev.Method, &ev.Target,
		&ev.Rule, &ev.RemoteAddr, &ev.UserAgent, &ev.PolicyDigest, &ev.TokenIssuer} {
		*f = TruncateField(*f, MaxLogField)
	}
	ev.SubjectKind = PrincipalKind(TruncateField(string(ev.SubjectKind), MaxLogField)) // a custom mapper's
	ev.Path = TruncateField(ev.Path, MaxLogPath)
	ev.Reason = TruncateField(ev.Reason, MaxLogReason)
	ev.TokenAudience = boundList(ev.TokenAudience)
	ev.RequiredScopes = boundList(ev.RequiredScopes)
}

// boundList keeps at most MaxLogItems values, each truncated; it modifies
// l in place (callers pass their own copy).
func boundList(l []string) []string {
	if len(l) > MaxLogItems {
		l = l[:MaxLogItems]
	}
	for i, s := range l {
		l[i] = TruncateField(s, MaxLogField)
	}
	return l
}

// auditFields fills the request and refusal details of ev and bounds it.
func (g *Guard) auditFields(ev *DecisionEvent, r *Request, err error) {
	ev.RemoteAddr, ev.Path = r.remoteAddr(), r.Path
	if vs := r.headerValues("User-Agent"); len(vs) > 0 { // r.Header.Get, without re-canonicalising
		ev.UserAgent = vs[0]
	}
	if ev.PolicyDigest == "" && g.digester != nil { // refused before a decision named it
		ev.PolicyDigest = g.digester.PolicyDigest()
	}
	var tr *TokenRefusalError
	if err != nil && errors.As(err, &tr) {
		ev.TokenIssuer, ev.TokenAudience = tr.Issuer, slices.Clone(tr.Audience)
	}
	ev.bound()
}

// logRefusal logs the internal cause of a refusal, every field bounded.
func (g *Guard) logRefusal(ctx context.Context, lvl slog.Level, e *Error, ev *DecisionEvent) {
	if !g.log.Enabled(ctx, lvl) {
		return
	}
	attrs := []slog.Attr{slog.String("kind", string(e.Kind)),
		slog.String("method", TruncateField(ev.Method, MaxLogField)),
		slog.String("iss", TruncateField(ev.Issuer, MaxLogField)),
		slog.String("sub", TruncateField(ev.Subject, MaxLogField)),
		slog.String("cause", causeText(e.Err))}
	if lvl >= slog.LevelWarn {
		ok, n := g.warns.allow(e.Kind, g.now())
		if !ok {
			return
		}
		if n > 0 {
			attrs = append(attrs, slog.Int("suppressed", n))
		}
	}
	g.log.LogAttrs(ctx, lvl, "mcpauthz refused", attrs...)
}

// DefaultWarnLogInterval is the default Config.WarnLogInterval.
const DefaultWarnLogInterval = 10 * time.Second

// maxWarnKinds bounds the kinds a warnLimiter tracks; a kind beyond it is
// logged every time.
const maxWarnKinds = 32

// warnLimiter is a Guard's aggregation of Warn refusal lines per kind
// (Config.WarnLogInterval): at most maxWarnKinds small entries.
type warnLimiter struct {
	every time.Duration // < 0: every line
	mu    sync.Mutex
	kinds map[ErrorKind]*warnWindow
}

type warnWindow struct {
	start      time.Time // when the last written line was
	suppressed int       // lines left out since
}

// allow reports whether a Warn line of kind is written at now, and how
// many lines of that kind were left out since the last one written.
func (l *warnLimiter) allow(kind ErrorKind, now time.Time) (bool, int) {
	if l.every < 0 {
		return true, 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.kinds[kind]
	if w == nil {
		if len(l.kinds) >= maxWarnKinds {
			return true, 0
		}
		if l.kinds == nil {
			l.kinds = make(map[ErrorKind]*warnWindow)
		}
		l.kinds[kind] = &warnWindow{start: now}
		return true, 0
	}
	if now.Sub(w.start) < l.every {
		w.suppressed++
		return false, 0
	}
	n := w.suppressed
	w.start, w.suppressed = now, 0
	return true, n
}

// causeText is the bounded text of an internal cause ("" for nil).
func causeText(err error) string {
	if err == nil {
		return ""
	}
	return TruncateField(err.Error(), MaxLogReason)
}
