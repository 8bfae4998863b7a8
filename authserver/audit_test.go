package authserver

import (
	"net/url"
	"strings"
	"testing"
)

// TestAuditFieldsBounded: token requests whose caller-chosen values are
// tens of KiB (client id, grant type, scope, resource, a duplicated
// parameter name) log a few hundred bytes per field at most, each cut
// value marked, and the whole record stays under 4 KiB.
func TestAuditFieldsBounded(t *testing.T) {
	t.Parallel()
	huge := strings.Repeat("€", 4<<10) // 12 KiB of three-byte runes (36 KiB encoded): a cut must not split one
	for _, tc := range []struct {
		name string
		r    req
	}{
		{"huge claimed client id", req{body: form("grant_type", GrantClientCredentials, "client_id", huge, "client_secret", "x")}},
		{"huge grant type", req{body: form("grant_type", huge), basic: [2]string{testSecretID, testSecret}}},
		{"huge scope", req{body: form("grant_type", GrantClientCredentials, "scope", huge, "resource", testMCP), basic: [2]string{testSecretID, testSecret}}},
		{"huge resource", req{body: form("grant_type", GrantClientCredentials, "resource", "https://x.example/"+huge), basic: [2]string{testSecretID, testSecret}}},
		{"huge duplicated parameter", req{body: url.QueryEscape(huge[:3<<10]) + "=a&" + url.QueryEscape(huge[:3<<10]) + "=b", basic: [2]string{testSecretID, testSecret}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, nil)
			if w := e.do(tc.r); w.Code == 200 || w.Code == 413 {
				t.Fatalf("answered %d: %s", w.Code, w.Body)
			}
			logs := e.logs.String()
			if !strings.Contains(logs, "authserver.grant") && !strings.Contains(logs, "level") {
				t.Fatalf("nothing logged: %q", logs)
			}
			for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
				if len(line) > 4<<10 {
					t.Fatalf("a log record of %d bytes: %.300s…", len(line), line)
				}
				if strings.Contains(line, "\\ufffd") || strings.Contains(line, "�") {
					t.Fatalf("a cut split a rune: %.300s", line)
				}
			}
		})
	}
}
