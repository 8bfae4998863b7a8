package depfloor

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompare(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"v4.1.4", "v4.1.4", 0},
		{"v4.1.3", "v4.1.4", -1},
		{"v4.1.8", "v4.1.4", 1},
		{"v4.0.5", "v4.1.4", -1},
		{"v4.10.0", "v4.9.9", 1},
		{"v3.14.1", "v3.15.0", -1},
		{"v5.2.1", "v5.2.2", -1},
		{"v5.3.1", "v5.2.2", 1},
		{"v4.1.4-rc.1", "v4.1.4", -1},
		{"v4.1.4-rc.2", "v4.1.4-rc.10", -1},
		{"v4.1.4-alpha", "v4.1.4-1", 1},
		{"v4.1.4-alpha", "v4.1.4-alpha.1", -1},
		{"v0.0.0-20240101000000-abcdef123456", "v4.1.4", -1},
		{"v2.0.0+incompatible", "v2.0.0", 0},
	} {
		if got, ok := Compare(tc.a, tc.b); !ok || got != tc.want {
			t.Errorf("Compare(%s, %s) = %d, %v; want %d", tc.a, tc.b, got, ok, tc.want)
		}
	}
	for _, bad := range []string{"", "4.1.4", "v4.1", "v4.1.x", "v04.1.4", "v4.1.4-", "v4.1.4-a..b"} {
		if _, ok := Compare(bad, "v1.0.0"); ok {
			t.Errorf("Compare(%q) accepted", bad)
		}
	}
}

func TestViolationsDetectsBelowFloor(t *testing.T) {
	t.Parallel()
	out := strings.Join([]string{
		"github.com/mcpauthz/mcpauthz",
		"github.com/go-jose/go-jose/v4 v4.1.3",
		"github.com/coreos/go-oidc/v3 v3.14.1",
		"github.com/golang-jwt/jwt/v5 v5.2.1",
		"github.com/other/mod v0.1.0",
	}, "\n")
	if v := Violations(out, Floors()); len(v) != 3 {
		t.Fatalf("violations = %q, want 3", v)
	}
	ok := "github.com/go-jose/go-jose/v4 v4.1.8\ngithub.com/coreos/go-oidc/v3 v3.21.0\ngithub.com/golang-jwt/jwt/v5 v5.2.2"
	if v := Violations(ok, Floors()); len(v) != 0 {
		t.Fatalf("violations = %q, want none", v)
	}
	// A replacement below the floor is caught too, and so is garbage.
	if v := Violations("github.com/go-jose/go-jose/v4 v4.1.8 => github.com/go-jose/go-jose/v4 v4.0.0", Floors()); len(v) != 1 {
		t.Fatalf("replacement: %q", v)
	}
	if v := Violations("github.com/go-jose/go-jose/v4 latest", Floors()); len(v) != 1 {
		t.Fatalf("unparsable version: %q", v)
	}
}

// repoRoot walks up from the working directory to the directory holding go.work.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.work not found above the test directory")
		}
		dir = parent
	}
}

// goList runs "go list -m -e all" in dir, offline, with the given GOWORK.
func goList(t *testing.T, goBin, dir, gowork string) string {
	t.Helper()
	cmd := exec.Command(goBin, "list", "-m", "-e", "all")
	cmd.Dir = dir
	env := []string{"GOPROXY=off", "GOTOOLCHAIN=local", "GOFLAGS="}
	if gowork != "" {
		env = append(env, "GOWORK="+gowork)
	}
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list -m all in %s: %v\n%s", dir, err, ee.Stderr)
		}
		t.Fatalf("go list -m all in %s: %v", dir, err)
	}
	return string(out)
}

func TestDependencyFloors(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go binary not found in PATH: dependency floors not checked")
	}
	root := repoRoot(t)
	// The workspace (default GOWORK) covers every module at once.
	check := func(where, out string) {
		if !strings.Contains(out, "github.com/") {
			t.Fatalf("%s: go list output looks empty:\n%s", where, out)
		}
		for _, v := range Violations(out, Floors()) {
			t.Errorf("%s: %s", where, v)
		}
	}
	check("workspace", goList(t, goBin, root, ""))
	// Each module alone, as its users build it.
	var mods []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "vendor" || (strings.HasPrefix(d.Name(), ".") && path != root)) {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name() == "go.mod" {
			mods = append(mods, filepath.Dir(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(mods) < 2 {
		t.Fatalf("found %d modules under %s", len(mods), root)
	}
	for _, dir := range mods {
		rel, _ := filepath.Rel(root, dir)
		check("module "+rel, goList(t, goBin, dir, "off"))
	}
}
