package casbinauthz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
)

// Decision reasons (client-safe).
const (
	ReasonAllowed           = "allowed by policy"
	ReasonDenied            = "denied by policy"
	ReasonInsufficientScope = "insufficient scope"
	ReasonNoPrincipal       = "no authenticated principal"
	ReasonUnsupported       = "unsupported operation"
	ReasonBadAttribute      = "token attribute has the wrong type"
)

// Authorizer is a Casbin-backed [core.Authorizer]. It is safe for
// concurrent use; Reload and Watch may run while Authorize is called.
type Authorizer struct {
	comp     *compiler // nil with a caller-supplied Enforcer
	src      Source
	subjects func(*core.Principal) []string
	// defaultSubjects: subjects are DefaultSubjects, so the cache key can be
	// taken from the principal's fields without expanding them.
	defaultSubjects bool
	log             *slog.Logger
	poll            time.Duration
	canaries        []Canary
	onReload        func(Stats) // set after the first load
	issuers         *issuerSet  // nil: Config.Issuers is empty
	declared        []core.AttributeSpec

	cur     atomic.Pointer[snapshot]
	version atomic.Uint64

	reloadMu   sync.Mutex // serializes reloads; guards lastStamp, polls and pending
	lastStamp  string
	polls      int
	pending    *pendingChange
	settle     time.Duration
	settling   atomic.Uint64 // changes seen and held back until stable
	lastErr    atomic.Pointer[string]
	reloadErrs atomic.Uint64

	tel policyTelemetry
	lg  lastGood // Config.LastGoodPath (lastgood.go)

	// memoIDs numbers the principal memos (one per verified token): the
	// decision-cache key of a memo's principal is its number, not its
	// fields. newMemo is a.newPrincipalMemo, bound once.
	memoIDs atomic.Uint64
	newMemo func(*core.Principal) any
}

// New builds an Authorizer and loads the policy once; the first load must
// succeed. With Config.Enforcer set, that enforcer is used as is.
func New(cfg Config) (*Authorizer, error) {
	a := &Authorizer{
		src: cfg.Source, subjects: cfg.Subjects, log: cfg.Logger,
		poll: cfg.PollInterval, canaries: slices.Clone(cfg.Canaries),
	}
	a.newMemo = a.newPrincipalMemo
	if a.subjects == nil {
		a.subjects, a.defaultSubjects = DefaultSubjects, true
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.poll <= 0 {
		a.poll = DefaultPollInterval
	}
	var err error
	if a.tel, err = newPolicyTelemetry(cfg.MeterProvider); err != nil {
		return nil, err
	}
	a.settle = cfg.SettleWindow
	if a.settle == 0 {
		a.settle = max(2*a.poll, MinSettleWindow)
	}
	if a.settle < a.poll {
		return nil, fmt.Errorf("casbinauthz: Config.SettleWindow %v is shorter than PollInterval %v", a.settle, a.poll)
	}
	limits, err := cacheLimitsOf(cfg)
	if err != nil {
		return nil, err
	}
	if a.issuers, err = newIssuerSet(cfg.Issuers); err != nil {
		return nil, err
	}
	a.declared = slices.Clone(cfg.Attributes)

	if cfg.Enforcer != nil {
		names := cfg.RequestTokens
		if len(names) == 0 {
			names = []string{"sub", "obj", "act"}
		}
		toks, err := requestTokens(names, "")
		if err != nil {
			return nil, err
		}
		_, explain := cfg.Enforcer.(ExplainingEnforcer)
		s := &snapshot{
			version: 1, loadedAt: time.Now(), enf: cfg.Enforcer, toks: toks,
			attrs: slices.Contains(toks, tokAttrs), args: slices.Contains(toks, tokArgs), decls: cfg.Args,
			explain: explain, cache: newDecisionCache(limits),
		}
		if s.attrs {
			if s.schema, err = newSchema(cfg.Attributes); err != nil {
				return nil, err
			}
		}
		a.version.Store(1)
		a.cur.Store(s)
		a.tel.loaded(context.Background(), 1)
		return a, nil
	}
	if cfg.Source == nil {
		return nil, errors.New("casbinauthz: Config.Source is required")
	}
	comp, err := newCompiler(cfg)
	if err != nil {
		return nil, err
	}
	a.comp = comp
	if err := a.lg.init(cfg); err != nil {
		return nil, err
	}
	if a.lg.path != "" {
		a.lg.removeStaleTemps(a.log)
	}
	if err := a.Reload(context.Background()); err != nil {
		if a.lg.path == "" {
			return nil, err
		}
		a.reloadMu.Lock()
		lerr := a.bootLastGoodLocked(err)
		a.reloadMu.Unlock()
		if lerr != nil {
			return nil, fmt.Errorf("%w; %w", err, lerr)
		}
	}
	a.onReload = cfg.OnReload
	return a, nil
}

// validAction reports whether a is one of the core actions (a switch: it
// runs on every decision, before the cache).
func validAction(a string) bool {
	switch a {
	case core.ActionCall, core.ActionRead, core.ActionGet, core.ActionList,
		core.ActionSubscribe, core.ActionComplete, core.ActionConnect:
		return true
	}
	return false
}

func validPermission(perm core.Permission) bool {
	switch perm.Kind {
	case core.ObjectTool, core.ObjectResource, core.ObjectPrompt:
		if perm.Name == "" && perm.Action != core.ActionList {
			return false
		}
	case core.ObjectServer:
	default:
		return false
	}
	return validAction(perm.Action)
}

// Authorize decides perm for p against the live policy. See the package
// documentation for the step-up rule. An evaluation error is returned
// wrapping core.ErrUnavailable, with a zero (deny) Decision.
func (a *Authorizer) Authorize(ctx context.Context, p *core.Principal, perm core.Permission) (core.Decision, error) {
	if p == nil {
		return core.Decision{Reason: ReasonNoPrincipal}, nil
	}
	if p.Kind != core.PrincipalUser && p.Kind != core.PrincipalClient {
		return core.Decision{Reason: ReasonNoPrincipal}, nil
	}
	if !validPermission(perm) {
		return core.Decision{Reason: ReasonUnsupported}, nil
	}
	s := a.cur.Load()
	if s == nil {
		return core.Decision{}, fmt.Errorf("%w: %w", core.ErrUnavailable, errNoPolicy)
	}
	dom := Domain(p)
	alias := ""
	if a.issuers != nil {
		is, tenant, ok := a.issuers.resolve(p)
		if !ok {
			return s.stamp(core.Decision{Reason: ReasonUnknownIssuer}), nil
		}
		dom = a.issuers.domain(is, tenant, p)
		if a.issuers.namespaced {
			alias = is.Alias
		}
	}
	// Oversized objects are never cached (nor keyed): a flood of huge names
	// costs no cache memory.
	cacheable := s.cache.cacheable(len(perm.Kind) + 1 + len(perm.Name) + len(dom))
	// A principal the Guard keeps with a verified token carries its key
	// prefix and subject list, computed once per token (core.Principal.Memo).
	var pm *principalMemo
	if a.defaultSubjects && a.newMemo != nil { // nil: the canary check's stand-in, which keeps no memo
		if v, ok := p.Memo(a, a.newMemo); ok {
			pm = v.(*principalMemo)
		}
	}
	// memoKeyed: the decision is cached under the principal's memo prefix,
	// and the memo remembers the first memoSlots of the policy (lastDecision).
	memoKeyed := pm != nil && cacheable && a.defaultSubjects && !s.attrs && !s.args && s.argScp == nil
	memoFull := false // every memo slot holds another object's decision of this policy
	if memoKeyed {
		d, ok, full := pm.lastFor(s.version, perm, dom)
		if ok {
			a.tel.lookups.Record(ctx, true)
			d.RequiredScopes = slices.Clone(d.RequiredScopes)
			return s.stamp(d), nil
		}
		memoFull = full
	}
	var keyBuf [256]byte // after the memo's answer, which needs no key
	key := keyBuf[:0]
	if cacheable && a.defaultSubjects && !s.attrs && !s.args && s.argScp == nil {
		if pm != nil { // the object is appended in place: a hit builds no string
			// The prefix numbers the token's principal (its issuer,
			// subject, groups, roles and scopes); dom is the trusted
			// domain.
			key = appendField(appendField(appendObject(append(key, pm.prefix...), perm), perm.Action), dom)
		} else {
			key = principalKey(key, p, perm.Object(), perm.Action, dom)
		}
		d, ok := s.cache.get(key)
		a.tel.lookups.Record(ctx, ok)
		if ok {
			if memoKeyed && !memoFull {
				pm.remember(s.version, perm, dom, d)
			}
			d.RequiredScopes = slices.Clone(d.RequiredScopes)
			return s.stamp(d), nil
		}
	}
	q := &request{obj: perm.Object(), act: perm.Action, kind: string(p.Kind), dom: dom}
	if pm != nil {
		q.subs = pm.subs
	} else {
		q.subs = a.subjects(p)
	}
	if alias != "" {
		q.subs = namespace(alias, dom, q.subs) // a fresh slice: the memo stays as is
	}
	if s.attrs {
		var err error
		if q.attrs, err = s.schema.build(p, perm); err != nil {
			// Fail closed without looking like an outage: the token is
			// refused, the policy is fine.
			return s.stamp(core.Decision{Reason: ReasonBadAttribute}), nil
		}
		if a.issuers != nil {
			q.attrs["tenant"] = dom // the trusted domain, never an unasserted claim
		}
		if alias != "" {
			// Identities in conditions are namespaced like subjects, so a
			// condition written for one issuer's "alice" never matches
			// another issuer's "alice". The value is escaped like a
			// tenant, so "<ns>/<value>" splits one way: a tenant-less
			// "acme/alice" is not tenant acme's "alice".
			for _, k := range []string{"sub", "client_id"} {
				if v, ok := q.attrs[k].(string); ok && v != "" {
					q.attrs[k] = dom + "/" + escapeTenant(v)
				}
			}
		}
	}
	listing := s.listable(perm)
	if s.args || s.argScp != nil {
		q.args = casbinArgs(perm.Args)
	}
	if cacheable && (!a.defaultSubjects || s.attrs || s.args || s.argScp != nil) {
		key, cacheable = requestKey(key, q, p.Scopes, s.attrs)
		if cacheable && (s.args || s.argScp != nil) {
			key, cacheable = appendArgs(key, perm.Args)
		}
		if listing { // never shares an entry with a call's decision
			key = append(key, 'L')
		}
		// An unkeyable request (or argument values over maxArgKeyBytes)
		// is never looked up with a partial key.
		d, ok := s.cache.get(key)
		ok = ok && cacheable
		a.tel.lookups.Record(ctx, ok)
		if ok {
			d.RequiredScopes = slices.Clone(d.RequiredScopes)
			return s.stamp(d), nil
		}
	}
	var d core.Decision
	var err error
	if listing {
		d, err = s.decideListing(q, p)
	} else {
		d, err = s.evaluate(q, p)
	}
	if err != nil {
		a.log.Error("casbinauthz: policy evaluation failed", "principal", p.String(), "object", core.TruncateField(q.obj, core.MaxLogField), "action", q.act, "version", s.version, "error", err)
		return core.Decision{}, fmt.Errorf("%w: casbinauthz: evaluating policy: %v", core.ErrUnavailable, err)
	}
	if cacheable {
		s.cache.put(string(key), d)
		if memoKeyed && !memoFull {
			pm.remember(s.version, perm, dom, d)
		}
		d.RequiredScopes = slices.Clone(d.RequiredScopes)
	}
	return s.stamp(d), nil
}

// stamp records the deciding policy version and digest in d.
func (s *snapshot) stamp(d core.Decision) core.Decision {
	d.PolicyVersion, d.PolicyDigest = s.version, s.digestHex
	return d
}

// evaluate applies the p rules, then the p2 scope requirements.
func (s *snapshot) evaluate(q *request, p *core.Principal) (core.Decision, error) {
	ok, rule, err := s.decide(q)
	if err != nil {
		return core.Decision{}, err
	}
	if !ok {
		return core.Decision{Rule: rule, Reason: ReasonDenied}, nil
	}
	req, err := s.scopes.required(q.obj, q.act)
	if err != nil {
		return core.Decision{}, err
	}
	if s.argScp != nil {
		more, err := s.argScp.required(q)
		if err != nil {
			return core.Decision{}, err
		}
		for _, sc := range more {
			if !slices.Contains(req, sc) {
				req = append(req, sc)
			}
		}
	}
	for _, sc := range req {
		if !p.HasScope(sc) {
			return core.Decision{RequiredScopes: req, Rule: rule, Reason: ReasonInsufficientScope}, nil
		}
	}
	return core.Decision{Allow: true, Rule: rule, Reason: ReasonAllowed}, nil
}

// Stats reports the live policy version and the reload history.
func (a *Authorizer) Stats() Stats {
	st := Stats{ReloadErrors: a.reloadErrs.Load(), HeldBack: a.settling.Load()}
	if s := a.cur.Load(); s != nil {
		st.Version, st.Rules, st.Indexed, st.LoadedAt = s.version, s.rules, s.idx != nil, s.loadedAt
		st.Digest = s.digest()
	}
	if e := a.lastErr.Load(); e != nil {
		st.LastError = *e
	}
	a.lastGoodStats(&st)
	return st
}

// Version is the version of the live policy: 1 after New, +1 per accepted
// reload.
func (a *Authorizer) Version() uint64 {
	if s := a.cur.Load(); s != nil {
		return s.version
	}
	return 0
}

// DeclaredAttributes implements core.AttributeConsumer: the attributes of
// Config.Attributes. core.New checks that the mapper produces each of them
// with the same type.
func (a *Authorizer) DeclaredAttributes() []core.AttributeSpec { return slices.Clone(a.declared) }
