// Command modproxy writes a file-based Go module proxy (GOPROXY=file://DIR)
// holding this repository's modules at one test version, built from the
// working tree with golang.org/x/mod/zip, so that installing the modules
// like any dependency can be proved without publishing anything
// (scripts/installcheck.sh).
//
//	go run . -repo ../.. -version v0.0.1-installcheck -out /tmp/proxy
//
// Every module of the repository (each directory with a go.mod among the
// files git tracks or would track) is packed at -version. Its go.mod is
// rewritten as the release procedure (docs/release.md) rewrites it:
// requirements on the repository's own modules point at -version and
// replace directives are dropped.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

func main() {
	repo := flag.String("repo", ".", "repository root")
	version := flag.String("version", "", "test version to publish every module at (REQUIRED)")
	out := flag.String("out", "", "proxy directory to write (REQUIRED)")
	flag.Parse()
	if *version == "" || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	mods, err := build(*repo, *version, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "modproxy:", err)
		os.Exit(1)
	}
	for _, m := range mods {
		fmt.Println(m)
	}
}

// repoFile is one file of a module, for zip.Create.
type repoFile struct{ rel, abs string }

func (f repoFile) Path() string { return f.rel }
func (f repoFile) Lstat() (os.FileInfo, error) {
	return os.Lstat(f.abs)
}
func (f repoFile) Open() (io.ReadCloser, error) { return os.Open(f.abs) }

// memFile is a file whose content is given (the rewritten go.mod).
type memFile struct {
	rel  string
	data []byte
	info os.FileInfo
}

func (f memFile) Path() string                 { return f.rel }
func (f memFile) Lstat() (os.FileInfo, error)  { return sizedInfo{f.info, int64(len(f.data))}, nil }
func (f memFile) Open() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(f.data)), nil }

type sizedInfo struct {
	os.FileInfo
	size int64
}

func (s sizedInfo) Size() int64 { return s.size }

// build writes the proxy and returns the module paths it holds.
func build(repo, version, out string) ([]string, error) {
	if !strings.HasPrefix(version, "v0.") && !strings.HasPrefix(version, "v1.") {
		return nil, fmt.Errorf("version %q: use a v0 or v1 version (the module paths have no /vN suffix)", version)
	}
	files, err := gitFiles(repo)
	if err != nil {
		return nil, err
	}
	// Module directories: those with a go.mod, except under testdata (the go
	// command ignores testdata directories; test fixtures may hold modules).
	var dirs []string
	for _, f := range files {
		if path.Base(f) == "go.mod" && !inTestdata(f) {
			dirs = append(dirs, path.Dir(f))
		}
	}
	sort.Strings(dirs)
	rootData, err := os.ReadFile(filepath.Join(repo, "go.mod"))
	if err != nil {
		return nil, err
	}
	rootPath := modfile.ModulePath(rootData)
	if rootPath == "" {
		return nil, errors.New("root go.mod has no module path")
	}
	var paths []string
	for _, dir := range dirs {
		gomod, err := os.ReadFile(filepath.Join(repo, dir, "go.mod"))
		if err != nil {
			return nil, err
		}
		modPath := modfile.ModulePath(gomod)
		if !strings.HasPrefix(modPath, rootPath) {
			return nil, fmt.Errorf("%s/go.mod: module %q is outside %q", dir, modPath, rootPath)
		}
		rewritten, err := rewriteGoMod(gomod, rootPath, version)
		if err != nil {
			return nil, fmt.Errorf("%s/go.mod: %w", dir, err)
		}
		info, err := os.Lstat(filepath.Join(repo, dir, "go.mod"))
		if err != nil {
			return nil, err
		}
		zfiles := []zip.File{memFile{rel: "go.mod", data: rewritten, info: info}}
		for _, f := range files {
			rel, ok := inModule(f, dir, dirs)
			if !ok || rel == "go.mod" {
				continue
			}
			zfiles = append(zfiles, repoFile{rel: rel, abs: filepath.Join(repo, filepath.FromSlash(f))})
		}
		if err := writeModule(out, module.Version{Path: modPath, Version: version}, rewritten, zfiles); err != nil {
			return nil, fmt.Errorf("%s: %w", modPath, err)
		}
		paths = append(paths, modPath+"@"+version)
	}
	return paths, nil
}

// gitFiles lists the tracked and untracked, not ignored, files that exist
// in the working tree.
func gitFiles(repo string) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = repo
	outb, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files: %w", err)
	}
	var files []string
	for _, f := range strings.Split(string(outb), "\x00") {
		if f == "" {
			continue
		}
		if st, err := os.Lstat(filepath.Join(repo, f)); err != nil || !st.Mode().IsRegular() {
			continue // deleted in the working tree, or a symlink
		}
		files = append(files, f)
	}
	return files, nil
}

// inModule reports whether repository file f belongs to the module in dir
// (and not to a module nested below it), with its path inside the module.
func inModule(f, dir string, dirs []string) (string, bool) {
	owner := "."
	for _, d := range dirs {
		if d != "." && strings.HasPrefix(f, d+"/") && len(d) > len(owner) {
			owner = d
		}
	}
	if owner != dir {
		return "", false
	}
	if dir == "." {
		return f, true
	}
	return strings.TrimPrefix(f, dir+"/"), true
}

// rewriteGoMod points the requirements on the repository's own modules at
// version and drops replace directives, as a release does.
func rewriteGoMod(data []byte, rootPath, version string) ([]byte, error) {
	mf, err := modfile.Parse("go.mod", data, nil)
	if err != nil {
		return nil, err
	}
	for _, r := range mf.Require {
		if r.Mod.Path == rootPath || strings.HasPrefix(r.Mod.Path, rootPath+"/") {
			if err := mf.AddRequire(r.Mod.Path, version); err != nil {
				return nil, err
			}
		}
	}
	for _, r := range append([]*modfile.Replace(nil), mf.Replace...) {
		if err := mf.DropReplace(r.Old.Path, r.Old.Version); err != nil {
			return nil, err
		}
	}
	mf.Cleanup()
	return mf.Format()
}

// writeModule writes the .info, .mod, .zip and list files of one module
// version in the proxy layout (GOPROXY protocol).
func writeModule(out string, mv module.Version, gomod []byte, files []zip.File) error {
	esc, err := module.EscapePath(mv.Path)
	if err != nil {
		return err
	}
	dir := filepath.Join(out, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	zf, err := os.Create(filepath.Join(dir, mv.Version+".zip"))
	if err != nil {
		return err
	}
	if err := zip.Create(zf, mv, files); err != nil {
		zf.Close()
		return err
	}
	if err := zf.Close(); err != nil {
		return err
	}
	info, _ := json.Marshal(map[string]string{"Version": mv.Version, "Time": time.Now().UTC().Format(time.RFC3339)})
	if err := os.WriteFile(filepath.Join(dir, mv.Version+".info"), info, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, mv.Version+".mod"), gomod, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "list"), []byte(mv.Version+"\n"), 0o644)
}

// inTestdata reports whether the slash-separated path f lies under a
// directory named testdata.
func inTestdata(f string) bool {
	for _, e := range strings.Split(path.Dir(f), "/") {
		if e == "testdata" {
			return true
		}
	}
	return false
}
