// Package treecheck checks API hygiene rules over the source of the project's
// Go modules. It reads files with go/parser only (no type checking, no build),
// so it runs in a plain `go test` of the root module.
//
// The rules:
//   - no exported package-level variable in a non-main package, except
//     sentinel errors named Err…;
//   - no type from an internal/ package in the exported API of a public
//     package: exported functions and methods (parameters, results, type
//     parameters), exported types (their definition, exported fields and
//     interface methods, embedded types), and exported consts.
//
// Test files, testdata, vendor, hidden and underscore directories and nested
// modules are skipped.
package treecheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Violation is one broken rule at a source position.
type Violation struct {
	Pos  string // file:line, relative to the checked root
	Rule string // "exported-var" or "internal-type"
	What string
}

func (v Violation) String() string { return v.Pos + ": " + v.Rule + ": " + v.What }

// Module checks the module rooted at dir (a directory holding go.mod) and
// returns its violations sorted by position. Positions are relative to rel.
func Module(dir, rel string) ([]Violation, error) {
	modPath, err := modulePath(filepath.Join(dir, "go.mod"))
	if err != nil {
		return nil, err
	}
	var out []Violation
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		name := d.Name()
		if path != dir {
			if name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir // nested module: checked on its own
			}
		}
		sub, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		importPath := modPath
		if sub != "." {
			importPath = modPath + "/" + filepath.ToSlash(sub)
		}
		vs, err := checkDir(path, importPath, rel)
		if err != nil {
			return err
		}
		out = append(out, vs...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pos < out[j].Pos })
	return out, nil
}

func modulePath(gomod string) (string, error) {
	b, err := os.ReadFile(gomod)
	if err != nil {
		return "", fmt.Errorf("treecheck: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`), nil
		}
	}
	return "", fmt.Errorf("treecheck: no module line in %s", gomod)
}

// isInternal reports whether importPath is an internal package, or inside one.
func isInternal(importPath string) bool {
	return strings.HasSuffix(importPath, "/internal") || strings.Contains(importPath, "/internal/") ||
		importPath == "internal" || strings.HasPrefix(importPath, "internal/")
}

func checkDir(dir, importPath, rel string) ([]Violation, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("treecheck: %w", err)
	}
	fset := token.NewFileSet()
	var out []Violation
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, n), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("treecheck: %w", err)
		}
		if f.Name.Name == "main" {
			continue
		}
		c := &fileCheck{fset: fset, rel: rel, imports: map[string]string{}}
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				continue
			}
			name := p[strings.LastIndex(p, "/")+1:]
			if imp.Name != nil {
				name = imp.Name.Name
			}
			c.imports[name] = p
		}
		c.file(f, !isInternal(importPath))
		out = append(out, c.out...)
	}
	return out, nil
}

type fileCheck struct {
	fset    *token.FileSet
	rel     string
	imports map[string]string // local name → import path
	out     []Violation
}

func (c *fileCheck) add(pos token.Pos, rule, what string) {
	p := c.fset.Position(pos)
	name := p.Filename
	if r, err := filepath.Rel(c.rel, name); err == nil {
		name = filepath.ToSlash(r)
	}
	c.out = append(c.out, Violation{Pos: fmt.Sprintf("%s:%d", name, p.Line), Rule: rule, What: what})
}

func (c *fileCheck) file(f *ast.File, public bool) {
	for _, decl := range f.Decls {
		switch d := decl.(type) {
		case *ast.GenDecl:
			for _, spec := range d.Specs {
				switch s := spec.(type) {
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if !n.IsExported() {
							continue
						}
						if d.Tok == token.VAR && !strings.HasPrefix(n.Name, "Err") {
							c.add(n.Pos(), "exported-var", "package-level var "+n.Name+" (make it a const or a function)")
						}
						if public && s.Type != nil {
							c.typ(s.Type, n.Name)
						}
					}
				case *ast.TypeSpec:
					if public && s.Name.IsExported() {
						c.fields(s.TypeParams, s.Name.Name)
						c.typ(s.Type, s.Name.Name)
					}
				}
			}
		case *ast.FuncDecl:
			if !public || !d.Name.IsExported() {
				continue
			}
			name := d.Name.Name
			if d.Recv != nil && len(d.Recv.List) == 1 {
				recv := recvName(d.Recv.List[0].Type)
				if !ast.IsExported(recv) {
					continue
				}
				name = recv + "." + name
			}
			c.fields(d.Type.TypeParams, name)
			c.fields(d.Type.Params, name)
			c.fields(d.Type.Results, name)
		}
	}
}

func recvName(e ast.Expr) string {
	for {
		switch t := e.(type) {
		case *ast.StarExpr:
			e = t.X
		case *ast.IndexExpr:
			e = t.X
		case *ast.IndexListExpr:
			e = t.X
		case *ast.ParenExpr:
			e = t.X
		case *ast.Ident:
			return t.Name
		default:
			return ""
		}
	}
}

func (c *fileCheck) fields(fl *ast.FieldList, where string) {
	if fl == nil {
		return
	}
	for _, f := range fl.List {
		c.typ(f.Type, where)
	}
}

// typ reports every selector in the type expression e that names a type of an
// internal package. Unexported struct fields and interface methods are not API.
func (c *fileCheck) typ(e ast.Expr, where string) {
	switch t := e.(type) {
	case nil:
	case *ast.SelectorExpr:
		if x, ok := t.X.(*ast.Ident); ok {
			if p, ok := c.imports[x.Name]; ok && isInternal(p) {
				c.add(t.Pos(), "internal-type", where+" exposes "+p+"."+t.Sel.Name)
			}
		}
	case *ast.StructType:
		for _, f := range t.Fields.List {
			if len(f.Names) == 0 { // embedded: its methods and fields are promoted
				c.typ(f.Type, where)
				continue
			}
			for _, n := range f.Names {
				if n.IsExported() {
					c.typ(f.Type, where+"."+n.Name)
				}
			}
		}
	case *ast.InterfaceType:
		for _, m := range t.Methods.List {
			if len(m.Names) == 0 {
				c.typ(m.Type, where)
				continue
			}
			for _, n := range m.Names {
				if n.IsExported() {
					c.typ(m.Type, where+"."+n.Name)
				}
			}
		}
	case *ast.FuncType:
		c.fields(t.TypeParams, where)
		c.fields(t.Params, where)
		c.fields(t.Results, where)
	case *ast.StarExpr:
		c.typ(t.X, where)
	case *ast.ArrayType:
		c.typ(t.Len, where)
		c.typ(t.Elt, where)
	case *ast.MapType:
		c.typ(t.Key, where)
		c.typ(t.Value, where)
	case *ast.ChanType:
		c.typ(t.Value, where)
	case *ast.Ellipsis:
		c.typ(t.Elt, where)
	case *ast.ParenExpr:
		c.typ(t.X, where)
	case *ast.IndexExpr:
		c.typ(t.X, where)
		c.typ(t.Index, where)
	case *ast.IndexListExpr:
		c.typ(t.X, where)
		for _, i := range t.Indices {
			c.typ(i, where)
		}
	case *ast.BinaryExpr: // constraint unions
		c.typ(t.X, where)
		c.typ(t.Y, where)
	case *ast.UnaryExpr: // ~T
		c.typ(t.X, where)
	}
}

// MakefileModules returns the MODULES list of the Makefile at path.
func MakefileModules(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("treecheck: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MODULES :="); ok {
			return strings.Fields(rest), nil
		}
	}
	return nil, fmt.Errorf("treecheck: no MODULES := line in %s", path)
}
