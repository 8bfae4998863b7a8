package inspect

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The reference is a real go-sdk server (stateless, JSON responses) run
// in-process: its receiving middleware records every method it dispatches
// and the target it decoded, so that the differential re-runs for real on
// every SDK upgrade instead of trusting a hand-written mirror of its decoder.

// sdkCall is one request the SDK dispatched.
type sdkCall struct{ method, target string }

// sdkRef runs bodies through the real go-sdk server.
type sdkRef struct {
	mu      sync.Mutex
	calls   []sdkCall
	args    []string // raw params.arguments of each dispatched tools/call
	handler http.Handler
}

var sdkOnce = sync.OnceValue(newSDKRef)

func newSDKRef() *sdkRef {
	ref := &sdkRef{}
	srv := mcp.NewServer(&mcp.Implementation{Name: "differential", Version: "1"}, &mcp.ServerOptions{
		CompletionHandler: func(context.Context, *mcp.CompleteRequest) (*mcp.CompleteResult, error) {
			return &mcp.CompleteResult{}, nil
		},
		SubscribeHandler:   func(context.Context, *mcp.SubscribeRequest) error { return nil },
		UnsubscribeHandler: func(context.Context, *mcp.UnsubscribeRequest) error { return nil },
	})
	srv.AddReceivingMiddleware(func(next mcp.MethodHandler) mcp.MethodHandler {
		return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
			ref.record(method, req.GetParams())
			return next(ctx, method, req)
		}
	})
	ref.handler = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: true, JSONResponse: true,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return ref
}

// record keeps the target the SDK decoded for a dispatched method.
func (ref *sdkRef) record(method string, p mcp.Params) {
	c := sdkCall{method: method}
	switch x := p.(type) {
	case *mcp.CallToolParamsRaw:
		c.target = x.Name
		ref.mu.Lock()
		ref.args = append(ref.args, string(x.Arguments))
		ref.mu.Unlock()
	case *mcp.CallToolParams:
		c.target = x.Name
	case *mcp.ReadResourceParams:
		c.target = x.URI
	case *mcp.GetPromptParams:
		c.target = x.Name
	case *mcp.SubscribeParams:
		c.target = x.URI
	case *mcp.UnsubscribeParams:
		c.target = x.URI
	case *mcp.CompleteParams:
		if x.Ref != nil {
			c.target = x.Ref.Name + x.Ref.URI // one is empty (the SDK checks)
		}
	}
	ref.mu.Lock()
	ref.calls = append(ref.calls, c)
	ref.mu.Unlock()
}

// serve posts body to the real server and returns what it dispatched.
// Calls are serialized: the recording is per body.
func (ref *sdkRef) serve(h http.Header, body []byte) []sdkCall {
	ref.mu.Lock()
	ref.calls, ref.args = nil, nil
	ref.mu.Unlock()
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/mcp", bytes.NewReader(body))
	req.Header = h.Clone()
	req.Header.Set("Accept", "application/json, text/event-stream")
	ref.handler.ServeHTTP(httptest.NewRecorder(), req)
	ref.mu.Lock()
	defer ref.mu.Unlock()
	return slices.Clone(ref.calls)
}

var sdkServeMu sync.Mutex

// checkDifferential asserts J17: when Inspect accepts a body, every call a
// real go-sdk server dispatches for it is one Inspect saw, with the same
// target, and encoding/json (case-insensitive, last duplicate wins) sees the
// same methods and targets. It returns the SDK's calls.
func checkDifferential(t *testing.T, body []byte, version string) []sdkCall {
	checkViews(t, body)
	checkWalker(t, body)
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
		return nil
	}
	// Every call the real SDK dispatches must be one Inspect saw, with the
	// same target.
	sdkServeMu.Lock()
	calls := sdkOnce().serve(h, body)
	sdkServeMu.Unlock()
	for _, c := range calls {
		if !slices.ContainsFunc(r.Messages, func(m Message) bool {
			return m.Method == c.method && (!hasTarget(c.method) || m.Target.Name == c.target)
		}) {
			t.Fatalf("SDK dispatched %s %q, Inspect saw %+v, body %q", c.method, c.target, r.Messages, body)
		}
	}
	// encoding/json (case-insensitive, last duplicate wins) sees the same
	// methods and targets.
	var stdMsgs []stdjson.RawMessage
	if r.Batch {
		if err := stdjson.Unmarshal(body, &stdMsgs); err != nil {
			t.Fatalf("encoding/json rejects accepted batch %q: %v", body, err)
		}
	} else {
		stdMsgs = []stdjson.RawMessage{body}
	}
	if len(stdMsgs) != len(r.Messages) {
		t.Fatalf("%d messages, encoding/json %d, body %q", len(r.Messages), len(stdMsgs), body)
	}
	for i, got := range r.Messages {
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
		var ep stdTargetParams
		if len(std.Params) > 0 && stdjson.Unmarshal(std.Params, &ep) == nil {
			if w, ok := targetName(got.Method, ep); ok && w != got.Target.Name {
				t.Fatalf("target %q, encoding/json %q, body %q", got.Target.Name, w, body)
			}
		}
	}
	return calls
}

// hasTarget reports whether Inspect names a target for method.
func hasTarget(method string) bool {
	_, ok := targetName(method, stdTargetParams{})
	return ok
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
	for _, p := range []*int{&v.jsonrpc, &v.id, &v.method, &v.params, &v.name, &v.uri, &v.meta, &v.ref, &v.metaVersion, &v.refType, &v.refName, &v.refURI, &v.arguments} {
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
	dispatched := 0
	for _, s := range differentialSeeds {
		dispatched += len(checkDifferential(t, []byte(s.body), s.version))
	}
	// The reference is live: accepted seeds reach the SDK's handlers.
	t.Logf("dispatched %d", dispatched)
	if dispatched < 5 {
		t.Fatalf("the go-sdk server dispatched only %d calls for the seeds", dispatched)
	}
}

// TestDifferentialReferenceIsTheSDK checks that the reference sees what the
// SDK decodes, including where it differs from a naive reading.
func TestDifferentialReferenceIsTheSDK(t *testing.T) {
	h := http.Header{"Content-Type": {"application/json"}, "Mcp-Protocol-Version": {"2025-03-26"}}
	calls := sdkOnce().serve(h, []byte(`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls"}},{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"file:///a"}}]`))
	slices.SortFunc(calls, func(a, b sdkCall) int { return strings.Compare(a.method, b.method) })
	want := []sdkCall{{"resources/read", "file:///a"}, {"tools/call", "ls"}}
	if !slices.Equal(calls, want) {
		t.Fatalf("SDK dispatched %+v, want %+v", calls, want)
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

type stdTargetParams struct {
	Name string `json:"name"`
	URI  string `json:"uri"`
	Ref  *struct {
		Type string `json:"type"`
		Name string `json:"name"`
		URI  string `json:"uri"`
	} `json:"ref"`
}

// targetName is the target encoding/json's params decoding yields for the
// method.
func targetName(method string, p stdTargetParams) (string, bool) {
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
