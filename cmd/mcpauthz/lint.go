package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
)

func lintCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", "", "Casbin model file (REQUIRED)")
	var policies stringList
	fs.Var(&policies, "policy", "policy CSV file (REQUIRED; repeat to lint several files against the model)")
	strict := fs.Bool("strict", false, "exit 1 on warnings too")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *modelPath == "" || len(policies) == 0 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "mcpauthz lint: -model and -policy are required")
		fs.Usage()
		return 2
	}
	model, err := os.ReadFile(*modelPath)
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
		findings := casbinauthz.Lint(string(model), text)
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
		}
	}
	return code
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return fmt.Sprint(*s) }

func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}
