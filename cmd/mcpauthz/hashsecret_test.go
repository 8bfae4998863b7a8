package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestHashSecret(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
	}{
		{"secret with newline", "0123456789abcdef-secret\n", nil, 0},
		{"secret without newline", "0123456789abcdef-secret", nil, 0},
		{"too short", "short\n", nil, 2},
		{"secret as argument refused", "", []string{"0123456789abcdef"}, 2},
		{"longest secret", strings.Repeat("s", maxSecretInput) + "\r\n", nil, 0},
		{"longest secret without newline", strings.Repeat("s", maxSecretInput), nil, 0},
		{"one byte too long refused", strings.Repeat("s", maxSecretInput+1) + "\n", nil, 2},
		{"one byte too long without newline refused", strings.Repeat("s", maxSecretInput+1), nil, 2},
		{"long input refused, not truncated", strings.Repeat("s", 3*maxSecretInput), nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			code := hashSecretCmd(tt.args, strings.NewReader(tt.stdin), &out, &errOut)
			if code != tt.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.code, errOut.String())
			}
			if code != 0 && tt.code == 2 && len(tt.stdin) > maxSecretInput && !strings.Contains(errOut.String(), "longer than") {
				t.Fatalf("stderr %q does not say the secret is too long", errOut.String())
			}
			if code == 0 {
				h := strings.TrimSpace(out.String())
				if !strings.HasPrefix(h, "sha256$") || strings.Contains(h, "secret") {
					t.Fatalf("hash output %q", h)
				}
			}
		})
	}
}
