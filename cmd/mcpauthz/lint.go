package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
)

func lintCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", "", "shipped model name or Casbin model file (REQUIRED unless -config)")
	configPath := fs.String("config", "", "Guard YAML file: its model and policy.files are linted (instead of -model and -policy)")
	var policies, attrs, issuers, argDecls stringList
	fs.Var(&policies, "policy", "policy CSV file (REQUIRED; repeat to lint several files against the model)")
	fs.Var(&attrs, "attr", "declared ABAC attribute name:type[=default], type string|strings|bool|number (repeatable; the mapper's schema)")
	fs.Var(&issuers, "issuer", `trusted issuer alias=URL, or alias=URL;tenant when it asserts tenants (repeatable; casbinauthz Config.Issuers)`)
	fs.Var(&argDecls, "arg-decl", "declared tool argument tool:name:type[=default], type string|number|bool|strings (repeatable; checked against the policy's r.args)")
	strict := fs.Bool("strict", false, "exit 1 on warnings too")
	seal := fs.Bool("seal", false, "when a policy has no errors, write its seal (see -seal-mode)")
	sealMode := fs.String("seal-mode", "trailer", `"trailer" (a last "# sha256:" line) or "sidecar" (<policy>.sha256)`)
	requireSeal := fs.Bool("require-seal", false, "report an unsealed policy as an error (FileSource.RequireSeal)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	baseDir := ""
	var cfgArgs []config.FileToolArgs // the -config file's arguments section
	if *configPath != "" && *modelPath == "" && len(policies) == 0 {
		// Only the model and the policy files are read: an unset ${ENV}
		// (a secret CI does not have) does not stop the lint.
		anyEnv := func(name string) (string, bool) {
			if v, ok := os.LookupEnv(name); ok {
				return v, true
			}
			return "unset-" + name, true
		}
		f, dir, err := config.Load(*configPath, config.Options{LookupEnv: anyEnv})
		if err != nil {
			fmt.Fprintf(stderr, "mcpauthz lint: %v\n", err)
			return 2
		}
		if len(f.Policy.Files) == 0 {
			fmt.Fprintf(stderr, "mcpauthz lint: %s has no policy.files to lint (a database policy source is linted with -model and an exported -policy)\n", *configPath)
			return 2
		}
		*modelPath, baseDir, cfgArgs = f.Model, dir, f.Arguments
		for _, p := range f.Policy.Files {
			if !filepath.IsAbs(p) {
				p = filepath.Join(dir, p)
			}
			policies = append(policies, p)
		}
	}
	if *modelPath == "" || len(policies) == 0 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "mcpauthz lint: -model and -policy are required (or -config alone)")
		fs.Usage()
		return 2
	}
	if *sealMode != "trailer" && *sealMode != "sidecar" {
		fmt.Fprintf(stderr, "mcpauthz lint: -seal-mode %q: want trailer or sidecar\n", *sealMode)
		return 2
	}
	specs, err := parseAttrs(attrs)
	if err != nil {
		fmt.Fprintf(stderr, "mcpauthz lint: %v\n", err)
		return 2
	}
	iss, err := parseIssuers(issuers)
	if err != nil {
		fmt.Fprintf(stderr, "mcpauthz lint: %v\n", err)
		return 2
	}
	decls, err := parseArgDecls(argDecls)
	if err != nil {
		fmt.Fprintf(stderr, "mcpauthz lint: %v\n", err)
		return 2
	}
	if decls == nil && cfgArgs != nil {
		if decls, err = config.ArgDecls(cfgArgs); err != nil {
			fmt.Fprintf(stderr, "mcpauthz lint: %s: arguments: %v\n", *configPath, err)
			return 2
		}
	}
	model, err := config.ModelText(*modelPath, baseDir)
	if err != nil {
		fmt.Fprintf(stderr, "mcpauthz lint: %v\n", err)
		return 2
	}
	code := 0
	for _, p := range policies {
		text, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintf(stderr, "mcpauthz lint: %v\n", err)
			return 2
		}
		findings := casbinauthz.LintWith(string(model), text, casbinauthz.LintOptions{Attributes: specs, Issuers: iss, Args: decls})
		if !*seal {
			if err := casbinauthz.CheckSeal(p, text, *requireSeal); err != nil {
				findings = append([]casbinauthz.Finding{{Severity: casbinauthz.SeverityError, Message: strings.TrimPrefix(err.Error(), casbinauthz.ErrSeal.Error()+": ")}}, findings...)
			}
		}
		errs, warns := 0, 0
		for _, f := range findings {
			fmt.Fprintf(stdout, "%s:%s\n", p, f)
			if f.Severity == casbinauthz.SeverityError {
				errs++
			} else {
				warns++
			}
		}
		fmt.Fprintf(stdout, "%s: %d error(s), %d warning(s)\n", p, errs, warns)
		if errs > 0 || (*strict && warns > 0) {
			code = 1
			continue
		}
		if *seal {
			if err := writeSeal(p, text, *sealMode); err != nil {
				fmt.Fprintf(stderr, "mcpauthz lint: %v\n", err)
				return 2
			}
			fmt.Fprintf(stdout, "%s: sealed (%s)\n", p, *sealMode)
		}
	}
	return code
}

// writeSeal writes the trailer into the policy, or the sidecar next to it,
// atomically (temporary file, then rename). A file to replace that is a
// symbolic link is refused, never replaced by a regular file.
func writeSeal(path string, text []byte, mode string) error {
	if mode == "trailer" {
		return writeAtomic(path, casbinauthz.SealTrailer(text))
	}
	return writeAtomic(path+casbinauthz.SidecarSuffix, casbinauthz.SealSidecar(text, filepath.Base(path)))
}

func writeAtomic(path string, b []byte) error {
	mode := os.FileMode(0o644)
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSymlink != 0 {
			// the rename would replace the link with a regular file; a
			// Kubernetes ConfigMap mount is such a link chain (..data)
			return fmt.Errorf("%s is a symbolic link (a ConfigMap mount?): refusing to replace it; seal the policy where it is written (its source, before it is mounted)", path)
		}
		mode = fi.Mode().Perm()
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// parseAttrs parses -attr values "name:type[=default]".
func parseAttrs(vals []string) ([]core.AttributeSpec, error) {
	var out []core.AttributeSpec
	for _, v := range vals {
		name, rest, ok := strings.Cut(v, ":")
		if !ok {
			return nil, fmt.Errorf("-attr %q: want name:type[=default]", v)
		}
		typ, def, hasDef := strings.Cut(rest, "=")
		s := core.AttributeSpec{Name: name, Type: core.AttributeType(typ)}
		if hasDef {
			switch s.Type {
			case core.AttrString:
				s.Default = def
			case core.AttrBool:
				s.Default = def == "true"
				if def != "true" && def != "false" {
					return nil, fmt.Errorf("-attr %q: bool default must be true or false", v)
				}
			case core.AttrNumber:
				var f float64
				if _, err := fmt.Sscan(def, &f); err != nil {
					return nil, fmt.Errorf("-attr %q: number default: %w", v, err)
				}
				s.Default = f
			case core.AttrStrings:
				l := []string{}
				if def != "" {
					l = strings.Split(def, ",")
				}
				s.Default = l
			default:
				return nil, errors.New("-attr " + v + ": unknown type")
			}
		}
		n, err := s.Normalize()
		if err != nil {
			return nil, fmt.Errorf("-attr %q: %w", v, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseIssuers parses -issuer values "alias=URL[;tenant]".
func parseIssuers(vals []string) ([]casbinauthz.Issuer, error) {
	var out []casbinauthz.Issuer
	for _, v := range vals {
		alias, url, ok := strings.Cut(v, "=")
		if !ok {
			return nil, fmt.Errorf("-issuer %q: want alias=URL[;tenant]", v)
		}
		url, tenant := strings.CutSuffix(url, ";tenant")
		out = append(out, casbinauthz.Issuer{Issuer: url, Alias: alias, AssertsTenant: tenant})
	}
	return out, nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return fmt.Sprint(*s) }

func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}
