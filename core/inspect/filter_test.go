package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func allowOnly(names ...string) Allow {
	return func(kind, name string) bool {
		for _, n := range names {
			if n == kind+":"+name {
				return true
			}
		}
		return false
	}
}

func TestFilterJSON(t *testing.T) {
	t.Parallel()
	allow := allowOnly("tool:ls", "prompt:greet", "resource:file:///a", "resource:file:///{x}")
	tests := []struct {
		name, list, in, want string
		private              bool
		id                   string
	}{
		{"tools", "tools",
			`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ls","inputSchema":{"type":"object"}},{"name":"rm"},{"name":"ls2"}],"nextCursor":"c2","_meta":{"x":1},"extra":[1]}}`,
			`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ls","inputSchema":{"type":"object"}}],"nextCursor":"c2","_meta":{"x":1},"extra":[1]}}`, false, ""},
		{"whitespace kept outside the list", "tools",
			"{ \"jsonrpc\" : \"2.0\", \"id\" : 1, \"result\" : { \"tools\" : [ {\"name\":\"rm\"} , {\"name\" : \"ls\"} ] , \"nextCursor\" : \"x\" } }",
			"{ \"jsonrpc\" : \"2.0\", \"id\" : 1, \"result\" : { \"tools\" : [{\"name\" : \"ls\"}] , \"nextCursor\" : \"x\" } }", false, ""},
		{"escaped names decoded", "tools",
			`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"n\u0061me":"l\u0073"},{"name":"r\u006d"}]}}`,
			`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"n\u0061me":"l\u0073"}]}}`, false, ""},
		{"bad items dropped", "tools",
			`{"jsonrpc":"2.0","id":1,"result":{"tools":[1,"ls",null,{"title":"ls"},{"name":7},{"Name":"ls"},{"name":"ls"}]}}`,
			`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ls"}]}}`, false, ""},
		{"prompts", "prompts",
			`{"jsonrpc":"2.0","id":"a","result":{"prompts":[{"name":"greet"},{"name":"secret"}]}}`,
			`{"jsonrpc":"2.0","id":"a","result":{"prompts":[{"name":"greet"}]}}`, false, ""},
		{"resources by uri", "resources",
			`{"jsonrpc":"2.0","id":1,"result":{"resources":[{"uri":"file:///b","name":"a"},{"uri":"file:///a","name":"b"}]}}`,
			`{"jsonrpc":"2.0","id":1,"result":{"resources":[{"uri":"file:///a","name":"b"}]}}`, false, ""},
		{"templates by uriTemplate", "resourceTemplates",
			`{"jsonrpc":"2.0","id":1,"result":{"resourceTemplates":[{"uriTemplate":"file:///{x}","name":"t"},{"uriTemplate":"db://{y}","name":"u"}]}}`,
			`{"jsonrpc":"2.0","id":1,"result":{"resourceTemplates":[{"uriTemplate":"file:///{x}","name":"t"}]}}`, false, ""},
		{"all removed", "tools",
			`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"rm"}]}}`,
			`{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}`, false, ""},
		{"mark private inserts", "tools",
			`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ls"}],"ttlMs":5}}`,
			`{"jsonrpc":"2.0","id":1,"result":{"cacheScope":"private","tools":[{"name":"ls"}],"ttlMs":5}}`, true, ""},
		{"mark private replaces after list", "tools",
			`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"rm"}],"cacheScope":"public"}}`,
			`{"jsonrpc":"2.0","id":1,"result":{"tools":[],"cacheScope":"private"}}`, true, ""},
		{"mark private replaces before list", "tools",
			`{"jsonrpc":"2.0","id":1,"result":{"cacheScope":"public","tools":[{"name":"rm"},{"name":"ls"}]}}`,
			`{"jsonrpc":"2.0","id":1,"result":{"cacheScope":"private","tools":[{"name":"ls"}]}}`, true, ""},
		{"mark private empty result", "tools",
			`{"jsonrpc":"2.0","id":1,"result":{}}`,
			`{"jsonrpc":"2.0","id":1,"result":{"cacheScope":"private"}}`, true, ""},
		{"no list member unchanged", "tools",
			`{"jsonrpc":"2.0","id":1,"result":{"nextCursor":"x"}}`,
			`{"jsonrpc":"2.0","id":1,"result":{"nextCursor":"x"}}`, false, ""},
		{"error response unchanged", "tools",
			`{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"x"}}`,
			`{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"x"}}`, true, ""},
		{"notification unchanged", "tools",
			`{"jsonrpc":"2.0","method":"notifications/message","params":{"tools":[{"name":"rm"}]}}`,
			`{"jsonrpc":"2.0","method":"notifications/message","params":{"tools":[{"name":"rm"}]}}`, false, ""},
		{"other id unchanged", "tools",
			`{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"rm"}]}}`,
			`{"jsonrpc":"2.0","id":2,"result":{"tools":[{"name":"rm"}]}}`, false, "1"},
		{"matching float id as the SDK echoes it", "tools",
			`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"rm"}]}}`,
			`{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}`, false, "1.5"},
		{"matching escaped string id", "tools",
			`{"jsonrpc":"2.0","id":"\u0061","result":{"tools":[{"name":"rm"}]}}`,
			`{"jsonrpc":"2.0","id":"\u0061","result":{"tools":[]}}`, false, `"a"`},
		{"batch", "tools",
			`[{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"rm"},{"name":"ls"}]}},{"jsonrpc":"2.0","id":2,"result":{}}]`,
			`[{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ls"}]}},{"jsonrpc":"2.0","id":2,"result":{}}]`, false, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := Filter{List: tt.list, Allow: allow, MarkPrivate: tt.private}
			if tt.id != "" {
				f.RequestID = json.RawMessage(tt.id)
			}
			got, err := f.JSON([]byte(tt.in))
			if err != nil {
				t.Fatalf("JSON: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid(got) {
				t.Errorf("invalid JSON output")
			}
		})
	}
}

func TestFilterJSONFailsClosed(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in string }{
		{"not json", `{"jsonrpc":"2.0","id":1,"result":{"tools":[`},
		{"duplicate tools", `{"jsonrpc":"2.0","id":1,"result":{"tools":[],"tools":[{"name":"rm"}]}}`},
		{"case variant Tools", `{"jsonrpc":"2.0","id":1,"result":{"tools":[],"Tools":[{"name":"rm"}]}}`},
		{"Tools only", `{"jsonrpc":"2.0","id":1,"result":{"Tools":[{"name":"rm"}]}}`},
		{"Result only", `{"jsonrpc":"2.0","id":1,"Result":{"tools":[{"name":"rm"}]}}`},
		{"tools not array", `{"jsonrpc":"2.0","id":1,"result":{"tools":{"name":"rm"}}}`},
		{"result not object", `{"jsonrpc":"2.0","id":1,"result":[{"name":"rm"}]}`},
		{"trailing data", `{"jsonrpc":"2.0","id":1,"result":{"tools":[]}}{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"rm"}]}}`},
		{"scalar", `"x"`},
		{"invalid utf8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"tools\":[{\"name\":\"r\xffm\"}]}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Filter{List: "tools", Allow: allowOnly("tool:ls"), RequestID: json.RawMessage("1")}.JSON([]byte(tt.in))
			if !errors.Is(err, ErrFilter) {
				t.Fatalf("err = %v", err)
			}
			want := `{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"Internal error: list response could not be filtered"}}`
			if string(got) != want {
				t.Errorf("got %s", got)
			}
		})
	}
	if _, err := FilterJSON([]byte(`{}`), "widgets", nil, false); !errors.Is(err, ErrFilter) {
		t.Errorf("unknown list: %v", err)
	}
	got, _ := FilterJSON([]byte(`x`), "tools", nil, false)
	if !bytes.Contains(got, []byte(`"id":null`)) {
		t.Errorf("no id: %s", got)
	}
}

func TestFilterNilAllowHidesAll(t *testing.T) {
	t.Parallel()
	got, err := FilterJSON([]byte(`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ls"}]}}`), "tools", nil, false)
	if err != nil || !strings.Contains(string(got), `"tools":[]`) {
		t.Errorf("%s %v", got, err)
	}
}

func FuzzFilterJSON(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"ls"},{"name":"rm"}],"nextCursor":"x"}}`), true)
	f.Add([]byte(`[{"jsonrpc":"2.0","id":1,"result":{"cacheScope":"public","tools":[{"name":"rm"}]}}]`), false)
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"result":{"tools":[],"Tools":[{"name":"rm"}]}}`), true)
	f.Fuzz(func(t *testing.T, body []byte, private bool) {
		out, err := Filter{List: "tools", Allow: allowOnly("tool:ls"), MarkPrivate: private}.JSON(body)
		if !json.Valid(out) {
			t.Fatalf("invalid output %q (err %v) for %q", out, err, body)
		}
		if err != nil {
			return
		}
		// No item other than "ls" may survive in any successful response.
		var msgs []map[string]json.RawMessage
		if bytes.HasPrefix(bytes.TrimSpace(out), []byte("[")) {
			_ = json.Unmarshal(out, &msgs)
		} else {
			var m map[string]json.RawMessage
			_ = json.Unmarshal(out, &m)
			msgs = append(msgs, m)
		}
		for _, m := range msgs {
			if _, isReq := m["method"]; isReq {
				continue
			}
			var res struct {
				Tools []struct {
					Name string `json:"name"`
				} `json:"tools"`
				CacheScope string `json:"cacheScope"`
			}
			if json.Unmarshal(m["result"], &res) != nil {
				continue
			}
			for _, tl := range res.Tools {
				if tl.Name != "ls" {
					t.Fatalf("tool %q survived in %q (from %q)", tl.Name, out, body)
				}
			}
			checkReferenceFilter(t, body, out)
			if private && m["result"] != nil && res.CacheScope != "private" {
				t.Fatalf("cacheScope %q in %q", res.CacheScope, out)
			}
		}
	})
}

// checkReferenceFilter compares a single-response FilterJSON output with a
// reference filter written with encoding/json: the kept items must be
// exactly the input items that are objects with "name": "ls".
func checkReferenceFilter(t *testing.T, in, out []byte) {
	t.Helper()
	type resp struct {
		Method json.RawMessage `json:"method"`
		Result *struct {
			Tools []json.RawMessage `json:"tools"`
		} `json:"result"`
	}
	var a, b resp
	if bytes.HasPrefix(bytes.TrimSpace(in), []byte("[")) || json.Unmarshal(in, &a) != nil || json.Unmarshal(out, &b) != nil {
		return
	}
	if a.Method != nil || a.Result == nil || b.Result == nil {
		return
	}
	var want []string
	for _, it := range a.Result.Tools {
		var m map[string]any
		if json.Unmarshal(it, &m) == nil {
			if n, ok := m["name"].(string); ok && n == "ls" {
				want = append(want, string(it))
			}
		}
	}
	var got []string
	for _, it := range b.Result.Tools {
		got = append(got, string(it))
	}
	if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
		t.Fatalf("kept %q, reference %q (input %q)", got, want, in)
	}
}
