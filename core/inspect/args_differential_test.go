package inspect

import (
	stdjson "encoding/json"
	"net/http"
	"reflect"
	"slices"
	"testing"
)

// The argument differential: when Inspect accepts a tools/call with
// declared arguments, the arguments the real go-sdk server hands to the
// tool handler decode (with encoding/json, into a map as a raw handler
// does and into a struct as a typed handler does) to exactly the values
// Inspect gives the policy.

var fuzzDecls = func() *ArgDecls {
	d, err := NewArgDecls([]ToolArgs{{Tool: "*", Args: []ArgSpec{
		{Name: "env", Type: ArgString, Default: ""},
		{Name: "r", Path: []string{"t", "r"}, Type: ArgString, Default: ""},
		{Name: "n", Type: ArgNumber, Default: 0},
		{Name: "b", Type: ArgBool, Default: false},
		{Name: "l", Type: ArgStringList, Default: []string{}},
	}}})
	if err != nil {
		panic(err)
	}
	return d
}()

// fuzzTyped is what a typed handler would declare.
type fuzzTyped struct {
	Env string `json:"env"`
	T   *struct {
		R string `json:"r"`
	} `json:"t"`
	N float64  `json:"n"`
	B bool     `json:"b"`
	L []string `json:"l"`
}

func checkArgsDifferential(t *testing.T, body []byte) int {
	h := http.Header{"Content-Type": {"application/json"}, "Mcp-Protocol-Version": {Version20250326}}
	r, err := Inspect("POST", h, body, Options{Args: fuzzDecls})
	if err != nil || len(r.Messages) != 1 || r.Messages[0].Method != "tools/call" || r.Messages[0].Kind != KindRequest {
		return 0
	}
	seen := r.Messages[0].Args
	sdkServeMu.Lock()
	sdkOnce().serve(h, body)
	ref := sdkOnce()
	ref.mu.Lock()
	raws := slices.Clone(ref.args)
	ref.mu.Unlock()
	sdkServeMu.Unlock()
	for _, raw := range raws {
		// Raw handler: encoding/json into a map.
		var m map[string]any
		if raw != "" && raw != "null" {
			if err := stdjson.Unmarshal([]byte(raw), &m); err != nil {
				t.Fatalf("handler cannot decode arguments %q Inspect accepted: %v", raw, err)
			}
		}
		got := map[string]any{"env": "", "r": "", "n": 0.0, "b": false, "l": []string{}}
		if v, ok := m["env"]; ok {
			got["env"] = v
		}
		if tm, ok := m["t"].(map[string]any); ok {
			if v, ok := tm["r"]; ok {
				got["r"] = v
			}
		}
		if v, ok := m["n"]; ok {
			got["n"] = v
		}
		if v, ok := m["b"]; ok {
			got["b"] = v
		}
		if l, ok := m["l"].([]any); ok {
			ls := []string{}
			for _, x := range l {
				s, _ := x.(string)
				ls = append(ls, s)
			}
			got["l"] = ls
		}
		if !reflect.DeepEqual(got, seen) {
			t.Fatalf("policy saw %#v, a map handler gets %#v, body %q", seen, got, body)
		}
		// Typed handler: encoding/json into a struct (case-insensitive).
		var typed fuzzTyped
		if raw != "" && raw != "null" {
			if err := stdjson.Unmarshal([]byte(raw), &typed); err != nil {
				t.Fatalf("typed handler cannot decode %q: %v", raw, err)
			}
		}
		tr := ""
		if typed.T != nil {
			tr = typed.T.R
		}
		if typed.L == nil {
			typed.L = []string{}
		}
		tg := map[string]any{"env": typed.Env, "r": tr, "n": typed.N, "b": typed.B, "l": typed.L}
		if !reflect.DeepEqual(tg, seen) {
			t.Fatalf("policy saw %#v, a typed handler gets %#v, body %q", seen, tg, body)
		}
	}
	return len(raws)
}

func argBody(args string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":` + args + `}}`
}

var argSeeds = []string{
	argBody(`{"env":"prod","t":{"r":"eu"},"n":1.5,"b":true,"l":["a","b"]}`),
	argBody(`{"env":"pr\u006fd","\u0074":{"\u0072":"\ud83d\ude00"}}`),
	argBody(`{"env":"a","env":"b"}`),
	argBody(`{"env":"a","ENV":"b"}`),
	argBody(`{"ENV":"b"}`),
	argBody(`{"t":{"R":"x"}}`),
	argBody(`{"t":{"r":"x","R":"y"}}`),
	argBody(`{"T":{"r":"x"}}`),
	argBody(`{"t":null}`),
	argBody(`{"n":1e400}`),
	argBody(`{"n":-0.0,"b":false}`),
	argBody(`{"n":"1"}`),
	argBody(`{"l":["a",null]}`),
	argBody(`{"l":null}`),
	argBody(`{"env":null}`),
	argBody(`null`),
	argBody(`[]`),
	argBody(`{"e\u006ev":"x","extra":{"env":"y"}}`),
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","Arguments":{"env":"y"}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"env":"a"},"arguments":{"env":"b"}}}`,
}

func TestArgsDifferentialSeeds(t *testing.T) {
	t.Parallel()
	dispatched := 0
	for _, s := range argSeeds {
		dispatched += checkArgsDifferential(t, []byte(s))
	}
	if dispatched < 4 {
		t.Fatalf("the go-sdk server dispatched only %d tool calls for the seeds", dispatched)
	}
}

// FuzzArgsDifferential: go test -run XXX -fuzz FuzzArgsDifferential ./core/inspect
func FuzzArgsDifferential(f *testing.F) {
	for _, s := range argSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkArgsDifferential(t, body) })
}
