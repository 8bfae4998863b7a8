package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const (
	qsModel  = "../../casbinmodels/quickstart.conf"
	qsPolicy = "../../casbinmodels/quickstart.csv"
)

const argsPolicy = "../../casbinmodels/abac_args.csv"

// sampleArgDecls are the declarations of the abac_args sample policy.
var sampleArgDecls = []string{
	"-arg-decl", "deploy:environment:string", "-arg-decl", "deploy:service:string=",
	"-arg-decl", "git_*:repo:string",
	"-arg-decl", "tickets_*:queue:string", "-arg-decl", "tickets_*:labels:strings=",
	"-arg-decl", "docs://payroll/{year}:year:number",
}

func explainWithArgs(claims, tool, args string) []string {
	a := append([]string{"explain", "-model", "abac_args", "-policy", argsPolicy, "-claims", "testdata/" + claims,
		"-method", "tools/call", "-target", tool}, sampleArgDecls...)
	if args != "" {
		a = append(a, "-args", args)
	}
	return a
}

func explain(claims, method, target string, extra ...string) []string {
	a := []string{"explain", "-model", qsModel, "-policy", qsPolicy, "-claims", "testdata/" + claims, "-method", method}
	if target != "" {
		a = append(a, "-target", target)
	}
	return append(a, extra...)
}

// TestGolden runs each command and compares stdout, stderr and the exit
// code with testdata/<name>.golden. Run with -update to rewrite them.
func TestGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"explain-alice-echo", explain("alice.json", "tools/call", "echo"), 0},
		{"explain-alice-deploy-stepup", explain("alice.json", "tools/call", "deploy"), 1},
		{"explain-alice-deploy-scopes", explain("alice.json", "tools/call", "deploy", "-scopes", "mcp:tools mcp:deploy"), 0},
		{"explain-bob-deploy-deny", explain("bob.json", "tools/call", "deploy"), 1},
		{"explain-carol-payroll", explain("carol.json", "resources/read", "docs://payroll"), 0},
		{"explain-bob-payroll", explain("bob.json", "resources/read", "docs://payroll"), 1},
		{"explain-alice-prompt", explain("alice.json", "prompts/get", "incident_review"), 0},
		{"explain-ci-bot-deploy", explain("ci-bot.json", "tools/call", "deploy"), 0},
		{"explain-tools-list", explain("bob.json", "tools/list", ""), 0},
		{"explain-unknown-method", explain("bob.json", "tools/execute", "x"), 2},
		{"explain-missing-target", explain("bob.json", "tools/call", ""), 2},
		{"explain-duplicate-claim", explain("dup.json", "tools/call", "echo"), 2},
		{"explain-token-file", []string{"explain", "-model", qsModel, "-policy", qsPolicy, "-token-file", "testdata/alice.jwt", "-method", "tools/call", "-target", "deploy"}, 0},
		{"explain-both-inputs", []string{"explain", "-model", qsModel, "-policy", qsPolicy, "-claims", "testdata/alice.json", "-token-file", "testdata/alice.jwt", "-method", "ping"}, 2},
		{"explain-broken-policy", []string{"explain", "-model", qsModel, "-policy", "testdata/broken.csv", "-claims", "testdata/alice.json", "-method", "ping"}, 2},
		// The config's mapper (Okta layout, namespaced groups claim) decides:
		// engineering may deploy (with the deploy scope), and the list shows
		// what the caller would see.
		{"explain-config-okta-deploy", []string{"explain", "-config", "testdata/okta-guard.yaml", "-token", "testdata/okta-alice.json", "-method", "tools/call", "-name", "deploy", "-scopes", "mcp:tools mcp:deploy"}, 0},
		{"explain-config-okta-list", []string{"explain", "-config", "testdata/okta-guard.yaml", "-token", "testdata/okta-alice.json", "-method", "tools/list", "-tools", "echo,deploy,delete_repo,list_tickets"}, 0},
		{"explain-config-untrusted-issuer", []string{"explain", "-config", "testdata/okta-guard.yaml", "-token", "testdata/alice.json", "-method", "tools/call", "-name", "echo"}, 2},
		{"explain-shipped-model", []string{"explain", "-model", "quickstart", "-policy", qsPolicy, "-claims", "testdata/alice.json", "-method", "tools/call", "-target", "echo"}, 0},
		// Argument-aware policy (issue 15): the declared arguments, typed,
		// and the deciding rule; refusals the Guard answers before the
		// policy; declarations from flags or from the config file.
		{"explain-args-staging", explainWithArgs("alice.json", "deploy", `{"environment":"staging","service":"web","undeclared":1}`), 0},
		{"explain-args-prod", explainWithArgs("alice.json", "deploy", `{"environment":"prod"}`), 1},
		{"explain-args-stepup", explainWithArgs("carol.json", "deploy", `{"environment":"production"}`), 1},
		{"explain-args-missing", explainWithArgs("alice.json", "deploy", ""), 1},
		{"explain-args-mistyped", explainWithArgs("alice.json", "deploy", `{"environment":3}`), 1},
		{"explain-args-labels", explainWithArgs("ci-bot.json", "tickets_read", `{"queue":"support","labels":["security"]}`), 1},
		{"explain-args-not-call", append([]string{"explain", "-model", "abac_args", "-policy", argsPolicy, "-claims", "testdata/alice.json", "-method", "resources/read", "-target", "docs://x", "-args", `{}`}, sampleArgDecls...), 2},
		{"explain-args-payroll", append([]string{"explain", "-model", "abac_args", "-policy", argsPolicy, "-claims", "testdata/finance.json", "-method", "resources/read", "-target", "docs://payroll/2024"}, sampleArgDecls...), 0},
		{"explain-args-payroll-archived", append([]string{"explain", "-model", "abac_args", "-policy", argsPolicy, "-claims", "testdata/finance.json", "-method", "resources/read", "-target", "docs://payroll/2019"}, sampleArgDecls...), 1},
		{"explain-args-payroll-hr", append([]string{"explain", "-model", "abac_args", "-policy", argsPolicy, "-claims", "testdata/carol.json", "-method", "resources/read", "-target", "docs://payroll/2024"}, sampleArgDecls...), 1},
		{"explain-args-payroll-traversal", append([]string{"explain", "-model", "abac_args", "-policy", argsPolicy, "-claims", "testdata/finance.json", "-method", "resources/read", "-target", "docs://payroll/..%2Fhr"}, sampleArgDecls...), 1},
		{"explain-args-undeclared", []string{"explain", "-model", "abac_args", "-policy", argsPolicy, "-claims", "testdata/alice.json", "-method", "tools/call", "-target", "deploy"}, 2},
		{"explain-args-config", []string{"explain", "-config", "testdata/args-guard.yaml", "-token", "testdata/okta-alice.json", "-method", "tools/call", "-name", "deploy", "-args", `{"environment":"staging"}`}, 0},
		{"explain-args-list", []string{"explain", "-config", "testdata/args-guard.yaml", "-token", "testdata/okta-alice.json", "-method", "tools/list", "-tools", "deploy,git_push,tickets_read"}, 0},
		{"lint-args", append([]string{"lint", "-model", "../../casbinmodels/abac_args.conf", "-policy", argsPolicy, "-arg-decl", "orphan:x:number"}, sampleArgDecls...), 0},
		{"lint-args-typo", append([]string{"lint", "-model", "../../casbinmodels/abac_args.conf", "-policy", "testdata/args-typo.csv"}, sampleArgDecls...), 1},
		{"metadata-config", []string{"metadata", "-config", "testdata/okta-guard.yaml"}, 0},
		{"lint-quickstart", []string{"lint", "-model", qsModel, "-policy", qsPolicy}, 0},
		{"lint-broken", []string{"lint", "-model", qsModel, "-policy", "testdata/broken.csv"}, 1},
		{"lint-missing-flags", []string{"lint", "-model", qsModel}, 2},
		{"metadata", []string{"metadata", "-config", "testdata/metadata.json"}, 0},
		{"metadata-invalid", []string{"metadata", "-config", "testdata/metadata-bad.json"}, 2},
		{"no-command", nil, 2},
		{"unknown-command", []string{"frobnicate"}, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(c.args, &stdout, &stderr)
			if code != c.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, &stdout, &stderr)
			}
			got := fmt.Sprintf("%s--- stderr ---\n%s--- exit %d\n", &stdout, &stderr, code)
			testkit.Golden(t, filepath.Join("testdata", c.name+".golden"), []byte(got), *update)
		})
	}
}

func TestJWTPayloadErrors(t *testing.T) {
	t.Parallel()
	for _, tok := range []string{"", "a.b", "a.!!!.c", "a.b.c.d.e"} {
		if _, err := jwtPayload([]byte(tok)); err == nil {
			t.Errorf("%q: no error", tok)
		}
	}
}

func FuzzParseClaims(f *testing.F) {
	f.Add([]byte(`{"sub":"a","groups":["x"]}`))
	f.Add([]byte(`{"sub":"a","sub":"b"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseClaims(b)
		if err != nil {
			return
		}
		if c.Raw.Len() == 0 {
			t.Fatal("no Raw claims")
		}
		m, err := standardMapper()
		if err != nil {
			t.Fatal(err)
		}
		_, _ = m.MapClaims(context.Background(), c)
	})
}
