package casbinauthz

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/casbin/casbin/v2/model"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// snapshot is one immutable, validated policy version. Decisions are taken
// against exactly one snapshot.
type snapshot struct {
	version   uint64
	hash      [32]byte
	digestHex string // hex of hash, "" without a Source
	loadedAt  time.Time
	rules     int

	enf     Enforcer // oracle / fallback evaluator
	toks    []tokenKind
	idx     *index      // nil: evaluate with enf
	scopes  *scopeIndex // nil: the model has no p2 section
	attrs   bool        // the model has an attrs token
	explain bool        // enf implements ExplainingEnforcer
	// perSubject: a role model, evaluated with one subject per Enforce
	// call (roles.go); rulePos maps rule text to policy position for it.
	perSubject bool
	rulePos    map[string]int
	cache      *decisionCache
	schema     *schema // declared attributes; set when attrs is
	args       bool    // the model has an args token
	decls      *inspect.ArgDecls
	argScp     argScopes // p3 rules (args.go)
	listing    Enforcer  // relaxed policy for list visibility (listing.go); nil: none
}

// compiler holds what stays fixed across reloads.
type compiler struct {
	modelText    string
	model        model.Model
	toks         []tokenKind
	fam          *family
	hasScopes    bool
	perSubject   bool // role model: g(r.sub, ...)
	allowEmpty   bool
	args         *inspect.ArgDecls
	disableIndex bool
	cache        cacheLimits
	val          *validator
	matchBytes   int // per-object glob match-set cache budget
}

func newCompiler(cfg Config) (*compiler, error) {
	limits, err := cacheLimitsOf(cfg)
	if err != nil {
		return nil, err
	}
	m, err := parseModel(cfg.Model)
	if err != nil {
		return nil, err
	}
	toks, err := requestTokens(m["r"]["r"].Tokens, "r_")
	if err != nil {
		return nil, err
	}
	if !slices.Contains(toks, tokSub) || !slices.Contains(toks, tokObj) || !slices.Contains(toks, tokAct) {
		return nil, fmt.Errorf("%w: the request must have sub, obj and act tokens", ErrModel)
	}
	if err := checkSubUse(m); err != nil {
		return nil, err
	}
	hasScopes, err := checkScopeSection(m)
	if err != nil {
		return nil, err
	}
	val, err := newValidator(m, LintOptions{Attributes: cfg.Attributes, AllowEmptyPolicy: cfg.AllowEmptyPolicy, Issuers: cfg.Issuers, Args: cfg.Args})
	if err != nil {
		return nil, err
	}
	c := &compiler{
		modelText: cfg.Model, model: m, toks: toks, hasScopes: hasScopes,
		allowEmpty: cfg.AllowEmptyPolicy, disableIndex: cfg.DisableIndex, cache: limits,
		val: val, matchBytes: cfg.MatchCacheBytes, perSubject: perSubjectModel(m),
		args: cfg.Args,
	}
	if c.matchBytes == 0 {
		c.matchBytes = DefaultMatchCacheBytes
	}
	if !cfg.DisableIndex {
		c.fam = detectFamily(m)
	}
	return c, nil
}

// compile builds and validates a new snapshot from policy text. It never
// touches a live snapshot.
func (c *compiler) compile(text []byte) (*snapshot, error) {
	if err := c.val.validate(text); err != nil {
		return nil, err
	}
	lines, err := ParsePolicy(c.model, text)
	if err != nil {
		return nil, err
	}
	if len(lines) == 0 && !c.allowEmpty {
		return nil, fmt.Errorf("%w: the policy has no rules (empty or truncated file?)", ErrPolicy)
	}
	if err := validateGlobs(c.model, lines); err != nil {
		return nil, err
	}
	if err := validateEvalColumns(c.model, lines); err != nil {
		return nil, err
	}
	hasArgs := slices.Contains(c.toks, tokArgs)
	argScp, err := compileArgScopes(c.model, lines)
	if err != nil {
		return nil, err
	}
	e, m, err := newCasbin(c.modelText, lines)
	if err != nil {
		return nil, err
	}
	s := &snapshot{
		enf: e, toks: c.toks, attrs: slices.Contains(c.toks, tokAttrs), explain: true,
		cache: newDecisionCache(c.cache), rules: len(lines), schema: c.val.attrs,
		perSubject: c.perSubject,
		args:       hasArgs, decls: c.args, argScp: argScp,
	}
	if c.perSubject {
		s.rulePos = rulePositions(m["p"]["p"].Policy)
	}
	if s.listing, err = c.compileListing(lines); err != nil {
		return nil, err
	}
	if err := s.probe(); err != nil {
		return nil, err
	}
	if c.hasScopes {
		s.scopes = compileScopes(m["p"]["p2"].Policy, c.matchBytes/2)
	}
	if c.fam != nil {
		if s.idx, err = compileIndex(*c.fam, m["p"]["p"].Policy, c.matchBytes/2); err != nil {
			return nil, err
		}
		if c.fam.roles {
			s.idx.roles = compileRoles(m)
		}
	}
	return s, nil
}

// validateGlobs rejects invalid glob patterns in object columns, which
// Casbin would only report (as an error) when a request reaches them.
func validateGlobs(m model.Model, lines []Line) error {
	var errs []string
	for _, l := range lines {
		ast := m["p"][l.PType]
		if ast == nil {
			continue
		}
		for i, tok := range ast.Tokens {
			if strings.HasSuffix(tok, "_obj") && i < len(l.Fields) {
				if err := checkGlob(l.Fields[i]); err != nil {
					errs = append(errs, fmt.Sprintf("line %d: %v", l.Num, err))
				}
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrPolicy, strings.Join(errs, "; "))
	}
	return nil
}

// probe evaluates one synthetic request through Casbin, so that a model
// that cannot evaluate our requests (for example g(r.sub, p.sub) while r.sub
// is a list) is rejected at load time instead of failing every request.
func (s *snapshot) probe() error {
	p := &core.Principal{Kind: core.PrincipalUser, Subject: "casbinauthz-probe"}
	perm := core.Permission{Kind: core.ObjectTool, Name: "casbinauthz-probe", Action: core.ActionCall, Method: "tools/call"}
	q := &request{subs: DefaultSubjects(p), obj: perm.Object(), act: perm.Action, kind: string(p.Kind), dom: Domain(p)}
	if s.attrs {
		var err error
		if q.attrs, err = s.schema.build(p, perm); err != nil {
			return fmt.Errorf("%w: %v", ErrModel, err)
		}
	}
	if s.args {
		q.args = probeArgs(s.decls)
	}
	rv := q.rvals(s.toks)
	if s.perSubject {
		rv = q.rvalsOne(s.toks, q.subs[0])
	}
	if _, err := s.enf.Enforce(rv...); err != nil {
		return fmt.Errorf("%w: the model cannot evaluate a request: %v", ErrModel, err)
	}
	return nil
}

// decide evaluates the p rules for q.
func (s *snapshot) decide(q *request) (bool, string, error) {
	// Casbin compares objects rune by rune, so an invalid UTF-8 byte equals
	// U+FFFD; the index compares bytes. Such objects go to Enforce.
	if s.idx != nil && utf8.ValidString(q.obj) {
		return s.idx.decide(q)
	}
	if s.perSubject {
		return s.decidePerSubject(q)
	}
	rv := q.rvals(s.toks)
	if ee, ok := s.enf.(ExplainingEnforcer); ok && s.explain {
		ok, ex, err := ee.EnforceEx(rv...)
		if err != nil {
			return false, "", err
		}
		rule := ""
		if len(ex) > 0 {
			rule = "p, " + strings.Join(ex, ", ")
		}
		return ok, rule, nil
	}
	ok, err := s.enf.Enforce(rv...)
	return ok, "", err
}

// digest is the hex SHA-256 of the policy text ("" without a Source).
func (s *snapshot) digest() string { return s.digestHex }

var errNoPolicy = errors.New("casbinauthz: no policy loaded")
