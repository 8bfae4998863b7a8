package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// Session binding defaults.
const (
	// DefaultSessionTTL is how long an unused binding lives. Set
	// Config.SessionTTL to the go-sdk StreamableHTTPOptions.SessionTimeout
	// of the server behind the Guard, so a binding ends when its session
	// does.
	DefaultSessionTTL = time.Hour
	// DefaultMaxSessionsPerPrincipal is the default cap on the live
	// sessions of one principal.
	DefaultMaxSessionsPerPrincipal = 100
	// CodeSessionLimit is the JSON-RPC error code of an initialize refused
	// because its principal holds Config.MaxSessionsPerPrincipal live
	// sessions (HTTP 429), outside the ranges reserved by JSON-RPC and MCP.
	CodeSessionLimit = -31429
	maxSessionIDLen  = 256
)

// sessionConfig is the Guard's session binding state (nil when binding is
// disabled).
type sessionConfig struct {
	store   SessionBindings
	counter SessionCounter       // store as a SessionCounter, or nil
	touch   SessionLookupToucher // store as a SessionLookupToucher, or nil
	ttl     time.Duration
	max     int // per principal; <= 0: no cap
}

// newSessionConfig applies the defaults of the session fields of cfg.
func newSessionConfig(cfg *Config) (*sessionConfig, error) {
	if cfg.DisableSessionBinding {
		if cfg.Sessions != nil {
			return nil, errors.New("core: Config.Sessions is set together with DisableSessionBinding")
		}
		return nil, nil
	}
	sc := &sessionConfig{store: cfg.Sessions, ttl: cfg.SessionTTL, max: cfg.MaxSessionsPerPrincipal}
	if sc.ttl <= 0 {
		sc.ttl = DefaultSessionTTL
	}
	if sc.max == 0 {
		sc.max = DefaultMaxSessionsPerPrincipal
	}
	if sc.store == nil {
		if cfg.MaxSessions < 0 || cfg.MaxSessionBytes < 0 {
			return nil, errors.New("core: Config.MaxSessions and MaxSessionBytes must not be negative")
		}
		mem, err := NewMemorySessions(MemorySessionsConfig{MaxEntries: cfg.MaxSessions, MaxBytes: cfg.MaxSessionBytes, Now: cfg.Now})
		if err != nil {
			return nil, err
		}
		sc.store = mem
	}
	sc.counter, _ = sc.store.(SessionCounter)
	sc.touch, _ = sc.store.(SessionLookupToucher)
	return sc, nil
}

// sessionHeader returns the Mcp-Session-Id the request carries, whatever its
// protocol version: inspect ignores the header on 2026-07-28, but an SDK
// behind the Guard may not, so the Guard checks it on every version.
func sessionHeader(vs []string, ins *inspection) (string, *Error) {
	if ins.sessionID != "" {
		return ins.sessionID, nil
	}
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return strings.Trim(vs[0], " \t"), nil // OWS, as inspect trims it
	}
	return "", &Error{Kind: KindMessage, Status: http.StatusBadRequest, Code: codeInvalidRequest,
		Description: "repeated Mcp-Session-Id header", ID: ins.firstID()}
}

// checkSession is step 7 of the pipeline, before authorization: a request
// that names a session must name one bound to its principal. Unknown,
// expired and foreign ids get the same KindSession refusal (404, identical
// bytes for the same request), so the answer does not confirm that a
// session exists. It returns the session id and the principal ID ("" when
// the request names no session), and touched when it also extended the
// binding (a store that is a SessionLookupToucher, for any method but
// DELETE, which ends the binding in initSession instead).
func (g *Guard) checkSession(ctx context.Context, method string, sessionIDs []string, ins *inspection, p *Principal) (sid, pid string, touched bool, _ *Error) {
	sid, e := sessionHeader(sessionIDs, ins)
	if e != nil || sid == "" {
		return "", "", false, e
	}
	if !validSessionID(sid) {
		return "", "", false, &Error{Kind: KindMessage, Status: http.StatusBadRequest, Code: codeInvalidRequest, Description: "invalid Mcp-Session-Id", ID: ins.firstID()}
	}
	pid = p.ID()
	sc := g.sessions
	var owner string
	var err error
	if touched = sc.touch != nil && method != http.MethodDelete; touched {
		owner, err = sc.touch.LookupTouch(ctx, sid, pid, sc.ttl)
	} else {
		owner, err = sc.store.Lookup(ctx, sid)
	}
	if err != nil {
		return "", "", false, sessionStoreError(err, ins)
	}
	if owner != pid {
		cause := errors.New("core: Mcp-Session-Id unknown or expired")
		if owner != "" {
			cause = errors.New("core: Mcp-Session-Id bound to another principal")
		}
		return "", "", false, &Error{Kind: KindSession, Description: "session not found", ID: ins.firstID(), Err: cause}
	}
	return sid, pid, touched, nil
}

// initSession is the session part of step 9, after the request is allowed:
// it extends the binding of a used session, ends it on DELETE, and for an
// initialize without a session prepares the binding of the session the
// response creates (refusing at once a principal already at its cap).
// touched: checkSession extended the binding already.
func (g *Guard) initSession(ctx context.Context, r *Request, ins *inspection, res *Result, p *Principal, sid, pid string, touched bool) *Error {
	sc := g.sessions
	switch {
	case touched:
	case sid != "" && r.Method == http.MethodDelete:
		// The principal ends its session: forget the binding now. If the
		// server then fails to delete it, the session is unusable through
		// the Guard (404) and expires with the server's SessionTimeout.
		if err := sc.store.Unbind(ctx, sid, pid); err != nil {
			return sessionStoreError(err, ins)
		}
	case sid != "":
		if err := sc.store.Touch(ctx, sid, pid, sc.ttl); err != nil {
			return sessionStoreError(err, ins)
		}
	case ins.initialize && ins.version < inspect.Version20260728:
		pid, id := p.ID(), ins.initializeID()
		if sc.counter != nil && sc.max > 0 {
			n, err := sc.counter.Count(ctx, pid)
			if err != nil {
				return sessionStoreError(err, ins)
			}
			if n >= sc.max {
				return g.sessionLimitError(id)
			}
		}
		res.bind = func(sessionID string, refusal *Error) error {
			if refusal != nil {
				return refusal
			}
			err := sc.store.Bind(ctx, sessionID, pid, sc.ttl, sc.max)
			switch {
			case err == nil:
				return nil
			case errors.Is(err, ErrSessionLimit):
				return g.sessionLimitError(id)
			case errors.Is(err, ErrSessionBound):
				return &Error{Kind: KindSession, Description: "session not found", ID: id, Err: err}
			}
			return &Error{Kind: KindUnavailable, Description: "session store temporarily unavailable", ID: id, Err: err}
		}
	}
	return nil
}

func (g *Guard) sessionLimitError(id []byte) *Error {
	return &Error{Kind: KindSessionLimit, ID: id, Code: CodeSessionLimit,
		Description: fmt.Sprintf("too many live sessions for this principal (limit %d): end unused sessions with DELETE or let them expire", g.sessions.max),
		Err:         ErrSessionLimit}
}

// sessionStoreError is the 503 of a failing binding store.
func sessionStoreError(err error, ins *inspection) *Error {
	return &Error{Kind: KindUnavailable, Description: "session store temporarily unavailable", ID: ins.firstID(), Err: err}
}

// validSessionID reports whether id is a syntactically valid session id:
// visible ASCII (0x21-0x7E) per the 2025-11-25 transport, at most 256 bytes.
func validSessionID(id string) bool {
	if id == "" || len(id) > maxSessionIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// EndSession forgets the binding of sessionID, whoever owns it. Call it
// when the MCP server ends a session by itself (its idle SessionTimeout, a
// shutdown); httpmcp.UnbindOnClose wires it to the go-sdk. Without it a
// binding ends on DELETE or after Config.SessionTTL without use. It returns
// the store's error, if any, and nil when binding is disabled.
func (g *Guard) EndSession(ctx context.Context, sessionID string) error {
	if g == nil {
		return ErrNilGuard
	}
	if g.sessions == nil || sessionID == "" {
		return nil
	}
	pid, err := g.sessions.store.Lookup(ctx, sessionID)
	if err != nil || pid == "" {
		return err
	}
	return g.sessions.store.Unbind(ctx, sessionID, pid)
}
