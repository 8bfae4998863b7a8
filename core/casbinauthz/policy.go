package casbinauthz

import (
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/bmatcuk/doublestar/v4"
	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
)

// ErrPolicy marks a policy that cannot be loaded: a syntax error, an unknown
// policy type, a wrong field count, an invalid glob or an empty policy.
var ErrPolicy = errors.New("casbinauthz: invalid policy")

// ErrModel marks a model that cannot be used.
var ErrModel = errors.New("casbinauthz: invalid model")

// Line is one parsed policy line.
type Line struct {
	Num    int      // 1-based line number in the policy text
	PType  string   // "p", "p2", "g", ...
	Fields []string // the values after the policy type
}

// String formats the line as Casbin writes it: "p, sub, obj, act, eft".
func (l Line) String() string { return l.PType + ", " + strings.Join(l.Fields, ", ") }

// ParsePolicy parses policy text strictly against the model m: every
// non-blank, non-comment line must be one CSV record whose first field is a
// policy type the model defines, with exactly the model's number of fields.
// Parsing is the same as Casbin's (comma separated, leading spaces trimmed,
// double quotes for fields containing commas). Invalid UTF-8 is rejected.
func ParsePolicy(m model.Model, text []byte) ([]Line, error) {
	if !utf8.Valid(text) {
		return nil, fmt.Errorf("%w: not valid UTF-8", ErrPolicy)
	}
	var out []Line
	for i, raw := range strings.Split(string(text), "\n") {
		l, skip, err := parseLine(m, i+1, raw)
		if err != nil {
			return nil, err
		}
		if !skip {
			out = append(out, l)
		}
	}
	return out, nil
}

// parseLine parses one line; skip is true for blank and comment lines.
func parseLine(m model.Model, num int, raw string) (l Line, skip bool, err error) {
	s := strings.TrimSuffix(raw, "\r")
	if t := strings.TrimSpace(s); t == "" || strings.HasPrefix(t, "#") {
		return Line{}, true, nil
	}
	r := csv.NewReader(strings.NewReader(s))
	r.Comma = ','
	r.TrimLeadingSpace = true
	rec, err := r.Read()
	if err != nil {
		return Line{}, false, fmt.Errorf("%w: line %d: %v", ErrPolicy, num, err)
	}
	if len(rec) < 2 {
		return Line{}, false, fmt.Errorf("%w: line %d: no fields after the policy type", ErrPolicy, num)
	}
	pt := rec[0]
	want, err := fieldCount(m, pt)
	if err != nil {
		return Line{}, false, fmt.Errorf("%w: line %d: %v", ErrPolicy, num, err)
	}
	if len(rec)-1 != want {
		return Line{}, false, fmt.Errorf("%w: line %d: %s has %d fields, the model defines %d", ErrPolicy, num, pt, len(rec)-1, want)
	}
	return Line{Num: num, PType: pt, Fields: rec[1:]}, false, nil
}

func fieldCount(m model.Model, ptype string) (int, error) {
	if ptype == "" {
		return 0, errors.New("empty policy type")
	}
	sec := ptype[:1]
	if sec != "p" && sec != "g" {
		return 0, fmt.Errorf("unknown policy type %q", ptype)
	}
	ast, ok := m[sec][ptype]
	if !ok {
		return 0, fmt.Errorf("policy type %q is not defined by the model", ptype)
	}
	if sec == "g" {
		return strings.Count(ast.Value, "_"), nil
	}
	return len(ast.Tokens), nil
}

// strictAdapter feeds pre-parsed lines to Casbin. It is read-only.
type strictAdapter struct{ lines []Line }

func (a *strictAdapter) LoadPolicy(m model.Model) error {
	for _, l := range a.lines {
		rule := append([]string{l.PType}, l.Fields...)
		if err := persist.LoadPolicyArray(rule, m); err != nil {
			return fmt.Errorf("%w: line %d: %v", ErrPolicy, l.Num, err)
		}
	}
	return nil
}

var errReadOnly = errors.New("casbinauthz: policy is read-only; edit the source")

func (a *strictAdapter) SavePolicy(model.Model) error                { return errReadOnly }
func (a *strictAdapter) AddPolicy(string, string, []string) error    { return errReadOnly }
func (a *strictAdapter) RemovePolicy(string, string, []string) error { return errReadOnly }
func (a *strictAdapter) RemoveFilteredPolicy(string, string, int, ...string) error {
	return errReadOnly
}

// newCasbin builds a fresh enforcer from model text and parsed lines.
func newCasbin(modelText string, lines []Line) (*casbin.Enforcer, model.Model, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrModel, err)
	}
	e, err := casbin.NewEnforcer(m, &strictAdapter{lines: lines})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrPolicy, err)
	}
	e.EnableLog(false)
	e.EnableAutoSave(false)
	return e, e.GetModel(), nil
}

// parseModel loads model text once to validate it and to parse policies.
func parseModel(modelText string) (model.Model, error) {
	if strings.TrimSpace(modelText) == "" {
		return nil, fmt.Errorf("%w: empty model", ErrModel)
	}
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrModel, err)
	}
	for _, sec := range []string{"r", "p", "e", "m"} {
		if _, ok := m[sec][sec]; !ok {
			return nil, fmt.Errorf("%w: missing %s definition", ErrModel, sec)
		}
	}
	return m, nil
}

// hasGlobMeta reports whether a pattern has doublestar metacharacters; a
// pattern without them matches only itself.
func hasGlobMeta(p string) bool { return strings.ContainsAny(p, `*?[]{}\`) }

// checkGlob validates a glob pattern used with globMatch.
func checkGlob(p string) error {
	if hasGlobMeta(p) && !doublestar.ValidatePattern(p) {
		return fmt.Errorf("invalid glob pattern %q", p)
	}
	return nil
}

// literalPrefix is a prefix every string matched by the glob p has: the
// part before the first metacharacter, cut before its last "/" because
// doublestar lets "a/**" match "a" (the slash and ** may match nothing).
func literalPrefix(p string) string {
	i := strings.IndexAny(p, `*?[]{}\`)
	if i < 0 {
		return p
	}
	pre := p[:i]
	if j := strings.LastIndexByte(pre, '/'); j >= 0 {
		pre = pre[:j]
	}
	return pre
}
