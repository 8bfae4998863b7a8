// Package strictyaml reads and decodes configuration files strictly: one YAML (or
// JSON) document, no anchors or aliases, no unknown or duplicate keys (the
// decoder refuses duplicates), with
// errors that name the path of the offending field ("clients[1].scopes").
// The authorization server's file (authserver.ParseConfig) and the Guard's
// file (package config) both use it.
package strictyaml

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Options tunes [Decode].
type Options struct {
	// LookupEnv, when set, expands "${NAME}" in scalar values (never in
	// keys) with the variable's value; an unset variable is an error, and
	// "$${" stands for a literal "${". An expanded unquoted scalar is
	// re-typed (so "${PORT}" may fill an integer). OPTIONAL; nil leaves
	// values as written.
	LookupEnv func(string) (string, bool)
}

// Decode parses data into v (a pointer to a struct whose fields carry yaml
// tags) under the rules of the package documentation.
func Decode(data []byte, v any, opts Options) error {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		return err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return errors.New("more than one YAML document")
	}
	t := reflect.TypeOf(v)
	if t == nil || t.Kind() != reflect.Pointer {
		return errors.New("strictyaml: Decode needs a pointer")
	}
	if err := checkKnownFields(&root, t, ""); err != nil {
		return err
	}
	if opts.LookupEnv != nil {
		if err := expand(&root, opts.LookupEnv, ""); err != nil {
			return err
		}
	}
	return root.Decode(v)
}

// checkKnownFields walks n against the yaml tags of t and reports the first
// unknown key, alias or non-mapping where a struct is expected, with its
// path.
func checkKnownFields(n *yaml.Node, t reflect.Type, path string) error {
	if n.Kind == yaml.DocumentNode {
		if len(n.Content) == 0 {
			return fmt.Errorf("empty document")
		}
		return checkKnownFields(n.Content[0], t, path)
	}
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return fmt.Errorf("%s: YAML anchors and aliases are not allowed (line %d)", orRoot(path), n.Line)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if t == reflect.TypeOf(time.Duration(0)) {
			return nil
		}
		if n.Kind != yaml.MappingNode {
			return fmt.Errorf("%s: must be a mapping (line %d)", orRoot(path), n.Line)
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			ft, ok := fields[k]
			if !ok {
				return fmt.Errorf("%s: unknown field (line %d)", join(path, k), n.Content[i].Line)
			}
			if err := checkKnownFields(n.Content[i+1], ft, join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return nil // type error reported by Decode
		}
		for i, c := range n.Content {
			if err := checkKnownFields(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		if err := checkNoAliases(n, path); err != nil {
			return err
		}
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := checkKnownFields(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value)); err != nil {
				return err
			}
		}
	case reflect.Interface:
		return checkNoAliases(n, path)
	}
	return nil
}

func checkNoAliases(n *yaml.Node, path string) error {
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		return fmt.Errorf("%s: YAML anchors and aliases are not allowed (line %d)", orRoot(path), n.Line)
	}
	for _, c := range n.Content {
		if err := checkNoAliases(c, path); err != nil {
			return err
		}
	}
	return nil
}

// expand substitutes ${NAME} in the scalar values below n.
func expand(n *yaml.Node, lookup func(string) (string, bool), path string) error {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for i, c := range n.Content {
			p := path
			if n.Kind == yaml.SequenceNode {
				p = fmt.Sprintf("%s[%d]", path, i)
			}
			if err := expand(c, lookup, p); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := expand(n.Content[i+1], lookup, join(path, n.Content[i].Value)); err != nil {
				return err
			}
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return nil
		}
		out, err := ExpandString(n.Value, lookup)
		if err != nil {
			return fmt.Errorf("%s: %w (line %d)", orRoot(path), err, n.Line)
		}
		n.Value = out
		if n.Style == 0 { // plain scalar: let the decoder re-resolve its type
			n.Tag = ""
		}
	}
	return nil
}

// ExpandString replaces each "${NAME}" in s by its value from lookup.
// NAME is letters, digits and underscores; an unset variable, an empty or
// invalid name and an unterminated "${" are errors; "$${" is a literal
// "${".
func ExpandString(s string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		if i > 0 && s[i-1] == '$' {
			b.WriteString(s[:i-1])
			b.WriteString("${")
			s = s[i+2:]
			continue
		}
		b.WriteString(s[:i])
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", errors.New("unterminated ${")
		}
		name := s[i+2 : i+end]
		if !validName(name) {
			return "", fmt.Errorf("invalid variable name %q in ${...}", name)
		}
		v, ok := lookup(name)
		if !ok {
			return "", fmt.Errorf("environment variable %s is not set", name)
		}
		b.WriteString(v)
		s = s[i+end+1:]
	}
}

// IsEnvRef reports whether s is exactly one "${NAME}" reference, as a
// field that must come from the environment is written.
func IsEnvRef(s string) bool {
	return len(s) > 3 && s[:2] == "${" && s[len(s)-1] == '}' && validName(s[2:len(s)-1])
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func orRoot(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}
