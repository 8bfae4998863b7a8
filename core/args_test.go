package core

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAuditArgs(t *testing.T) {
	long := strings.Repeat("é", 100)
	many := map[string]any{}
	for i := 0; i < 40; i++ {
		many["arg_"+strings.Repeat("x", i)] = strings.Repeat("v", 60)
	}
	tests := []struct {
		name string
		in   map[string]any
		want string
	}{
		{"none", nil, ""},
		{"sorted typed", map[string]any{"b": true, "a": "x y", "n": 1.5, "l": []string{"p", "q"}}, `a="x y" b="true" l="[p,q]" n="1.5"`},
		{"quoted", map[string]any{"a": "x\"\n"}, `a="x\"\n"`},
		{"truncated value", map[string]any{"a": long}, `a="` + strings.Repeat("é", 32) + `…"`},
	}
	for _, tt := range tests {
		if got := auditArgs(tt.in); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	got := auditArgs(many)
	if len(got) > auditArgsBytes+4 || !strings.HasSuffix(got, " …") || !utf8.ValidString(got) {
		t.Errorf("bounded: %d bytes %q", len(got), got)
	}
}
