package casbinauthz

import (
	"fmt"
	"slices"
	"strings"

	"github.com/casbin/casbin/v2/model"
	"github.com/mcpauthz/mcpauthz/core"
)

// LintOptions are the settings of the authorizer that change what a valid
// policy is. [Config] carries the same fields; pass them here so that lint
// and the authorizer agree.
type LintOptions struct {
	// Attributes are the declared ABAC attributes (see Config.Attributes).
	Attributes []core.AttributeSpec
	// AllowEmptyPolicy accepts a policy without rules.
	AllowEmptyPolicy bool
}

// validator is the ONE policy validator: [LintWith] reports its findings,
// and [New], Reload and Watch refuse any policy with an error finding.
type validator struct {
	model      model.Model
	attrs      *schema // nil: the model has no attrs token
	allowEmpty bool
}

func newValidator(m model.Model, opts LintOptions) (*validator, error) {
	v := &validator{model: m, allowEmpty: opts.AllowEmptyPolicy}
	toks, err := requestTokens(m["r"]["r"].Tokens, "r_")
	if err != nil {
		return nil, err
	}
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
