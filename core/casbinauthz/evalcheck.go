package casbinauthz

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/util"
	"github.com/casbin/govaluate"
)

var evalArg = regexp.MustCompile(`\beval\(\s*(p[0-9]*_[A-Za-z0-9_]+)\s*\)`)

// validateEvalColumns parses, at load time, every policy field that the
// matcher passes to eval(), the way Casbin will at request time. A
// condition that does not parse would otherwise turn every request that
// reaches it into an evaluation error.
func validateEvalColumns(m model.Model, lines []Line) error {
	fm := model.LoadFunctionMap()
	funcs := fm.GetFunctions()
	funcs["eval"] = func(...any) (any, error) { return false, nil }
	for key := range m["g"] {
		funcs[key] = func(...any) (any, error) { return false, nil }
	}
	var errs []string
	for _, mast := range m["m"] {
		for _, sub := range evalArg.FindAllStringSubmatch(mast.Value, -1) {
			tok := sub[1]
			ptype := tok[:strings.Index(tok, "_")]
			ast := m["p"][ptype]
			if ast == nil {
				continue
			}
			col := -1
			for i, t := range ast.Tokens {
				if t == tok {
					col = i
				}
			}
			if col < 0 {
				continue
			}
			for _, l := range lines {
				if l.PType != ptype || col >= len(l.Fields) {
					continue
				}
				if _, err := govaluate.NewEvaluableExpressionWithFunctions(util.EscapeAssertion(l.Fields[col]), funcs); err != nil {
					errs = append(errs, fmt.Sprintf("line %d: condition %q: %v", l.Num, l.Fields[col], err))
				}
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrPolicy, strings.Join(errs, "; "))
	}
	return nil
}
