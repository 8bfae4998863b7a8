package strictyaml

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestLiteralURLPassword(t *testing.T) {
	for _, tc := range []struct {
		name    string
		options map[string]any
		want    string // "" = none
	}{
		{"none", nil, ""},
		{"env ref", map[string]any{"url": "${REDIS_URL}"}, ""},
		{"no credentials", map[string]any{"url": "redis://10.0.0.5:6379/0"}, ""},
		{"user only", map[string]any{"url": "redis://app@10.0.0.5:6379/0"}, ""},
		{"empty password", map[string]any{"url": "redis://app:@h:6379"}, "url"},
		{"password", map[string]any{"url": "redis://:hunter2@h:6379"}, "url"},
		{"user and password, TLS", map[string]any{"a": "x", "url": "rediss://app:hunter2@h:6380"}, "url"},
		{"unparseable", map[string]any{"url": "redis://:hu%zz@h"}, "url"},
		{"not a string", map[string]any{"timeout": 3}, ""},
		{"prefix with @", map[string]any{"prefix": "{a@b}:"}, ""},
		{"password key", map[string]any{"password": "hunter2"}, "password"},
		{"password key, env ref", map[string]any{"password": "${REDIS_PASSWORD}"}, ""},
		{"password key, two refs", map[string]any{"password": "${A}${B}"}, "password"},
		{"password key, number", map[string]any{"password": 12345}, "password"},
		{"nested password", map[string]any{"sentinel": map[string]any{"master": "m", "password": "s3cret"}}, "sentinel.password"},
		{"nested env ref", map[string]any{"sentinel": map[string]any{"password": "${S}", "addrs": []any{"a:1"}}}, ""},
		{"suffix", map[string]any{"sentinel_password": "x"}, "sentinel_password"},
		{"URL in a list", map[string]any{"cluster": map[string]any{"addrs": []any{"a:1", "redis://:pw@b:1"}}}, "cluster.addrs[1]"},
		{"too deep", deep(10), "a.a.a.a.a.a.a.a.a"},
	} {
		k, found := LiteralURLPassword(tc.options)
		if found != (tc.want != "") || k != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, k, found, tc.want)
		}
	}
}

func deep(n int) map[string]any {
	m := map[string]any{"x": "y"}
	for range n {
		m = map[string]any{"a": m}
	}
	return m
}

// FuzzLiteralURLPassword: any decoded options document is walked without
// panicking (depth is bounded), and a hit names a path present in it; a
// document whose only strings are ${NAME} references has none.
func FuzzLiteralURLPassword(f *testing.F) {
	f.Add("url: redis://:pw@h:1\n")
	f.Add("sentinel: {password: x, addrs: [a, \"redis://:p@b\"]}\n")
	f.Add("password: ${P}\nnested: {deeper: [{sentinel_password: ${Q}}]}\n")
	f.Fuzz(func(t *testing.T, doc string) {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			return
		}
		path, found := LiteralURLPassword(m)
		if found && path == "" {
			t.Fatal("a hit without a path")
		}
		if found && onlyEnvRefs(m) && !deeper(path) {
			t.Fatalf("%q: a document of ${NAME} references only is refused at %q", doc, path)
		}
	})
}

// onlyEnvRefs reports whether every leaf of v is a string ${NAME}.
func onlyEnvRefs(v any) bool {
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			if !onlyEnvRefs(e) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range v {
			if !onlyEnvRefs(e) {
				return false
			}
		}
		return true
	case string:
		return IsEnvRef(v)
	}
	return false
}

// deeper reports whether path is past the walk's depth bound.
func deeper(path string) bool { return strings.Count(path, ".")+strings.Count(path, "[") >= 8 }
