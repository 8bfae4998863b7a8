package core

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestConformanceParity covers the differences of issue 10 §5 the Guard
// itself must not introduce: refusals echo the request's JSON-RPC id,
// methods removed in 2026-07-28 get the SDK's 404/-32601 before any
// parameter validation, and an initialize asking for a version the Guard
// refuses later is refused at initialize.
func TestConformanceParity(t *testing.T) {
	t.Parallel()
	v26 := []string{"Mcp-Protocol-Version", "", "Mcp-Protocol-Version", "2026-07-28"}
	initV := func(v string) string { return strings.Replace(initBody, "2025-11-25", v, 1) }
	tests := []struct {
		name       string
		req        *Request
		guard      func(*Config)
		wantStatus int
		wantBody   string // substring of the body
	}{
		{"unsupported version header echoes id", post(tokAlice, toolCall("ls"), "Mcp-Protocol-Version", "", "Mcp-Protocol-Version", "1999-01-01"),
			nil, 400, `"id":7,"error":{"code":-32022`},
		{"string id echoed", post(tokAlice, `{"jsonrpc":"2.0","id":"abc","method":"ping"}`, "Mcp-Protocol-Version", "", "Mcp-Protocol-Version", "1999-01-01"),
			nil, 400, `"id":"abc"`},
		{"unknown session echoes id", post(tokAlice, toolCall("ls"), "Mcp-Session-Id", "nope"), nil, 404, `"id":7,`},
		{"no token: no body parse", post("", toolCall("ls"), "Mcp-Protocol-Version", "", "Mcp-Protocol-Version", "1999-01-01"), nil, 401, `"error_description"`},
		{"subscribe removed in 2026-07-28", post(tokAlice, `{"jsonrpc":"2.0","id":3,"method":"resources/subscribe","params":{}}`, append(v26, "Mcp-Method", "resources/subscribe")...),
			nil, 404, `"id":3,"error":{"code":-32601`},
		{"unsubscribe removed, no params at all", post(tokAlice, `{"jsonrpc":"2.0","id":4,"method":"resources/unsubscribe"}`, append(v26, "Mcp-Method", "resources/unsubscribe")...),
			nil, 404, `"id":4,"error":{"code":-32601`},
		{"initialize 2024-11-05 refused", post(tokAlice, initV("2024-11-05")), nil, 400, `"id":1,"error":{"code":-32602,"message":"Unsupported protocol version","data":{"supported":["2026-07-28","2025-11-25","2025-06-18","2025-03-26"],"requested":"2024-11-05"}`},
		{"initialize in a batch 2024-11-05 refused", post(tokAlice, "["+initV("2024-11-05")+"]", "Mcp-Protocol-Version", ""), nil, 400, `"requested":"2024-11-05"`},
		{"initialize of a version the config drops", post(tokAlice, initV("2025-06-18")), func(c *Config) { c.Inspect.SupportedVersions = []string{"2025-11-25"} }, 400, `"requested":"2025-06-18"`},
		{"initialize of an unknown version passes (server negotiates)", post(tokAlice, initV("2099-01-01")), nil, 200, ""},
		{"initialize 2025-11-25 passes", post(tokAlice, initBody), nil, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var mods []func(*Config)
			if tc.guard != nil {
				mods = append(mods, tc.guard)
			}
			g := newGuard(t, mods...)
			_, err := g.Check(context.Background(), tc.req)
			status, body := http.StatusOK, ""
			if err != nil {
				r := g.Render(err)
				status, body = r.Status, string(r.Body)
			}
			if status != tc.wantStatus || !strings.Contains(body, tc.wantBody) {
				t.Errorf("got %d %s; want %d containing %s", status, body, tc.wantStatus, tc.wantBody)
			}
		})
	}
}
