package casbinauthz

import (
	"errors"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// Lint checks argument declarations against the policy: undeclared names
// and type mismatches are errors (and refuse the load), unused
// declarations are warnings (and do not).
func TestLintArgs(t *testing.T) {
	decls, err := inspect.NewArgDecls([]inspect.ToolArgs{
		{Tool: "deploy", Args: []inspect.ArgSpec{
			{Name: "environment", Type: inspect.ArgString},
			{Name: "replicas", Type: inspect.ArgNumber},
			{Name: "dry_run", Type: inspect.ArgBool},
			{Name: "labels", Type: inspect.ArgStringList},
		}},
		{Tool: "orphan_*", Args: []inspect.ArgSpec{{Name: "unused", Type: inspect.ArgString}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	model, _ := casbinmodels.Model("abac_args")
	const base = "p, group:eng, tool:deploy, call, \"r.args.environment != '' && r.args.dry_run == true && 'a' in r.args.labels && r.args.replicas > 0\", allow\n"
	for _, c := range []struct {
		name, rule string
		errs       []string // substrings of error findings, in order
	}{
		{"clean", "p, group:eng, tool:deploy, call, r.args.environment == 'staging', allow", nil},
		{"literal on the left", "p, group:eng, tool:deploy, call, 'staging' != r.args.environment, deny", nil},
		{"number compared", "p, group:eng, tool:deploy, call, r.args.replicas <= 3, allow", nil},
		{"undeclared", "p, group:eng, tool:deploy, call, r.args.enviroment == 'staging', allow", []string{"r.args.enviroment is not a declared argument"}},
		{"string vs number", "p, group:eng, tool:deploy, call, r.args.environment == 3, deny", []string{"r.args.environment is a string compared with the number 3"}},
		{"number vs string", "p, group:eng, tool:deploy, call, r.args.replicas == 'three', allow", []string{"r.args.replicas is a number compared with the string 'three'"}},
		{"number vs string, literal left", "p, group:eng, tool:deploy, call, \"'3' == r.args.replicas\", allow", []string{"r.args.replicas is a number compared with the string '3'"}},
		{"bool vs string", "p, group:eng, tool:deploy, call, r.args.dry_run == 'true', allow", []string{"r.args.dry_run is a bool compared with the string 'true'"}},
		{"bool ordered", "p, group:eng, tool:deploy, call, r.args.dry_run > false, allow", []string{"r.args.dry_run is a bool compared with >"}},
		{"list vs scalar", "p, group:eng, tool:deploy, call, r.args.labels == 'x', deny", []string{"r.args.labels is a string list compared with 'x'"}},
		{"in on a scalar", "p, group:eng, tool:deploy, call, \"'x' in r.args.environment\", deny", []string{"membership test (in) on r.args.environment, a string"}},
		{"glob on a number", "p, group:eng, tool:deploy, call, \"globMatch(r.args.replicas, '1*')\", allow", []string{"globMatch on r.args.replicas, a number"}},
		{"regex operator on a list", "p, group:eng, tool:deploy, call, r.args.labels =~ 'x', allow", []string{"r.args.labels is a string list matched with =~"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			policy := base + c.rule + "\n"
			var errs, warns []string
			for _, f := range LintWith(model, []byte(policy), LintOptions{Args: decls}) {
				if f.Severity == SeverityError {
					errs = append(errs, f.Message)
				} else {
					warns = append(warns, f.Message)
				}
			}
			if len(errs) != len(c.errs) {
				t.Fatalf("errors %q, want %d matching %q", errs, len(c.errs), c.errs)
			}
			for i, want := range c.errs {
				if !strings.Contains(errs[i], want) {
					t.Errorf("error %q lacks %q", errs[i], want)
				}
			}
			wantWarn := []string{`tool "orphan_*" but no rule's object mentions it`, `declared argument "unused" is never read`}
			if len(warns) != len(wantWarn) {
				t.Fatalf("warnings %q, want %q", warns, wantWarn)
			}
			for i, w := range wantWarn {
				if !strings.Contains(warns[i], w) {
					t.Errorf("warning %q lacks %q", warns[i], w)
				}
			}
			// A load refuses exactly the policies with errors.
			_, err := New(Config{Model: model, Args: decls, Source: StringSource(policy)})
			if (err != nil) != (len(c.errs) > 0) || (err != nil && !errors.Is(err, ErrPolicy)) {
				t.Errorf("load: %v, want an error: %v", err, len(c.errs) > 0)
			}
		})
	}
}

// r.args in a model without an args token is an error at line 0 for the
// matcher and at the line for a rule.
func TestLintArgsWithoutToken(t *testing.T) {
	model, _ := casbinmodels.Model("abac")
	f := LintWith(model, []byte("p, *, tool:deploy, call, r.args.environment == 'x', allow\n"), LintOptions{})
	found := false
	for _, x := range f {
		found = found || (x.Severity == SeverityError && x.Line == 1 && strings.Contains(x.Message, "no args request token"))
	}
	if !found {
		t.Fatalf("findings %v lack the missing-token error", f)
	}
}
