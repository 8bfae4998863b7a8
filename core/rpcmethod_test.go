package core

import (
	"context"
	"net/http"
	"testing"
)

// TestResultRPCMethod: RPCMethod is the method of a POST of one JSON-RPC
// request or notification, and "" for a batch (even of one message), a
// client's response, a GET and a DELETE.
func TestResultRPCMethod(t *testing.T) {
	t.Parallel()
	g := newGuard(t)
	legacy := []string{"Mcp-Protocol-Version", "", "Mcp-Protocol-Version", "2025-03-26"}
	tests := []struct {
		name string
		req  *Request
		want string
	}{
		{"tools/call", post(tokAlice, toolCall("ls")), "tools/call"},
		{"tools/list", post(tokAlice, toolsList), "tools/list"},
		{"notification", post(tokAlice, `{"jsonrpc":"2.0","method":"notifications/initialized"}`), "notifications/initialized"},
		{"unknown notification", post(tokAlice, `{"jsonrpc":"2.0","method":"notifications/x-custom"}`), ""},
		{"logging/setLevel", post(tokAlice, `{"jsonrpc":"2.0","id":2,"method":"logging/setLevel","params":{"level":"info"}}`), "logging/setLevel"},
		{"client response", post(tokAlice, `{"jsonrpc":"2.0","id":3,"result":{}}`), ""},
		{"batch of one", post(tokAlice, `[`+toolCall("ls")+`]`, legacy...), ""},
		{"batch of two", post(tokAlice, `[`+toolCall("ls")+`,{"jsonrpc":"2.0","id":9,"method":"ping"}]`, legacy...), ""},
		{"GET", &Request{Method: http.MethodGet, Path: "/mcp", Header: post(tokAlice, "").Header}, ""},
		{"DELETE", &Request{Method: http.MethodDelete, Path: "/mcp", Header: post(tokAlice, "").Header}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := g.Check(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if got := res.RPCMethod(); got != tt.want {
				t.Errorf("RPCMethod() = %q, want %q", got, tt.want)
			}
			var into Result
			if _, err := g.CheckInto(context.Background(), tt.req, &into); err != nil || into.RPCMethod() != tt.want {
				t.Errorf("CheckInto: RPCMethod() = %q (%v), want %q", into.RPCMethod(), err, tt.want)
			}
		})
	}
	if got := (*Result)(nil).RPCMethod(); got != "" {
		t.Errorf("nil Result: %q", got)
	}
}

// TestRPCCode: rpcCode and rpcMethods agree, and a method that is not
// listed (a prefix, a case variant) has none.
func TestRPCCode(t *testing.T) {
	t.Parallel()
	for i, m := range rpcMethods {
		if got := rpcCode(m); int(got) != i {
			t.Errorf("rpcCode(%q) = %d, want %d", m, got, i)
		}
	}
	for _, m := range []string{"tools/cal", "Tools/call", "tools/call ", "notifications/", "x"} {
		if got := rpcCode(m); got != 0 {
			t.Errorf("rpcCode(%q) = %d, want 0", m, got)
		}
	}
}
