package guid

import (
	"strings"
	"testing"
)

func TestIs(t *testing.T) {
	t.Parallel()
	const g = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
	tests := []struct {
		s  string
		ok bool
	}{
		{g, true},
		{strings.ToUpper(g), true},
		{"00000003-0000-0000-c000-000000000000", true},
		{"", false},
		{g[:35], false},
		{g + "0", false},
		{"{" + g[1:35] + "}", false},
		{strings.ReplaceAll(g, "-", "") + "0000", false},
		{"6e74172b-be56-4843-9ff4-e66a39bb12eg", false},
		{"6e74172b-be56-4843-9ff4-e66a39bb12e ", false},
		{"6e74172bbbe56-4843-9ff4-e66a39bb12e3", false},
	}
	for _, tc := range tests {
		if got := Is(tc.s); got != tc.ok {
			t.Errorf("Is(%q) = %v, want %v", tc.s, got, tc.ok)
		}
	}
}
