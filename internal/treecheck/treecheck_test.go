package treecheck

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTree runs the rules over every module of the Makefile's MODULES list,
// which `make test` and `make lint` both run.
func TestTree(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	mods, err := MakefileModules(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) < 2 || mods[0] != "." {
		t.Fatalf("MODULES = %q, want the root module first and the others after it", mods)
	}
	for _, m := range mods {
		vs, err := Module(filepath.Join(root, m), root)
		if err != nil {
			t.Fatalf("module %s: %v", m, err)
		}
		for _, v := range vs {
			t.Error(v)
		}
	}
}

// TestPlanted proves that the check fails on planted violations and passes
// the allowed shapes next to them.
func TestPlanted(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		want []string
	}{
		{"bad", "testdata/bad", []string{
			"bad.go:13: exported-var: package-level var Default (make it a const or a function)",
			"bad.go:21: internal-type: Take exposes example.com/bad/internal/inner.Key",
			"bad.go:25: internal-type: Config.Keys exposes example.com/bad/internal/inner.Key",
			"bad.go:31: internal-type: Source.Get exposes example.com/bad/internal/inner.Key",
			"bad.go:35: internal-type: Alias exposes example.com/bad/internal/inner.Key",
			"bad.go:38: internal-type: Config.Get exposes example.com/bad/internal/inner.Key",
			"internal/inner/inner.go:7: exported-var: package-level var Counter (make it a const or a function)",
		}},
		{"good", "testdata/good", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir, err := filepath.Abs(tt.dir)
			if err != nil {
				t.Fatal(err)
			}
			vs, err := Module(dir, dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range vs {
				got = append(got, v.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestMakefileModules(t *testing.T) {
	if _, err := MakefileModules(filepath.Join("testdata", "bad", "go.mod")); err == nil {
		t.Error("a file without MODULES := was accepted")
	}
}

// TestAdapterWrappersThin keeps the net/http, chi and gin adapters thin
// wrappers of core's one adapter body (issue 11): at most 100 lines each.
// fiber keeps its own body and is not listed.
func TestAdapterWrappersThin(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, f := range []string{"adapters/nethttp/httpmcp.go", "adapters/chi/chimcp.go", "adapters/gin/ginmcp.go"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if n := bytes.Count(b, []byte("\n")); n > 100 {
			t.Errorf("%s has %d lines, want at most 100: the adapter body belongs in core (Guard.Serve)", f, n)
		}
	}
}
