package inspect

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/strictjson"
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
		if err := strictjson.Validate(benchBody, strictjson.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
