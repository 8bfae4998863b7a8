package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
)

// TestLintSeal: `mcpauthz lint -seal` writes a seal the authorizer accepts
// with RequireSeal; a policy with lint errors is not sealed; a sealed file
// edited afterwards fails both lint and the load.
func TestLintSeal(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"trailer", "sidecar"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			pol := filepath.Join(dir, "policy.csv")
			if err := os.WriteFile(pol, []byte("p, *, tool:echo, call, allow\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			if code := run([]string{"lint", "-model", "../../casbinmodels/rbac.conf", "-policy", pol, "-seal", "-seal-mode", mode}, &out, &errOut); code != 0 {
				t.Fatalf("seal: exit %d\n%s%s", code, &out, &errOut)
			}
			src := casbinauthz.FileSource{Paths: []string{pol}, RequireSeal: true}
			if _, err := src.Load(context.Background()); err != nil {
				t.Fatalf("sealed file refused: %v", err)
			}
			if code := run([]string{"lint", "-model", "../../casbinmodels/rbac.conf", "-policy", pol, "-require-seal"}, &out, &errOut); code != 0 {
				t.Fatalf("lint of the sealed file: exit %d\n%s", code, &out)
			}
			b, _ := os.ReadFile(pol)
			if err := os.WriteFile(pol, bytes.Replace(b, []byte("echo"), []byte("ech0"), 1), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := src.Load(context.Background()); !errors.Is(err, casbinauthz.ErrSeal) {
				t.Fatalf("edited file: Load = %v, want ErrSeal", err)
			}
			out.Reset()
			if code := run([]string{"lint", "-model", "../../casbinmodels/rbac.conf", "-policy", pol}, &out, &errOut); code != 1 || !strings.Contains(out.String(), "does not match the seal") {
				t.Fatalf("lint of the edited file: exit %d\n%s", code, &out)
			}
		})
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("p, *, tool:echo, call, de\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"lint", "-model", "../../casbinmodels/rbac.conf", "-policy", bad, "-seal", "-seal-mode", "sidecar"}, &out, &errOut); code != 1 {
		t.Fatalf("bad policy: exit %d", code)
	}
	if _, err := os.Stat(bad + casbinauthz.SidecarSuffix); err == nil {
		t.Fatal("a policy with errors was sealed")
	}
	// -attr: the declared attribute makes the abac policy valid.
	abac := filepath.Join(dir, "abac.csv")
	if err := os.WriteFile(abac, []byte("p, *, tool:a, call, r.attrs.clearance >= 3, allow\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code := run([]string{"lint", "-model", "../../casbinmodels/abac.conf", "-policy", abac}, &out, &errOut); code != 1 {
		t.Fatalf("undeclared attribute: exit %d", code)
	}
	if code := run([]string{"lint", "-model", "../../casbinmodels/abac.conf", "-policy", abac, "-attr", "clearance:number=0"}, &out, &errOut); code != 0 {
		t.Fatalf("declared attribute: exit %d\n%s", code, &out)
	}
	// -issuer: namespaced subjects; an un-namespaced one is reported.
	ns := filepath.Join(dir, "ns.csv")
	if err := os.WriteFile(ns, []byte("p, corp/group:eng, tool:a, call, allow\np, group:eng, tool:b, call, allow\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"lint", "-model", "../../casbinmodels/rbac.conf", "-policy", ns, "-issuer", "corp=https://corp.example.com", "-issuer", "p=https://p.example.com;tenant", "-strict"}, &out, &errOut); code != 1 ||
		!strings.Contains(out.String(), `line 2: warning: subject "group:eng" matches no caller`) || strings.Contains(out.String(), "line 1:") {
		t.Fatalf("-issuer: exit %d\n%s", code, &out)
	}
	// explain takes the same options.
	claims := filepath.Join(dir, "c.json")
	if err := os.WriteFile(claims, []byte(`{"iss":"https://corp.example.com","sub":"u","groups":["eng"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run([]string{"explain", "-model", "../../casbinmodels/rbac.conf", "-policy", ns, "-issuer", "corp=https://corp.example.com", "-issuer", "p=https://p.example.com", "-claims", claims, "-method", "tools/call", "-target", "a"}, &out, &errOut); code != 0 {
		t.Fatalf("explain -issuer: exit %d\n%s%s", code, &out, &errOut)
	}
}
