package strictyaml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		size    int
		wantErr string
	}{
		{"empty", 0, ""},
		{"at the bound", 16, ""},
		{"one byte over", 17, "larger than 16 bytes"},
		{"missing", -1, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if tc.size >= 0 {
				if err := os.WriteFile(p, []byte(strings.Repeat("x", tc.size)), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			data, err := ReadFile(p, 16)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(data) != tc.size {
				t.Fatalf("got %d bytes, %v", len(data), err)
			}
		})
	}
}

func TestInlineJSON(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   any
		want string
		err  bool
	}{
		{"absent", nil, "", false},
		{"string as is", `{"keys":[]}`, `{"keys":[]}`, false},
		{"object re-encoded", map[string]any{"keys": []any{}}, `{"keys":[]}`, false},
		{"list refused", []any{"a"}, "", true},
		{"number refused", 3, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := InlineJSON(tc.in)
			if (err != nil) != tc.err || string(got) != tc.want {
				t.Fatalf("InlineJSON(%v) = %q, %v", tc.in, got, err)
			}
		})
	}
}
