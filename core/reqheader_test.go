package core

import (
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// TestReqHeaderGather: the one pass over a small header, the lookups
// over a large one and the lookups through Request.Fields all find exactly
// what a map lookup by each canonical name finds (non-canonical keys, nil and empty values, repeated values,
// unrelated keys, a nil map).
func TestReqHeaderGather(t *testing.T) {
	t.Parallel()
	names := []string{"Authorization", "Origin", "X-Request-Id", "Last-Event-Id",
		inspect.HeaderProtocolVersion, inspect.HeaderSessionID, "Content-Type", "Content-Encoding",
		inspect.HeaderMethod, inspect.HeaderName}
	fields := func(h *reqHeader) [][]string {
		return [][]string{h.authorization, h.origin, h.requestID, h.lastEventID,
			h.ins.ProtocolVersion, h.ins.SessionID, h.ins.ContentType, h.ins.ContentEncoding, h.ins.Method, h.ins.Name}
	}
	full := http.Header{}
	for i, n := range names {
		full[n] = []string{fmt.Sprint(i)}
	}
	big := full.Clone()
	for i := range gatherMax {
		big[fmt.Sprintf("X-Pad-%d", i)] = []string{"p"}
	}
	headers := []http.Header{
		nil,
		{},
		{"Authorization": {"Bearer a", "Bearer b"}, "Content-Type": nil, "Origin": {}},
		{"authorization": {"Bearer a"}, "content-type": {"x"}, "mcp-session-id": {"s"}, "X-Other": {"1"}},
		full,
		big,
	}
	for hi, hd := range headers {
		var h, hf reqHeader
		h.gather(hd)
		hf.gatherFrom(headerFields(hd)) // the same header through Request.Fields
		for i, n := range names {
			want := hd[n]
			if got := fields(&h)[i]; !slices.Equal(got, want) || (got == nil) != (want == nil) {
				t.Errorf("header %d (%d keys): %s = %q, want %q", hi, len(hd), n, got, want)
			}
			if got := fields(&hf)[i]; !slices.Equal(got, want) || (got == nil) != (want == nil) {
				t.Errorf("header %d (%d keys) through Fields: %s = %q, want %q", hi, len(hd), n, got, want)
			}
		}
	}
	if len(big) <= gatherMax || len(full) > gatherMax {
		t.Fatal("the cases no longer cover both branches")
	}
}
