package casbinmodels

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
)

//go:embed *.conf *.csv README.md
var files embed.FS

// ErrUnknown is returned for a name that is not one of [Names].
var ErrUnknown = errors.New("casbinmodels: unknown model")

var names = []string{"abac", "abac_args", "machine", "quickstart", "rbac", "rbac_roles", "scopes", "tenant_rbac", "tenant_rbac_roles"}

// Names returns the names of the shipped models, sorted. The returned slice
// is a copy.
func Names() []string { return slices.Clone(names) }

// FS returns the read-only file system holding every <name>.conf,
// <name>.csv and README.md, for tools that want to copy the files.
func FS() fs.FS { return files }

// Model returns the Casbin model text (<name>.conf). An unknown name yields
// an error wrapping [ErrUnknown].
func Model(name string) (string, error) { return read(name, ".conf") }

// SamplePolicy returns the sample policy text (<name>.csv) that goes with
// the model of the same name. An unknown name yields an error wrapping
// [ErrUnknown].
func SamplePolicy(name string) (string, error) { return read(name, ".csv") }

func read(name, ext string) (string, error) {
	if !slices.Contains(names, name) {
		return "", fmt.Errorf("%w: %q", ErrUnknown, name)
	}
	b, err := files.ReadFile(name + ext)
	if err != nil {
		return "", fmt.Errorf("casbinmodels: %s%s: %w", name, ext, err)
	}
	return string(b), nil
}
