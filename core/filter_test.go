package core

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

const listResponse = `{"jsonrpc":"2.0","id":"L1","result":{"tools":[{"name":"ls","inputSchema":{"type":"object"}},{"name":"rm","inputSchema":{"type":"object"}},{"name":"deploy","inputSchema":{"type":"object"}},{"name":"echo","inputSchema":{"type":"object"}}],"cacheScope":"public"}}`

func listResult(t *testing.T) *Result {
	t.Helper()
	res, err := newGuard(t).Check(context.Background(), post(tokAlice, toolsList))
	if err != nil || !res.NeedsFilter() {
		t.Fatalf("Check: %v", err)
	}
	return res
}

// visibleTools parses a JSON-RPC list response and returns the tool names
// and the cacheScope.
func visibleTools(t *testing.T, body []byte) ([]string, string) {
	t.Helper()
	var r struct {
		Result struct {
			Tools      []struct{ Name string } `json:"tools"`
			CacheScope string                  `json:"cacheScope"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	var names []string
	for _, tl := range r.Result.Tools {
		names = append(names, tl.Name)
	}
	return names, r.Result.CacheScope
}

func sseData(body string) string {
	for _, line := range strings.Split(body, "\n") {
		if d, ok := strings.CutPrefix(line, "data: "); ok {
			return d
		}
	}
	return ""
}

func TestResponseFilterJSON(t *testing.T) {
	t.Parallel()
	res := listResult(t)
	rec := httptest.NewRecorder()
	fw := res.WrapResponseWriter(rec)
	fw.Header().Set("Content-Type", "application/json")
	fw.Header().Set("Content-Length", "999")
	fw.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(fw, listResponse[:40])
	fw.Flush() // buffered: must not commit anything
	if rec.Flushed || rec.Body.Len() != 0 {
		t.Fatal("JSON body escaped before Close")
	}
	_, _ = io.WriteString(fw, listResponse[40:])
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	names, scope := visibleTools(t, rec.Body.Bytes())
	if !slices.Equal(names, []string{"ls", "deploy", "echo"}) || scope != "private" {
		t.Errorf("visible %q scope %q", names, scope)
	}
	if rec.Code != 200 || rec.Header().Get("Content-Length") != "" {
		t.Errorf("code %d, Content-Length %q", rec.Code, rec.Header().Get("Content-Length"))
	}
	if fw.Unwrap() != rec {
		t.Error("Unwrap")
	}
}

func TestResponseFilterSSE(t *testing.T) {
	t.Parallel()
	res := listResult(t)
	rec := httptest.NewRecorder()
	fw := res.WrapResponseWriter(rec)
	fw.Header().Set("Content-Type", "text/event-stream")
	stream := "event: message\ndata: " + listResponse + "\n\n"
	_, _ = io.WriteString(fw, stream[:30]) // implicit 200
	if rec.Body.Len() != 0 {
		t.Fatal("partial event forwarded")
	}
	_, _ = io.WriteString(fw, stream[30:])
	fw.Flush()
	if !rec.Flushed {
		t.Error("Flush not passed through")
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	names, scope := visibleTools(t, []byte(sseData(rec.Body.String())))
	if !slices.Equal(names, []string{"ls", "deploy", "echo"}) || scope != "private" {
		t.Errorf("visible %q scope %q in %q", names, scope, rec.Body)
	}
}

func TestResponseFilterPassThrough(t *testing.T) {
	t.Parallel()
	noList, err := newGuard(t).Check(context.Background(), post(tokAlice, toolCall("ls")))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		res  *Result
		ct   string
	}{
		{"not a list", noList, "application/json"},
		{"not a list SSE", noList, "text/event-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			fw := tt.res.WrapResponseWriter(rec)
			fw.Header().Set("Content-Type", tt.ct)
			fw.WriteHeader(http.StatusAccepted)
			_, _ = io.WriteString(fw, listResponse)
			fw.Flush()
			if rec.Body.String() != listResponse || rec.Code != http.StatusAccepted || !rec.Flushed {
				t.Errorf("passthrough changed the response: %d %q flushed=%v", rec.Code, rec.Body, rec.Flushed)
			}
			if err := fw.Close(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestResponseFilterFailsClosed(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"jsonrpc":"2.0","id":"L1","result":{"tools":"nope"}}`, `not json`, `{"jsonrpc":"2.0","id":"L1","result":{"tools":[],"Tools":[{"name":"rm"}]}}`} {
		rec := httptest.NewRecorder()
		fw := listResult(t).WrapResponseWriter(rec)
		fw.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(fw, body)
		if err := fw.Close(); err == nil {
			t.Errorf("%s: no error", body)
		}
		if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "rm") || !strings.Contains(rec.Body.String(), "-32603") {
			t.Errorf("%s: %d %s", body, rec.Code, rec.Body)
		}
	}
}

func TestFilterBodyAndStream(t *testing.T) {
	t.Parallel()
	res := listResult(t)
	out, err := res.FilterBody("application/json; charset=utf-8", []byte(listResponse))
	if err != nil {
		t.Fatal(err)
	}
	if names, _ := visibleTools(t, out); !slices.Equal(names, []string{"ls", "deploy", "echo"}) {
		t.Errorf("FilterBody JSON: %q", names)
	}
	stream := "data: " + listResponse + "\n\n"
	out, err = res.FilterBody("text/event-stream", []byte(stream))
	if err != nil {
		t.Fatal(err)
	}
	if names, _ := visibleTools(t, []byte(sseData(string(out)))); !slices.Equal(names, []string{"ls", "deploy", "echo"}) {
		t.Errorf("FilterBody SSE: %q", names)
	}
	if out, err := res.FilterBody("text/html", []byte("x")); err == nil || string(out) == "x" {
		t.Error("FilterBody passed a 2xx list response of an unknown media type through")
	}
	if out, err := res.FilterResponse(http.StatusNotFound, "text/html", []byte("x")); err != nil || string(out) != "x" {
		t.Error("FilterResponse changed an error response")
	}
	if out, err := res.FilterBody("application/json", []byte("{")); err == nil || !strings.Contains(string(out), "-32603") {
		t.Errorf("FilterBody bad JSON: %s %v", out, err)
	}
	var nilRes *Result
	if out, _ := nilRes.FilterBody("application/json", []byte(listResponse)); string(out) != listResponse {
		t.Error("nil Result filtered")
	}
	for _, ct := range []string{"application/json", "text/event-stream", "text/plain"} {
		var b strings.Builder
		w := res.NewStreamFilter(ct, &b)
		in := listResponse
		if ct == "text/event-stream" {
			in = stream
		}
		_, _ = io.WriteString(w, in)
		if err := w.Close(); err != nil {
			t.Fatalf("%s: %v", ct, err)
		}
		got := b.String()
		if ct == "text/event-stream" {
			got = sseData(got)
		}
		if ct == "text/plain" {
			if got != listResponse {
				t.Errorf("%s changed", ct)
			}
			continue
		}
		if names, _ := visibleTools(t, []byte(got)); !slices.Equal(names, []string{"ls", "deploy", "echo"}) {
			t.Errorf("%s: %q", ct, names)
		}
	}
}

// TestFilterFailsClosedOnUnknownMediaType: a successful list response the
// filters cannot read is never passed through; error responses are.
func TestFilterFailsClosedOnUnknownMediaType(t *testing.T) {
	t.Parallel()
	res := &Result{rpc: rpcCode("tools/list"), visible: func(ObjectKind, string) bool { return false }}
	items := []byte(`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"secret"}]}}`)
	if out, err := res.FilterResponse(http.StatusOK, "text/plain", items); err == nil || bytes.Contains(out, []byte("secret")) {
		t.Fatalf("FilterResponse(200, text/plain) = %q, %v; want the failure body and an error", out, err)
	}
	if out, err := res.FilterResponse(http.StatusBadRequest, "text/plain", []byte("bad request")); err != nil || string(out) != "bad request" {
		t.Fatalf("error response changed: %q, %v", out, err)
	}
	for _, status := range []int{http.StatusOK, http.StatusNotFound} {
		rec := httptest.NewRecorder()
		w := res.WrapResponseWriter(rec)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		_, _ = w.Write(items)
		_ = w.Close()
		leaked := bytes.Contains(rec.Body.Bytes(), []byte("secret"))
		switch status {
		case http.StatusOK:
			if rec.Code != http.StatusInternalServerError || leaked {
				t.Fatalf("2xx text/plain list: status %d body %q", rec.Code, rec.Body)
			}
		default:
			if rec.Code != status {
				t.Fatalf("%d passed as %d", status, rec.Code)
			}
		}
	}
}

// TestResponseFilterFailsClosedOnContentEncoding: the filters read identity
// bytes only. A list response in a content coding (a compression handler
// between the Guard and the MCP server) is refused, never passed on: the
// SSE filter would otherwise forward every "event" it finds in the
// compressed bytes unchanged.
func TestResponseFilterFailsClosedOnContentEncoding(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"text/event-stream", "application/json"} {
		for _, ce := range []string{"gzip", "br", "GZIP"} {
			rec := httptest.NewRecorder()
			fw := listResult(t).WrapResponseWriter(rec)
			fw.Header().Set("Content-Type", ct)
			fw.Header().Set("Content-Encoding", ce)
			// Stand-in for compressed bytes that happen to hold a blank line.
			_, _ = io.WriteString(fw, "\x1f\x8b\x08rm\n\nrm-deploy\n\n")
			if err := fw.Close(); err == nil {
				t.Errorf("%s %s: no error", ct, ce)
			}
			if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "rm") || rec.Header().Get("Content-Encoding") != "" {
				t.Errorf("%s %s: %d %v %q", ct, ce, rec.Code, rec.Header(), rec.Body)
			}
		}
	}
	// identity is no coding at all.
	rec := httptest.NewRecorder()
	fw := listResult(t).WrapResponseWriter(rec)
	fw.Header().Set("Content-Type", "application/json")
	fw.Header().Set("Content-Encoding", "identity")
	_, _ = io.WriteString(fw, listResponse)
	if err := fw.Close(); err != nil || rec.Code != 200 {
		t.Errorf("identity: %d %v", rec.Code, err)
	}
}
