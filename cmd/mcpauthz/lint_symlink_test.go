package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
)

// TestLintSealSymlink: -seal never replaces a symbolic link with a regular
// file (a Kubernetes ConfigMap mount is a chain policy.csv → ..data/… →
// ..<timestamp>/policy.csv): it refuses, exit 2, and leaves the link and
// its target as they were. A sidecar next to a symlinked policy is a new
// file and is written.
func TestLintSealSymlink(t *testing.T) {
	t.Parallel()
	const policy = "p, *, tool:echo, call, allow\n"
	tests := []struct {
		name   string
		mode   string
		layout func(t *testing.T, dir string) string // returns the -policy path
		link   string                                // the path that must stay a symlink
		code   int
	}{
		{"symlinked policy, trailer", "trailer", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "real.csv"), policy)
			symlink(t, "real.csv", filepath.Join(dir, "policy.csv"))
			return filepath.Join(dir, "policy.csv")
		}, "policy.csv", 2},
		{"ConfigMap layout, trailer", "trailer", func(t *testing.T, dir string) string {
			if err := os.Mkdir(filepath.Join(dir, "..2026_12_03_09_00_00.1"), 0o700); err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, "..2026_12_03_09_00_00.1", "policy.csv"), policy)
			symlink(t, "..2026_12_03_09_00_00.1", filepath.Join(dir, "..data"))
			symlink(t, "..data/policy.csv", filepath.Join(dir, "policy.csv"))
			return filepath.Join(dir, "policy.csv")
		}, "policy.csv", 2},
		{"symlinked sidecar", "sidecar", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "policy.csv"), policy)
			write(t, filepath.Join(dir, "real.sha256"), "old\n")
			symlink(t, "real.sha256", filepath.Join(dir, "policy.csv"+casbinauthz.SidecarSuffix))
			return filepath.Join(dir, "policy.csv")
		}, "policy.csv" + casbinauthz.SidecarSuffix, 2},
		{"symlinked policy, sidecar written", "sidecar", func(t *testing.T, dir string) string {
			write(t, filepath.Join(dir, "real.csv"), policy)
			symlink(t, "real.csv", filepath.Join(dir, "policy.csv"))
			return filepath.Join(dir, "policy.csv")
		}, "policy.csv", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			pol := tt.layout(t, dir)
			before := snapshot(t, dir)
			var out, errOut bytes.Buffer
			code := run([]string{"lint", "-model", "../../casbinmodels/rbac.conf", "-policy", pol, "-seal", "-seal-mode", tt.mode}, &out, &errOut)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, &out, &errOut)
			}
			if fi, err := os.Lstat(filepath.Join(dir, tt.link)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Fatalf("%s is no longer a symlink: %v %v", tt.link, fi, err)
			}
			if code == 0 {
				if _, err := os.Stat(pol + casbinauthz.SidecarSuffix); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !strings.Contains(errOut.String(), "symbolic link") {
				t.Fatalf("stderr %q does not name the symlink", errOut.String())
			}
			if after := snapshot(t, dir); after != before {
				t.Fatalf("directory changed:\n%s\nwant\n%s", after, before)
			}
		})
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, path string) {
	t.Helper()
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
}

// snapshot lists dir's tree: names, link targets and file contents.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&os.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if err != nil {
				return err
			}
			b.WriteString(rel + " -> " + target + "\n")
		case d.Type().IsRegular():
			c, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b.WriteString(rel + ": " + string(c) + "\n")
		default:
			b.WriteString(rel + "/\n")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
