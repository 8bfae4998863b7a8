package inspect

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// benchBody is a typical ~300-byte 2025-11-25 tools/call.
var benchBody = []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"search_issues","arguments":{"query":"label:bug state:open","repository":"mcpauthz/mcpauthz","limit":25,"include_closed":false},"_meta":{"progressToken":"c4f1a2b3-5d6e-4f70-8a9b-0c1d2e3f4a5b"}}}`)

var benchHeader = http.Header{
	"Content-Type":         {"application/json"},
	"Mcp-Protocol-Version": {"2025-11-25"},
	"Mcp-Session-Id":       {"2c6a8f1e9b7d4a3c"},
}

func BenchmarkInspectToolsCall(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		r, err := Inspect("POST", benchHeader, benchBody, Options{})
		if err != nil || r.Messages[0].Target.Name != "search_issues" {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineStdlibPeek is the baseline: what a middleware typically
// does with encoding/json (no duplicate or case-variant protection).
func BenchmarkBaselineStdlibPeek(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	type peek struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Method  string          `json:"method"`
		Params  struct {
			Name string `json:"name"`
		} `json:"params"`
	}
	for b.Loop() {
		var p peek
		if err := json.Unmarshal(benchBody, &p); err != nil || p.Params.Name != "search_issues" {
			b.Fatal(err)
		}
	}
}

func BenchmarkStrictjsonValidate(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	for b.Loop() {
		if err := jsonscan.Validate(benchBody, jsonscan.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// listBody is a tools/list response with 20 tools, 10 of them visible.
var listBody = func() []byte {
	var b []byte
	b = append(b, `{"jsonrpc":"2.0","id":7,"result":{"tools":[`...)
	for i := 0; i < 20; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"name":"tool_`...)
		b = append(b, byte('a'+i))
		b = append(b, `","description":"A tool that does something useful.","inputSchema":{"type":"object","properties":{"q":{"type":"string"}}}}`...)
	}
	return append(b, `],"nextCursor":"abc"}}`...)
}()

func allowEven(_, name string) bool { return (name[len(name)-1]-'a')%2 == 0 }

func BenchmarkFilterJSONToolsList(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(listBody)))
	for b.Loop() {
		if _, err := FilterJSON(listBody, "tools", allowEven, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBaselineStdlibFilter decodes and re-encodes the same list with
// encoding/json (no strictness, loses unknown fields' order).
func BenchmarkBaselineStdlibFilter(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(listBody)))
	for b.Loop() {
		var m struct {
			JSONRPC string          `json:"jsonrpc"`
			ID      json.RawMessage `json:"id"`
			Result  struct {
				Tools      []map[string]any `json:"tools"`
				NextCursor string           `json:"nextCursor"`
			} `json:"result"`
		}
		if err := json.Unmarshal(listBody, &m); err != nil {
			b.Fatal(err)
		}
		kept := m.Result.Tools[:0]
		for _, t := range m.Result.Tools {
			if allowEven("tool", t["name"].(string)) {
				kept = append(kept, t)
			}
		}
		m.Result.Tools = kept
		if _, err := json.Marshal(m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInspectParts splits Inspect of benchBody into its parts, run in
// interleaved rounds and reported as medians (ns per call), to show where
// the P4 time goes on a loaded machine: the strict walk, the generic
// jsonscan.Validate of the same body for comparison, the header checks,
// build (the message rules and the target name), and the Request and name
// allocations.
func BenchmarkInspectParts(b *testing.B) {
	const round = 16
	var sink *Request
	var w walker
	v := newView()
	var views []msgView
	if _, err := w.body(benchBody, 0, &v, &views); err != nil {
		b.Fatal(err)
	}
	d := decoder{body: benchBody, version: Version20251125, maxName: DefaultMaxNameLength, maxURI: DefaultMaxURIBytes}
	parts := []struct {
		name string
		f    func()
	}{
		{"inspect", func() { sink, _ = Inspect("POST", benchHeader, benchBody, Options{}) }},
		{"walk", func() {
			var w walker
			v := newView()
			_, _ = w.body(benchBody, 0, &v, &views)
		}},
		{"validate", func() { _ = jsonscan.Validate(benchBody, jsonscan.Options{}) }},
		{"headers", func() {
			o := Options{}
			h := headerOf(benchHeader)
			ver, _ := effectiveVersion(&h, &o)
			_, _ = single(h.SessionID)
			_ = checkContentHeaders(&h)
			_ = checkStandardHeaders(&h, atLeast20260728(ver), &Message{Kind: KindRequest, Method: "tools/call", Target: Target{Name: "search_issues"}})
		}},
		{"build", func() {
			u := v
			_ = d.build(&u, &Message{})
		}},
		{"alloc", func() {
			box := new(requestBox)              // Inspect's one allocation
			copy(box.name[:], benchBody[64:77]) // the name string is made from these bytes
			sink = &box.r
		}},
	}
	ds := make([][]time.Duration, len(parts))
	for b.Loop() {
		for i, p := range parts {
			t0 := time.Now()
			for range round {
				p.f()
			}
			ds[i] = append(ds[i], time.Since(t0))
		}
	}
	_ = sink
	for i, p := range parts {
		slices.Sort(ds[i])
		b.ReportMetric(float64(ds[i][len(ds[i])/2])/round, p.name+"-ns")
	}
}
