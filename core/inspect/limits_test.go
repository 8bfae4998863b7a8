package inspect

import (
	"errors"
	"strings"
	"testing"
)

// TestTargetLimits is issue 10 §2: names beyond the MCP limit (1 to 128
// characters) and URIs beyond 8 KiB are refused early with -32602, echoing
// the request id.
func TestTargetLimits(t *testing.T) {
	t.Parallel()
	call := func(method, params string) []byte {
		return []byte(`{"jsonrpc":"2.0","id":"r1","method":"` + method + `","params":` + params + `}`)
	}
	name := func(n string) string { return `{"name":"` + n + `"}` }
	uri := func(u string) string { return `{"uri":"` + u + `"}` }
	long := strings.Repeat("a", 900<<10)
	tests := []struct {
		name string
		body []byte
		opts Options
		ok   bool
	}{
		{"tool 128", call("tools/call", name(strings.Repeat("a", 128))), Options{}, true},
		{"tool 129", call("tools/call", name(strings.Repeat("a", 129))), Options{}, false},
		{"tool 128 multibyte", call("tools/call", name(strings.Repeat("é", 128))), Options{}, true},
		{"tool 128 escaped", call("tools/call", name(strings.Repeat(`\ud83d\ude00`, 128))), Options{}, true},
		{"tool 129 escaped", call("tools/call", name(strings.Repeat(`\u00e9`, 129))), Options{}, false},
		{"tool empty", call("tools/call", name("")), Options{}, false},
		{"tool 900 KB", call("tools/call", name(long)), Options{}, false},
		{"tool 900 KB unbounded", call("tools/call", name(long)), Options{MaxNameLength: -1}, true},
		{"tool 10 of 8", call("tools/call", name("abcdefghij")), Options{MaxNameLength: 8}, false},
		{"prompt 129", call("prompts/get", name(strings.Repeat("p", 129))), Options{}, false},
		{"prompt 128", call("prompts/get", name(strings.Repeat("p", 128))), Options{}, true},
		{"completion prompt 129", call("completion/complete", `{"ref":{"type":"ref/prompt","name":"`+strings.Repeat("p", 129)+`"}}`), Options{}, false},
		{"uri 8 KiB", call("resources/read", uri("file:///"+strings.Repeat("u", 8192-8))), Options{}, true},
		{"uri 8 KiB + 1", call("resources/read", uri("file:///"+strings.Repeat("u", 8192-7))), Options{}, false},
		{"uri 900 KB", call("resources/read", uri(long)), Options{}, false},
		{"subscribe uri", call("resources/subscribe", uri(long)), Options{}, false},
		{"completion uri", call("completion/complete", `{"ref":{"type":"ref/resource","uri":"`+long+`"}}`), Options{}, false},
		{"uri 900 KB unbounded", call("resources/read", uri(long)), Options{MaxURIBytes: -1}, true},
		{"uri escaped within", call("resources/read", uri(strings.Repeat(`\u0041`, 8192))), Options{}, true},
	}
	for _, tt := range tests {
		r, err := Inspect("POST", hdr(), tt.body, tt.opts)
		if tt.ok {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		var e *Error
		if r != nil || !errors.As(err, &e) || e.Code != CodeInvalidParams || string(e.ID) != `"r1"` {
			t.Errorf("%s: got %v, %#v", tt.name, r, err)
		}
	}
}

// TestOversizedNameCostsNoCopy checks that a refused 900 KB name is never
// decoded into a string.
func TestOversizedNameCostsNoCopy(t *testing.T) {
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + strings.Repeat("a", 900<<10) + `"}}`)
	h := hdr()
	var e *Error
	allocs := testing.AllocsPerRun(5, func() {
		_, err := Inspect("POST", h, body, Options{})
		if !errors.As(err, &e) {
			t.Fatal("accepted")
		}
	})
	if allocs > 8 {
		t.Errorf("%v allocations to refuse an oversized name", allocs)
	}
}
