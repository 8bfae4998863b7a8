package strictyaml

import "testing"

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
	} {
		k, found := LiteralURLPassword(tc.options)
		if found != (tc.want != "") || k != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, k, found, tc.want)
		}
	}
}
