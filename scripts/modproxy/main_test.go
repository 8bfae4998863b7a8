package main

import (
	"strings"
	"testing"
)

func TestRewriteGoMod(t *testing.T) {
	in := `module github.com/mcpauthz/mcpauthz/adapters/gin

go 1.25.0

require (
	github.com/gin-gonic/gin v1.12.0
	github.com/mcpauthz/mcpauthz v0.0.0-20261202061834-40885e4236b8
)

replace github.com/mcpauthz/mcpauthz => ../..
`
	out, err := rewriteGoMod([]byte(in), "github.com/mcpauthz/mcpauthz", "v0.0.1-test")
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if !strings.Contains(s, "github.com/mcpauthz/mcpauthz v0.0.1-test") || strings.Contains(s, "replace") ||
		!strings.Contains(s, "github.com/gin-gonic/gin v1.12.0") {
		t.Fatalf("rewritten go.mod:\n%s", s)
	}
}

func TestInModule(t *testing.T) {
	dirs := []string{".", "adapters/gin", "adapters/gin/x"}
	for _, tc := range []struct {
		f, dir, rel string
		ok          bool
	}{
		{"core/guard.go", ".", "core/guard.go", true},
		{"adapters/gin/ginmcp.go", ".", "", false},
		{"adapters/gin/ginmcp.go", "adapters/gin", "ginmcp.go", true},
		{"adapters/gin/x/y.go", "adapters/gin", "", false},
		{"adapters/ginx/y.go", ".", "adapters/ginx/y.go", true},
	} {
		rel, ok := inModule(tc.f, tc.dir, dirs)
		if rel != tc.rel || ok != tc.ok {
			t.Errorf("inModule(%q, %q) = %q, %v", tc.f, tc.dir, rel, ok)
		}
	}
}

func TestInTestdata(t *testing.T) {
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"go.mod", false},
		{"stores/redis/go.mod", false},
		{"internal/treecheck/testdata/bad/go.mod", true},
		{"testdata/go.mod", true},
		{"mytestdata/go.mod", false},
	} {
		if got := inTestdata(tc.path); got != tc.want {
			t.Errorf("inTestdata(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
}
