package casbinauthz

import (
	"fmt"
	"slices"
	"strings"

	"github.com/casbin/casbin/v2/model"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// LintOptions are the settings of the authorizer that change what a valid
// policy is. [Config] carries the same fields; pass them here so that lint
// and the authorizer agree.
type LintOptions struct {
	// Attributes are the declared ABAC attributes (see Config.Attributes).
	Attributes []core.AttributeSpec
	// AllowEmptyPolicy accepts a policy without rules.
	AllowEmptyPolicy bool
	// Issuers are the issuer namespaces (see Config.Issuers): with more
	// than one, subjects and domains without an alias are reported.
	Issuers []Issuer
	// Args are the tool-argument declarations (see Config.Args): r.args
	// references are checked against them (argslint.go).
	Args *inspect.ArgDecls
}

// validator is the ONE policy validator: [LintWith] reports its findings,
// and [New], Reload and Watch refuse any policy with an error finding.
type validator struct {
	model      model.Model
	attrs      *schema // nil: the model has no attrs token
	allowEmpty bool
	aliases    []string // namespaced issuers' aliases; nil: subjects are not namespaced
	args       *inspect.ArgDecls
	hasArgs    bool // the model has an args token
}

func newValidator(m model.Model, opts LintOptions) (*validator, error) {
	v := &validator{model: m, allowEmpty: opts.AllowEmptyPolicy}
	is, err := newIssuerSet(opts.Issuers)
	if err != nil {
		return nil, err
	}
	if is != nil && is.namespaced {
		for _, i := range opts.Issuers {
			v.aliases = append(v.aliases, i.Alias)
		}
	}
	toks, err := requestTokens(m["r"]["r"].Tokens, "r_")
	if err != nil {
		return nil, err
	}
	v.args, v.hasArgs = opts.Args, slices.Contains(toks, tokArgs)
	if slices.Contains(toks, tokAttrs) {
		if v.attrs, err = newSchema(opts.Attributes); err != nil {
			return nil, err
		}
		for _, ast := range m["m"] {
			if bad := v.attrs.undeclaredAttrs(ast.Value); len(bad) > 0 {
				return nil, fmt.Errorf("%w: the matcher references undeclared attributes %s", ErrModel, strings.Join(bad, ", "))
			}
		}
	} else if len(opts.Attributes) > 0 {
		return nil, fmt.Errorf("%w: Config.Attributes is set but the model has no attrs request token", ErrModel)
	}
	return v, nil
}

// validate returns an error wrapping ErrPolicy that lists every error
// finding of the policy, or nil.
func (v *validator) validate(text []byte) error {
	var errs []string
	for _, f := range v.lint(text) {
		if f.Severity == SeverityError {
			errs = append(errs, fmt.Sprintf("line %d: %s", f.Line, f.Message))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	const maxShown = 10
	more := ""
	if len(errs) > maxShown {
		more = fmt.Sprintf("; and %d more (run mcpauthz lint)", len(errs)-maxShown)
		errs = errs[:maxShown]
	}
	return fmt.Errorf("%w: %s%s", ErrPolicy, strings.Join(errs, "; "), more)
}

// subjectProblem describes why a rule subject matches no caller, or "".
func (v *validator) subjectProblem(sub string) string {
	if sub == AnySubject {
		return ""
	}
	if v.aliases == nil {
		if hasTypedPrefix(sub) {
			return ""
		}
		return fmt.Sprintf("subject %q has no known prefix (%s or *): it matches no caller", sub, strings.Join(subjectPrefixes, " "))
	}
	alias, rest, ok := strings.Cut(sub, "/")
	if ok && slices.Contains(v.aliases, alias) {
		if rest == AnySubject || hasTypedPrefix(rest) {
			return ""
		}
		if _, r2, ok := strings.Cut(rest, "/"); ok && (r2 == AnySubject || hasTypedPrefix(r2)) {
			return ""
		}
	}
	return fmt.Sprintf("subject %q matches no caller: with several issuers subjects are <alias>[/<tenant>]/<type>:<name> or <alias>[/<tenant>]/* (aliases: %s)", sub, strings.Join(v.aliases, ", "))
}

// domainProblem describes why a rule domain matches no caller, or "".
func (v *validator) domainProblem(dom string) string {
	if v.aliases == nil || dom == "*" {
		return ""
	}
	alias, _, _ := strings.Cut(dom, "/")
	if slices.Contains(v.aliases, alias) {
		return ""
	}
	return fmt.Sprintf("domain %q matches no caller: with several issuers domains are <alias> or <alias>/<tenant> (aliases: %s)", dom, strings.Join(v.aliases, ", "))
}
