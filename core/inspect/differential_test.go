package inspect

import (
	"bytes"
	stdjson "encoding/json"
	"net/http"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	segjson "github.com/segmentio/encoding/json"
)

// sdkUnmarshal decodes like the go-sdk's internal/json.Unmarshal: segmentio
// decoder, case-sensitive field matching, first JSON value only.
func sdkUnmarshal(data []byte, v any) error {
	dec := segjson.NewDecoder(bytes.NewReader(data))
	dec.DontMatchCaseInsensitiveStructFields()
	return dec.Decode(v)
}

// sdkReadBatch mirrors mcp.readBatch (go-sdk v1.8.0 transport.go).
func sdkReadBatch(data []byte) ([]jsonrpc.Message, bool, error) {
	var raw []stdjson.RawMessage
	if err := sdkUnmarshal(data, &raw); err == nil {
		if len(raw) == 0 {
			return nil, true, errEmpty
		}
		var msgs []jsonrpc.Message
		for _, r := range raw {
			m, err := jsonrpc.DecodeMessage(r)
			if err != nil {
				return nil, true, err
			}
			msgs = append(msgs, m)
		}
		return msgs, true, nil
	}
	m, err := jsonrpc.DecodeMessage(data)
	return []jsonrpc.Message{m}, false, err
}

var errEmpty = stdjson.Unmarshal([]byte("x"), new(any))

type sdkTargetParams struct {
	Name string `json:"name"`
	URI  string `json:"uri"`
	Ref  *struct {
		Type string `json:"type"`
		Name string `json:"name"`
		URI  string `json:"uri"`
	} `json:"ref"`
}

// targetName is the name the SDK's params decoding yields for the method.
func targetName(method string, p sdkTargetParams) (string, bool) {
	switch method {
	case "tools/call", "prompts/get":
		return p.Name, true
	case "resources/read", "resources/subscribe", "resources/unsubscribe":
		return p.URI, true
	case "completion/complete":
		if p.Ref == nil {
			return "", true
		}
		if p.Ref.Type == "ref/prompt" {
			return p.Ref.Name, true
		}
		return p.Ref.URI, true
	}
	return "", false
}

// checkDifferential asserts J17: when Inspect accepts a body, the SDK's
// decoder and encoding/json (case-insensitive, last duplicate wins) see the
// same messages, methods and targets — or the SDK refuses the body.
func checkDifferential(t *testing.T, body []byte, version string) {
	checkViews(t, body)
	h := http.Header{"Content-Type": {"application/json"}}
	if version != "" {
		h.Set("Mcp-Protocol-Version", version)
	}
	if version >= Version20260728 {
		// Fill the standard headers from a naive encoding/json view so that
		// the 2026-07-28 path is reached; Inspect must still decide on the
		// body alone.
		var naive struct {
			Method string `json:"method"`
			Params struct {
				Name string `json:"name"`
				URI  string `json:"uri"`
			} `json:"params"`
		}
		_ = stdjson.Unmarshal(body, &naive)
		if naive.Method != "" {
			h.Set("Mcp-Method", naive.Method)
		}
		if n := naive.Params.Name + naive.Params.URI; n != "" {
			h.Set("Mcp-Name", n)
		}
	}
	r, err := Inspect("POST", h, body, Options{AllowUnknownMethods: true})
	if err != nil {
		return
	}
	msgs, isBatch, err := sdkReadBatch(body)
	if err != nil {
		return // the SDK refuses: nothing executes
	}
	if isBatch != r.Batch || len(msgs) != len(r.Messages) {
		t.Fatalf("batch %v/%d, SDK %v/%d, body %q", r.Batch, len(r.Messages), isBatch, len(msgs), body)
	}
	var stdMsgs []stdjson.RawMessage
	if isBatch {
		if err := stdjson.Unmarshal(body, &stdMsgs); err != nil {
			t.Fatalf("encoding/json rejects accepted batch %q: %v", body, err)
		}
	} else {
		stdMsgs = []stdjson.RawMessage{body}
	}
	for i, m := range msgs {
		got := r.Messages[i]
		var sdkParams stdjson.RawMessage
		switch x := m.(type) {
		case *jsonrpc.Request:
			if got.Method != x.Method {
				t.Fatalf("method %q, SDK %q, body %q", got.Method, x.Method, body)
			}
			if (got.Kind == KindRequest) != x.IsCall() {
				t.Fatalf("kind %v, SDK call=%v, body %q", got.Kind, x.IsCall(), body)
			}
			sdkParams = x.Params
		case *jsonrpc.Response:
			if got.Kind != KindResponse {
				t.Fatalf("kind %v, SDK response, body %q", got.Kind, body)
			}
			continue
		}
		// encoding/json view of the same message.
		var std struct {
			Method string             `json:"method"`
			Params stdjson.RawMessage `json:"params"`
		}
		if err := stdjson.Unmarshal(stdMsgs[i], &std); err != nil {
			t.Fatalf("encoding/json rejects accepted message %q: %v", stdMsgs[i], err)
		}
		if std.Method != got.Method {
			t.Fatalf("method %q, encoding/json %q, body %q", got.Method, std.Method, body)
		}
		var sp, ep sdkTargetParams
		if len(sdkParams) > 0 && sdkUnmarshal(sdkParams, &sp) != nil {
			continue // the SDK refuses the params: nothing executes
		}
		want, ok := targetName(got.Method, sp)
		if !ok {
			continue
		}
		if got.Target.Name != want {
			t.Fatalf("target %q, SDK %q, body %q", got.Target.Name, want, body)
		}
		if len(std.Params) > 0 && stdjson.Unmarshal(std.Params, &ep) == nil {
			if w, _ := targetName(got.Method, ep); w != got.Target.Name {
				t.Fatalf("target %q, encoding/json %q, body %q", got.Target.Name, w, body)
			}
		}
	}
}

// checkViews asserts that a single message and the same message as the
// only element of a batch are located identically (one visitor, two
// depths).
func checkViews(t *testing.T, body []byte) {
	i := jsonscan.SkipWS(body, 0)
	if i >= len(body) || body[i] != '{' {
		return
	}
	x := visitor{v: newView()}
	if jsonscan.Validate(body, jsonscan.Options{Visitor: &x, VisitDepth: 3}) != nil {
		return
	}
	batch := append(append([]byte("["), body...), ']')
	y := visitor{batch: true}
	if err := jsonscan.Validate(batch, jsonscan.Options{Visitor: &y, VisitDepth: 4}); err != nil {
		t.Fatalf("batch of a valid message refused: %v", err)
	}
	if len(y.views) != 1 {
		t.Fatalf("%d views for a batch of one: %q", len(y.views), body)
	}
	w := shiftView(y.views[0], -1)
	if w != x.v {
		t.Fatalf("views differ for %q:\nsingle %+v\nbatch  %+v", body, x.v, w)
	}
}

// shiftView moves every offset of v by d.
func shiftView(v msgView, d int) msgView {
	for _, p := range []*int{&v.jsonrpc, &v.id, &v.method, &v.params, &v.name, &v.uri, &v.meta, &v.ref, &v.metaVersion, &v.refType, &v.refName, &v.refURI} {
		if *p >= 0 {
			*p += d
		}
	}
	return v
}

// differentialSeeds are the J-series bodies (security-test-plan §7).
var differentialSeeds = []struct{ body, version string }{
	{`{"jsonrpc":"2.0","id":1,"method":"tools/call","Method":"tools/list","params":{"name":"ls"}}`, ""},                                                             // J01
	{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm","NAME":"ls"}}`, "2025-11-25"},                                                             // J02
	{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"Name":"rm"}}`, "2025-11-25"},                                                                         // J02
	{`{"jsonrpc":"2.0","id":1,"method":"tools/call","method":"tools/list","params":{"name":"ls"}}`, ""},                                                             // J03
	{`{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/call","params":{"name":"ls","name":"rm"}}`, ""},                                                                // J03
	{`{"jsonrpc":"2.0","id":1,"\u006dethod":"tools\u002fcall","params":{"name":"r\u006d"}}`, "2025-03-26"},                                                          // J04
	{`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls"}},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"rm"}}]`, "2025-03-26"}, // J05
	{`[]`, "2025-03-26"}, // J05
	{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls"}}{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"rm"}}`, ""}, // J06
	{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"ls\"}}\x00", ""},                                                  // J06
	{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"r\xffm\"}}", ""},                                                  // J07
	{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\ud800"}}`, ""},                                                                  // J07
	{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","arguments":[[[[[[[[[[[[]]]]]]]]]]]]}}`, ""},                                 // J09
	{`{"jsonrpc":"2.0","id":1,"result":{}}`, "2025-11-25"},                                                                                             // J12
	{`{"jsonrpc":"2.0","id":1,"method":null}`, ""},                                                                                                     // J12
	{`{"jsonrpc":"2.0","id":1,"method":""}`, ""},                                                                                                       // J12
	{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_*"}}`, ""},                                                                  // J15
	{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"l\u0455 "}}`, ""},                                                                // J15
	{`{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}`, ""},                                                                                             // J16
	{`{"jsonrpc":"2.0","id":1e400,"method":"ping"}`, ""},                                                                                               // J16
	{`{"jsonrpc":"2.0","id":1.5,"method":"ping"}`, ""},                                                                                                 // J16
	{`{"jsonrpc":"2.0","id":null,"method":"tools/call","params":{"name":"rm"}}`, ""},                                                                   // J16
	{`{"jsonrpc":"2.0","id":"7","method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"file:///{x}","name":"n"}}}`, ""},
	{`{"jsonrpc":"2.0","id":"7","method":"resources/read","params":{"uri":"file:///etc/passwd","_meta":{"a":1}}}`, "2025-06-18"},
	{`{"jsonrpc":"2.0","id":1,"method":"tools/call","param\u017f":{"name":"rm"},"params":{"name":"ls"}}`, ""},
	{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","n\u0041me":"rm"}}`, ""},
	{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls",` + meta26 + `}}`, "2026-07-28"},
	{`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///x",` + meta26 + `}}`, "2026-07-28"},
	{`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"Name":"rm","name":"ls",` + meta26 + `}}`, "2026-07-28"},
}

func TestDifferentialSeeds(t *testing.T) {
	t.Parallel()
	for _, s := range differentialSeeds {
		checkDifferential(t, []byte(s.body), s.version)
	}
}

// FuzzInspectDifferential is J17: run with
// go test -run XXX -fuzz FuzzInspectDifferential ./core/inspect
func FuzzInspectDifferential(f *testing.F) {
	for _, s := range differentialSeeds {
		f.Add([]byte(s.body), s.version)
	}
	f.Fuzz(func(t *testing.T, body []byte, version string) {
		checkDifferential(t, body, version)
	})
}

// FuzzInspect checks that Inspect never panics and that every refusal is a
// well-formed *Error, for any method, headers and body.
func FuzzInspect(f *testing.F) {
	for _, s := range differentialSeeds {
		f.Add("POST", s.version, "tools/call", "ls", []byte(s.body))
	}
	f.Add("GET", "2026-07-28", "", "", []byte(nil))
	f.Add("POST", "2026-07-28", "tools/call", "=?base64?bHM=?=", []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls",`+meta26+`}}`))
	f.Fuzz(func(t *testing.T, method, version, mcpMethod, mcpName string, body []byte) {
		h := http.Header{"Content-Type": {"application/json"}}
		for k, v := range map[string]string{"Mcp-Protocol-Version": version, "Mcp-Method": mcpMethod, "Mcp-Name": mcpName} {
			if v != "" {
				h.Set(k, v)
			}
		}
		r, err := Inspect(method, h, body, Options{})
		if err != nil {
			e, ok := err.(*Error)
			if !ok || e.Status < 400 || e.Status > 499 || e.Message == "" {
				t.Fatalf("bad error %#v", err)
			}
			return
		}
		if method == "POST" && len(r.Messages) == 0 {
			t.Fatal("POST accepted without messages")
		}
		for _, m := range r.Messages {
			if m.Target.Kind == "" || m.Target.Action == "" {
				t.Fatalf("empty target %+v", m)
			}
		}
	})
}
