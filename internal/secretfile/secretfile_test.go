package secretfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s")
	if err := os.WriteFile(p, []byte("0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mode   os.FileMode
		max    int64
		policy Policy
		want   string // "" means read
	}{
		{"owner only", 0o600, 10, Policy{}, ""},
		{"read only", 0o400, 10, Policy{}, ""},
		{"owner exec bit", 0o700, 10, Policy{}, ""},
		{"too large", 0o600, 9, Policy{}, "larger than 9 bytes"},
		{"world readable", 0o644, 10, Policy{}, "mode 0644; run chmod 600 " + p},
		{"group readable", 0o640, 10, Policy{}, "mode 0640"},
		{"group readable allowed", 0o640, 10, Policy{AllowGroupRead: true}, ""},
		{"group exec only", 0o610, 10, Policy{}, ""},
		{"group writable", 0o620, 10, Policy{AllowGroupRead: true}, "run chmod 640 " + p},
		{"world readable, group allowed", 0o444, 10, Policy{AllowGroupRead: true}, "mode 0444"},
		{"world writable", 0o602, 10, Policy{}, "mode 0602"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			b, err := Read(p, tc.max, tc.policy)
			if tc.want == "" {
				if err != nil || string(b) != "0123456789" {
					t.Fatalf("%q %v", b, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			if strings.HasPrefix(tc.want, "mode") || strings.HasPrefix(tc.want, "run") {
				if !errors.Is(err, ErrMode) {
					t.Fatalf("%v is not ErrMode", err)
				}
			}
		})
	}
	if _, err := Read(dir, 10, Policy{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("a directory: %v", err)
	}
	if _, err := Read(filepath.Join(dir, "missing"), 10, Policy{}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a missing file: %v", err)
	}
}
