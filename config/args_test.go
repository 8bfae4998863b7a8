package config

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// The arguments section reaches both the Guard's inspection and the
// authorizer, so the abac_args sample policy loads from a file.
func TestArgumentsSection(t *testing.T) {
	dir := t.TempDir()
	sample, _ := casbinmodels.SamplePolicy("abac_args")
	if err := os.WriteFile(filepath.Join(dir, "policy.csv"), []byte(sample), 0o600); err != nil {
		t.Fatal(err)
	}
	doc := `resource: https://mcp.example.com/mcp
issuers: [{preset: okta, domain: acme.okta.com}]
model: abac_args
policy: {files: [policy.csv]}
arguments:
  - tool: deploy
    args:
      - {name: environment, type: string, max_bytes: 32}
      - {name: service, type: string, default: ""}
  - tool: git_*
    args: [{name: repo, type: string}]
  - tool: tickets_*
    args:
      - {name: queue, type: string}
      - {name: labels, type: strings, default: []}
  - resource: docs://payroll/{year}
    args: [{name: year, type: number}]
`
	f, err := Parse([]byte(doc), Options{LookupEnv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Build(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a := b.Config.Inspect.Args
	if a.Type("labels") != inspect.ArgStringList || a.Type("environment") != inspect.ArgString {
		t.Fatalf("declarations not built: %v", a.Names())
	}
	if !slices.Equal(a.Names(), []string{"environment", "service", "repo", "queue", "labels", "year"}) {
		t.Fatalf("names %v", a.Names())
	}
	if b.Authorizer.Stats().Rules == 0 {
		t.Fatal("no rules loaded")
	}

	// Without the section the same policy is refused (undeclared r.args).
	f.Arguments = nil
	if _, err := f.Build(context.Background(), dir, Options{}); err == nil || !strings.Contains(err.Error(), "not a declared argument") {
		t.Fatalf("policy reading undeclared arguments accepted: %v", err)
	}
}

func TestArgDeclsErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		tools []FileToolArgs
		want  string
	}{
		{"unknown type", []FileToolArgs{{Tool: "t", Args: []FileArg{{Name: "a", Type: "int"}}}}, `type "int"`},
		{"number default not a number", []FileToolArgs{{Tool: "t", Args: []FileArg{{Name: "a", Type: "number", Default: "3"}}}}, "is not a number"},
		{"list default with a number", []FileToolArgs{{Tool: "t", Args: []FileArg{{Name: "a", Type: "strings", Default: []any{"x", 3}}}}}, "not a string"},
		{"bool default a string", []FileToolArgs{{Tool: "t", Args: []FileArg{{Name: "a", Type: "bool", Default: "yes"}}}}, "does not fit"},
		{"no args", []FileToolArgs{{Tool: "t"}}, "declares no argument"},
		{"tool and resource", []FileToolArgs{{Tool: "t", Resource: "x://{a}"}}, "exactly one of tool and resource"},
		{"bad template", []FileToolArgs{{Resource: "x://a{b}"}}, "must start a path segment"},
		{"bad name", []FileToolArgs{{Tool: "t", Args: []FileArg{{Name: "a.b", Type: "string"}}}}, "bad argument name"},
	} {
		_, err := ArgDecls(c.tools)
		if err == nil || !errors.Is(err, inspect.ErrArgDecl) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrArgDecl containing %q", c.name, err, c.want)
		}
	}
	if d, err := ArgDecls([]FileToolArgs{{Tool: "t", Args: []FileArg{{Name: "n", Type: "number", Default: 3}}}}); err != nil || d.For("t")[0].Default != 3.0 {
		t.Fatalf("int default: %v", err)
	}
}

// TestArgDeclsNullable: nullable: true reaches the declaration, so an
// explicit null counts as absent (the default) instead of a 400.
func TestArgDeclsNullable(t *testing.T) {
	for _, nullable := range []bool{false, true} {
		d, err := ArgDecls([]FileToolArgs{{Tool: "deploy", Args: []FileArg{{Name: "env", Type: "string", Default: "staging", Nullable: nullable}}}})
		if err != nil {
			t.Fatal(err)
		}
		body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"deploy","arguments":{"env":null}}}`
		h := http.Header{"Content-Type": {"application/json"}, "Mcp-Protocol-Version": {inspect.Version20250618}}
		r, err := inspect.Inspect(http.MethodPost, h, []byte(body), inspect.Options{Args: d})
		if nullable && (err != nil || r.Messages[0].Args["env"] != "staging") {
			t.Errorf("nullable: %v", err)
		}
		if !nullable && err == nil {
			t.Error("null accepted without nullable")
		}
	}
}
