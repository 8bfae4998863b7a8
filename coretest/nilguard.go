package coretest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

// RunNilGuard checks that an adapter given a nil *core.Guard (core.New's
// error dropped) neither panics nor lets a request through: h.Start with
// a nil Guard must not panic, every request to the MCP endpoint
// (g.ResourcePath() of a nil Guard is "/") and to the metadata path
// (core.WellKnownPath) is answered 500 with a JSON-RPC error body, the inner
// handler never runs, and core.ErrNilGuard is logged.
//
// It replaces slog.Default while it runs (a nil Guard has no logger of its
// own), so call it from a test that does not call t.Parallel.
func RunNilGuard(t *testing.T, h Harness) {
	t.Helper()
	logs := &testkit.Buffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(logs, nil)))
	t.Cleanup(func() { slog.SetDefault(prev) })

	var reached atomic.Int32
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.WriteHeader(http.StatusOK)
	})
	var g *core.Guard
	base := strings.TrimSuffix(h.Start(t, g, inner, ""), "/")
	client := &http.Client{Timeout: 30 * time.Second}
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{}}}`
	for _, tt := range []struct {
		name, method, path, auth, body string
	}{
		{"tools/call with a token", http.MethodPost, "/", "Bearer not-checked", body},
		{"tools/call without a token", http.MethodPost, "/", "", body},
		{"GET on the endpoint", http.MethodGet, "/", "Bearer not-checked", ""},
		{"metadata", http.MethodGet, core.WellKnownPath, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, tt.method, base+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/json, text/event-stream")
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("request failed (a panicking adapter drops the connection): %v", err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			if resp.StatusCode != http.StatusInternalServerError {
				t.Fatalf("status %d, want 500; body %s", resp.StatusCode, b)
			}
			var rpc struct {
				Error struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
				} `json:"error"`
			}
			if err := json.Unmarshal(b, &rpc); err != nil || rpc.Error.Code == 0 || rpc.Error.Message == "" {
				t.Fatalf("body %s is not a JSON-RPC error (%v)", b, err)
			}
		})
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("the inner handler ran %d times behind a nil Guard", n)
	}
	if !strings.Contains(logs.String(), "nil *Guard") {
		t.Errorf("core.ErrNilGuard was not logged; log:\n%s", logs.String())
	}
}
