package inspect

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestHeaderLookups checks headerOf (the lookups InspectInto makes) and a
// Header gathered with Set over the map's keys (what core does) against
// plain map lookups of the six names Inspect reads, on maps with empty
// values, non-canonical keys, unrelated keys and a nil map.
func TestHeaderLookups(t *testing.T) {
	t.Parallel()
	names := []string{HeaderProtocolVersion, HeaderSessionID, "Content-Type", "Content-Encoding", HeaderMethod, HeaderName}
	maps := []http.Header{
		nil,
		{},
		{"Content-Type": {"application/json"}},
		{"Content-Type": {"application/json"}, HeaderProtocolVersion: {"2025-11-25"}, HeaderSessionID: {"s"}},
		{"Content-Type": {"application/json"}, HeaderName: {"n"}},
		{"Content-Type": nil, HeaderName: {}, HeaderMethod: {"tools/call"}},
		{"content-type": {"application/json"}, HeaderName: {"n"}, "mcp-method": {"x"}},
		{"X-Other": {"1"}, HeaderMethod: {"a", "b"}},
		{"Content-Type": {"a"}, "Content-Encoding": {"gzip"}, HeaderProtocolVersion: {"v"}, HeaderSessionID: {"s"}, HeaderMethod: {"m"}, HeaderName: {"n"}},
	}
	fields := func(h *Header) [][]string {
		return [][]string{h.ProtocolVersion, h.SessionID, h.ContentType, h.ContentEncoding, h.Method, h.Name}
	}
	for mi, m := range maps {
		looked := headerOf(m)
		var gathered Header
		for k, v := range m {
			if got, want := gathered.Set(k, v), slices.Contains(names, k); got != want {
				t.Errorf("map %d: Set(%q) = %v, want %v", mi, k, got, want)
			}
		}
		for i, n := range names {
			want := m[n]
			if got := fields(&looked)[i]; !slices.Equal(got, want) || (got == nil) != (want == nil) {
				t.Errorf("map %d: headerOf %s = %q, want %q", mi, n, got, want)
			}
			if got := fields(&gathered)[i]; !slices.Equal(got, want) || (got == nil) != (want == nil) {
				t.Errorf("map %d: Set %s = %q, want %q", mi, n, got, want)
			}
		}
	}
}

// TestInspectNameStorage checks the target name Inspect stores next to the
// Request: every length around the spare room, escaped names, URIs, and
// that neither a later change to the body nor a second Inspect alters it.
func TestInspectNameStorage(t *testing.T) {
	t.Parallel()
	h := legacy()
	var kept []*Request
	var want []string
	for n := 1; n <= 60; n++ {
		name := strings.Repeat("x", n-1) + string(rune('a'+n%26))
		for _, tc := range []struct{ body, want string }{
			{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + name + `"}}`, name},
			{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\u0041` + name + `"}}`, "A" + name},
			{`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///` + name + `"}}`, "file:///" + name},
			{`{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"` + name + `"},"argument":{"name":"a","value":""}}}`, name},
		} {
			body := []byte(tc.body)
			r, err := Inspect("POST", h, body, Options{})
			if err != nil {
				t.Fatalf("%s: %v", tc.body, err)
			}
			for i := range body {
				body[i] = '#'
			}
			kept = append(kept, r)
			want = append(want, tc.want)
		}
	}
	for i, r := range kept {
		if got := r.Messages[0].Target.Name; got != want[i] {
			t.Fatalf("request %d: name %q, want %q", i, got, want[i])
		}
	}
	// A batch never uses the spare room: every element gets its own name.
	body := []byte(`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a"}},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"b"}}]`)
	r, err := Inspect("POST", h, body, Options{})
	if err != nil || r.Messages[0].Target.Name != "a" || r.Messages[1].Target.Name != "b" {
		t.Fatalf("batch: %v %+v", err, r)
	}
}
