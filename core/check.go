package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/otelx"
)

// Check runs the pipeline on one request: Origin check, bearer extraction
// (RFC 6750 §2.1), body size, token verification, claim mapping, MCP
// inspection, authorization of every message, and session binding. It
// returns a Result when the request may reach the MCP handler, and otherwise
// an error that is always an *Error, to be turned into the response by
// [Guard.Render]. Exactly one DecisionEvent is recorded per call.
//
// Check never panics on input and never allows on an error: a failing
// verifier, mapper or authorizer refuses the request (503 when the cause
// wraps ErrUnavailable or comes from the Authorizer).
func (g *Guard) Check(ctx context.Context, r *Request) (*Result, error) {
	if g == nil {
		return nil, nilGuardError(ctx)
	}
	return g.checkIn(ctx, r, nil, nil, nil)
}

// checkIn is Check with the Result in res and the scratch state in sc when
// the caller provides them (Serve: a zero Result inside its own
// per-request allocation and a pooled scratch); nil allocates the Result
// (with room for the target name, resultBox) and takes a scratch from the
// pool. name is room for the target name in the caller's per-request
// allocation, never reused (see Guard.inspect); nil when there is none.
// See hotpath.go.
func (g *Guard) checkIn(ctx context.Context, r *Request, res *Result, sc *checkScratch, name []byte) (*Result, error) {
	if r == nil {
		r = &Request{}
	}
	// Only an audit sink sees the event's times: without one, the hot
	// path skips both clock reads.
	var start time.Time
	if g.audit != nil || g.tel.timed() {
		start = g.now()
	}
	ctx, span := g.tel.step(ctx, SpanCheck)
	var ev DecisionEvent // zeroed in place: a composite literal is built in a temporary and copied (~400 bytes twice)
	ev.Time, ev.Method = start, r.Method
	var h reqHeader // one pass over the header (reqheader.go)
	if r.Header == nil && r.Fields != nil {
		h.gatherFrom(r.Fields)
	} else {
		h.gather(r.Header)
	}
	if vs := h.requestID; len(vs) > 0 { // r.Header.Get
		ev.RequestID = requestID(vs[0])
	}
	res, err := g.check(ctx, r, &h, &ev, res, sc, name)
	if g.audit != nil || g.tel.timed() {
		ev.Latency = g.now().Sub(start)
	}
	var e *Error
	if err != nil {
		e = err.(*Error)
		if ev.Issuer != "" || ev.Subject != "" || ev.ClientID != "" { // token verified
			g.echoID(r, e) // rpcid.go
		}
		g.logRefusal(ctx, g.refusalFields(&ev, e), e, &ev)
	} else {
		ev.Decision, ev.Status = DecisionAllow, http.StatusOK
	}
	if span != nil || g.tel.timed() {
		g.recordTelemetry(ctx, span, &ev, e)
	}
	if g.audit != nil {
		g.auditFields(&ev, r, err)
		g.audit.Record(ctx, ev)
	}
	if err != nil {
		return nil, err
	}
	if res.hidden != nil {
		res.hidden.ev = ev
	}
	if bind := res.bind; bind != nil { // a legacy initialize: a refused binding is a second decision
		bev := ev
		res.bind = func(sessionID string, refusal *Error) error {
			err := bind(sessionID, refusal)
			if e, ok := err.(*Error); ok {
				bev.Time = g.now()
				g.logRefusal(ctx, g.refusalFields(&bev, e), e, &bev)
				if g.audit != nil {
					bev.Reason = TruncateField(bev.Reason, MaxLogReason)
					g.audit.Record(ctx, bev)
				}
			}
			return err
		}
	}
	return res, nil
}

// refusalFields sets the decision, status and reason of ev for the refusal
// e, and returns the level its log line gets.
func (g *Guard) refusalFields(ev *DecisionEvent, e *Error) slog.Level {
	ev.Status = g.status(e)
	ev.Decision = DecisionDeny
	lvl := slog.LevelDebug
	if e.Kind == KindUnavailable || e.Kind == KindInternal {
		ev.Decision, lvl = DecisionError, slog.LevelWarn
	}
	ev.Reason = string(e.Kind)
	if d := g.description(e); d != "" {
		ev.Reason += ": " + d
	}
	if e.Kind == KindInsufficientScope {
		ev.RequiredScopes = append([]string(nil), e.Scopes...)
	}
	return lvl
}

func (g *Guard) check(ctx context.Context, r *Request, h *reqHeader, ev *DecisionEvent, res *Result, sc *checkScratch, name []byte) (*Result, error) {
	if r.Header == nil && r.Fields == nil {
		cp := *r // every field, the body reader and peer included
		cp.Header = http.Header{}
		r = &cp
	}
	// 1. Origin (MCP transports: present and invalid → 403).
	if g.origins != nil {
		if origins := h.origin; len(origins) > 0 {
			if len(origins) != 1 || !g.origins[strings.ToLower(strings.TrimSuffix(strings.TrimSpace(origins[0]), "/"))] {
				return nil, &Error{Kind: KindOrigin, Description: "origin not allowed"}
			}
		}
	}

	// 2. Credentials (the header and query only: the body is read after
	// the token is verified).
	token, err := bearerFrom(h.authorization, h.ins.ContentType, r.RawQuery, nil)
	if err != nil {
		switch {
		case errors.Is(err, ErrNoToken):
			return nil, &Error{Kind: KindNoToken, Err: err}
		case errors.Is(err, ErrMalformedToken):
			return nil, &Error{Kind: KindInvalidToken, Description: "malformed token", Err: err}
		default:
			return nil, &Error{Kind: KindInvalidRequest, Description: "send exactly one bearer token, in the Authorization header", Err: err}
		}
	}

	// 3. Verify. A token the verifier's cache holds was verified, and found
	// to be one token68, before (cachedverifier.go); any other token is
	// checked for that first.
	var claims *Claims
	hit := false
	if g.cached != nil {
		claims, hit, err = g.cached.VerifyCached(ctx, token)
	}
	if !hit {
		if err := checkToken68(token); err != nil {
			return nil, &Error{Kind: KindInvalidRequest, Description: "send exactly one bearer token, in the Authorization header", Err: err}
		}
	}
	sctx, sp := g.tel.step(ctx, SpanVerify)
	if !hit {
		claims, err = g.verifier.Verify(sctx, token)
	}
	otelx.End(sp, err)
	err = redact(err, token)
	if err == nil && claims == nil {
		err = errors.New("core: verifier returned no claims and no error")
	}
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return nil, &Error{Kind: KindUnavailable, Description: "token verification temporarily unavailable", Err: err}
		}
		return nil, &Error{Kind: KindInvalidToken, Description: tokenErrorDescription(err), Err: err}
	}

	// 4. Body: read only now, so an unauthenticated caller costs no more
	// than its header; then its size, and a token in a form body.
	if r.Body == nil && r.BodyReader != nil && !r.BodyTooLarge && r.BodyErr == nil {
		b, err := r.BodyReader.ReadBody(g.maxBody)
		switch {
		case errors.Is(err, ErrBodyTooLarge):
			r.BodyTooLarge = true
		case err != nil:
			r.BodyErr = err
		default:
			r.Body = b
		}
	}
	if r.BodyTooLarge {
		return nil, &Error{Kind: KindTooLarge, Description: "request body too large"}
	}
	if r.BodyErr != nil {
		return nil, &Error{Kind: KindMessage, Status: http.StatusBadRequest, Code: codeInvalidRequest,
			Description: "could not read request body", Err: r.BodyErr}
	}
	if len(r.Body) > 0 && isFormType(h.ins.ContentType) && hasParam(string(r.Body), "access_token") {
		return nil, &Error{Kind: KindInvalidRequest, Description: "send exactly one bearer token, in the Authorization header",
			Err: fmt.Errorf("%w: access_token in the form body", ErrMalformedRequest)}
	}

	// 5. Map. With the verifier's token memo (core.NewTokenMemo) the
	// principal is the one derived when the token was first seen.
	var p *Principal
	sctx, sp = g.tel.step(ctx, SpanMap)
	memo := g.memoFor(claims)
	switch {
	case memo != nil:
		p = &memo.p
	case g.defaultMapper:
		p, err = defaultMap(sctx, claims)
	default:
		p, err = g.mapper.MapClaims(sctx, claims)
	}
	otelx.End(sp, err)
	err = redact(err, token)
	if err == nil && p == nil {
		err = errors.New("core: mapper returned no principal and no error")
	}
	if err != nil {
		ev.Issuer, ev.Subject, ev.ClientID = claims.Issuer, claims.Subject, claims.ClientID
		if errors.Is(err, ErrUnavailable) {
			return nil, &Error{Kind: KindUnavailable, Description: "principal mapping temporarily unavailable", Err: err}
		}
		return nil, &Error{Kind: KindInvalidToken, Description: "token claims not accepted", Err: err}
	}
	if p.Claims == nil {
		p.Claims = claims
	}
	ev.Issuer, ev.Subject, ev.ClientID, ev.SubjectKind = p.Issuer, p.Subject, p.ClientID, p.Kind

	// 5b. Stream resumption would replay unfiltered list responses.
	if g.authorizer != nil && !g.allowReplay && len(h.lastEventID) > 0 {
		return nil, &Error{Kind: KindMessage, Status: http.StatusBadRequest, Code: codeInvalidRequest,
			Description: "stream resumption (Last-Event-ID) is not supported: replayed events would bypass authorization filtering"}
	}

	// 6. Inspect, into the scratch state. A refusal below keeps the
	// scratch out of the pool (the error may point into it).
	own := sc == nil
	if own {
		sc = getScratch()
	}
	ins := &sc.ins
	if res == nil {
		// Allocated before inspecting, so the target name can live in it.
		box := new(resultBox)
		res, name = &box.res, box.name[:0]
	}
	_, sp = g.tel.step(ctx, SpanInspect)
	ierr := g.inspect(r, &h.ins, ins, name)
	otelx.End(sp, nilIfNil(ierr))
	if ierr != nil {
		return nil, ierr
	}
	if m := ins.methods(); m != "" {
		ev.Method = m
	}
	res.Principal, res.ProtocolVersion, res.SessionID, res.ctx.tiKey = p, ins.version, ins.sessionID, g.sdkKey
	if len(ins.req.Messages) == 1 && !ins.req.Batch { // a GET or DELETE has no message
		res.rpc = rpcCode(ins.req.Messages[0].Method) // 0 for a client's response
	}
	if memo != nil {
		res.ctx.ti, res.pid = &memo.ti, memo.id
	}

	// 7. Session binding (check, and touch when the store does both in
	// one call; otherwise the binding is touched, ended or prepared after
	// the decision, in step 9). See session.go.
	var pid, sid string // pid is computed only when a session is involved
	var touched bool
	if g.sessions != nil {
		var serr *Error
		if sid, pid, touched, serr = g.checkSession(ctx, r.Method, h.ins.SessionID, ins, p); serr != nil {
			return nil, serr
		}
	}

	// 8. Authorize.
	if g.authorizer != nil {
		sctx, sp = g.tel.step(ctx, SpanDecide)
		aerr := g.authorize(sctx, p, ins, ev)
		otelx.End(sp, nilIfNil(aerr))
		if aerr != nil {
			return nil, aerr
		}
		if ins.list != "" {
			if res.listName() != ins.list { // cannot happen: a list request is one message
				return nil, &Error{Kind: KindInternal, Description: "internal error",
					Err: errors.New("core: the list to filter is not the request method's")}
			}
			res.visible = func(kind ObjectKind, name string) bool { return g.visible(ctx, p, kind, name) }
			g.watchHidden(ctx, res)
			res.filterSpan = g.tel.filterSpan(ctx, ins.list)
		}
	}

	// 9. Session bookkeeping (session.go).
	if g.sessions != nil {
		if serr := g.initSession(ctx, r, ins, res, p, sid, pid, touched); serr != nil {
			return nil, serr
		}
	}
	if own {
		putScratch(sc) // zeroes it; Serve puts its own back the same way
	}
	return res, nil
}

// authorize asks the Authorizer about every operation; all must pass. A
// pure denial anywhere wins over scope denials; scope denials of a batch are
// merged into one complete set.
func (g *Guard) authorize(ctx context.Context, p *Principal, ins *inspection, ev *DecisionEvent) *Error {
	var scopes []string
	var scopeDenial *Error
	var batch *batchAudit // an allowed batch is recorded with all of its operations
	if g.wantTarget && len(ins.ops) > 1 {
		batch = &batchAudit{}
	}
	for i := range ins.ops {
		op := &ins.ops[i] // not a copy of the operation per iteration
		if len(op.missing) > 0 {
			ev.Target, ev.Args = op.perm.Object(), auditArgs(op.perm.Args)
			return missingArgs(*op)
		}
		dec, err := g.authorizer.Authorize(ctx, p, op.perm)
		ev.ObjectKind = op.perm.Kind
		if g.wantTarget || err != nil || !dec.Allow {
			ev.Target = op.perm.Object()
			ev.Args = auditArgs(op.perm.Args)
		}
		ev.Rule = dec.Rule
		ev.PolicyVersion, ev.PolicyDigest = dec.PolicyVersion, dec.PolicyDigest
		if err != nil {
			return &Error{Kind: KindUnavailable, Description: "authorization temporarily unavailable", ID: op.id, Err: err}
		}
		if dec.Allow {
			if batch != nil {
				batch.add(op, dec.Rule)
			}
			continue
		}
		if len(dec.RequiredScopes) == 0 {
			desc := "forbidden by policy"
			if dec.Reason != "" {
				desc = dec.Reason
			}
			return &Error{Kind: KindForbidden, Description: desc, ID: op.id,
				Err: errors.New("core: policy denied " + op.perm.Method + " " + op.perm.Object())}
		}
		for _, s := range dec.RequiredScopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
		if scopeDenial == nil {
			desc := dec.Reason
			if desc == "" {
				desc = "insufficient scope for " + describeOp(op.perm)
			}
			scopeDenial = &Error{Kind: KindInsufficientScope, Description: desc, ID: op.id,
				Err: errors.New("core: scope required for " + op.perm.Method + " " + op.perm.Object())}
		}
	}
	if scopeDenial != nil {
		scopeDenial.Scopes = scopes
		return scopeDenial
	}
	if batch != nil {
		batch.fill(ev)
	}
	return nil
}

// visible decides whether a list item is shown: the principal may use it
// now (Allow) or could with more scopes (RequiredScopes non-empty). An error
// hides the item.
func (g *Guard) visible(ctx context.Context, p *Principal, kind ObjectKind, name string) bool {
	perm := Permission{Kind: kind, Name: name, Listing: true}
	switch kind {
	case ObjectTool:
		perm.Action, perm.Method = ActionCall, "tools/call"
	case ObjectResource:
		perm.Action, perm.Method = ActionRead, "resources/read"
	case ObjectPrompt:
		perm.Action, perm.Method = ActionGet, "prompts/get"
	default:
		return false
	}
	if kind == ObjectResource && g.inspectOpts.Args.HasResources() && !g.inspectOpts.Args.IsTemplate(name) {
		// A listed URI carries the variables of the template it fits, as
		// its resources/read would; a refused variable hides it. A listed
		// template (resources/templates/list) carries none: the Authorizer
		// answers it as a listing (Permission.Listing).
		vals, ok, err := g.inspectOpts.Args.MatchResource(name)
		if err != nil {
			return false
		}
		if ok {
			perm.Args = vals
		}
	}
	dec, err := g.authorizer.Authorize(ctx, p, perm)
	if err != nil {
		g.log.LogAttrs(ctx, slog.LevelWarn, "mcpauthz list filter: authorizer failed; item hidden",
			slog.String("object", TruncateField(perm.Object(), MaxLogField)), slog.String("cause", causeText(err)))
		return false
	}
	return dec.Allow || len(dec.RequiredScopes) > 0
}

// describeOp is a short client-safe description of an operation.
func describeOp(p Permission) string {
	if p.Kind == ObjectServer {
		return p.Method
	}
	return p.Method + " " + p.Name
}

// tokenErrorDescription maps a verification failure to fixed client-safe
// text; the cause itself is never sent.
func tokenErrorDescription(err error) string {
	switch {
	case errors.Is(err, ErrExpired):
		return "token expired"
	case errors.Is(err, ErrNotYetValid):
		return "token not yet valid"
	case errors.Is(err, ErrIssuedInFuture):
		return "token issued in the future"
	case errors.Is(err, ErrSignature):
		return "invalid signature"
	case errors.Is(err, ErrUnknownKey):
		return "unknown signing key"
	case errors.Is(err, ErrUnsupportedAlgorithm):
		return "algorithm not allowed"
	case errors.Is(err, ErrAudience):
		return "audience mismatch"
	case errors.Is(err, ErrIssuer):
		return "untrusted issuer"
	case errors.Is(err, ErrTokenType):
		return "wrong token type"
	case errors.Is(err, ErrInactiveToken):
		return "token inactive"
	case errors.Is(err, ErrInvalidClaims):
		return "invalid claims"
	case errors.Is(err, ErrMalformedToken):
		return "malformed token"
	}
	return "invalid token"
}

// requestID returns v when it is a usable request id: 1-128 printable
// ASCII bytes.
func requestID(v string) string {
	if v == "" || len(v) > 128 {
		return ""
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return ""
		}
	}
	return v
}

// redacted wraps a cause whose text might contain the token (a careless
// verifier or mapper): Error() replaces every occurrence of the token, and
// Unwrap keeps the chain for errors.Is.
type redacted struct {
	err   error
	token string
}

func (r redacted) Error() string {
	s := r.err.Error()
	if len(r.token) >= 8 {
		s = strings.ReplaceAll(s, r.token, "[token]")
	}
	return s
}

func (r redacted) Unwrap() error { return r.err }

func redact(err error, token string) error {
	if err == nil {
		return nil
	}
	return redacted{err: err, token: token}
}
