package inspect

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

const meta26 = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}`

func hdr(kv ...string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<del>" {
			h.Del(kv[i])
			continue
		}
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func legacy(kv ...string) http.Header {
	return hdr(append([]string{"Mcp-Protocol-Version", "2025-03-26"}, kv...)...)
}

func new26(method, name string, kv ...string) http.Header {
	base := []string{"Mcp-Protocol-Version", "2026-07-28", "Mcp-Method", method}
	if name != "" {
		base = append(base, "Mcp-Name", name)
	}
	return hdr(append(base, kv...)...)
}

func TestInspectAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		method  string
		h       http.Header
		body    string
		version string
		batch   bool
		want    []Message
	}{
		{"tools/call legacy", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","arguments":{}}}`,
			"2025-03-26", false, []Message{{ID: []byte("1"), Method: "tools/call", Kind: KindRequest, Target: Target{"tool", "ls", "call", ""}}}},
		{"no version header means 2025-03-26", "POST", hdr(), `{"jsonrpc":"2.0","id":"a","method":"initialize","params":{}}`,
			"2025-03-26", false, []Message{{ID: []byte(`"a"`), Method: "initialize", Kind: KindRequest, Target: connectTarget}}},
		{"J04 escapes decoded", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"\u006dethod":"tools\u002fcall","params":{"name":"r\u006d"}}`,
			"2025-03-26", false, []Message{{ID: []byte("1"), Method: "tools/call", Kind: KindRequest, Target: Target{"tool", "rm", "call", ""}}}},
		{"surrogate pair name", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\ud83d\ude00"}}`,
			"2025-03-26", false, []Message{{ID: []byte("1"), Method: "tools/call", Kind: KindRequest, Target: Target{"tool", "😀", "call", ""}}}},
		{"resources/read", "POST", legacy(), `{"jsonrpc":"2.0","id":2,"method":"resources/read","params":{"uri":"file:///a b"}}`,
			"2025-03-26", false, []Message{{ID: []byte("2"), Method: "resources/read", Kind: KindRequest, Target: Target{"resource", "file:///a b", "read", ""}}}},
		{"subscribe", "POST", legacy(), `{"jsonrpc":"2.0","id":2,"method":"resources/unsubscribe","params":{"uri":"u:1"}}`,
			"2025-03-26", false, []Message{{ID: []byte("2"), Method: "resources/unsubscribe", Kind: KindRequest, Target: Target{"resource", "u:1", "subscribe", ""}}}},
		{"prompts/get", "POST", legacy(), `{"jsonrpc":"2.0","id":3,"method":"prompts/get","params":{"name":"greet","arguments":{"a":"b"}}}`,
			"2025-03-26", false, []Message{{ID: []byte("3"), Method: "prompts/get", Kind: KindRequest, Target: Target{"prompt", "greet", "get", ""}}}},
		{"complete prompt", "POST", legacy(), `{"jsonrpc":"2.0","id":4,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"greet"},"argument":{"name":"x","value":""}}}`,
			"2025-03-26", false, []Message{{ID: []byte("4"), Method: "completion/complete", Kind: KindRequest, Target: Target{"prompt", "greet", "complete", ""}}}},
		{"complete resource", "POST", legacy(), `{"jsonrpc":"2.0","id":4,"method":"completion/complete","params":{"ref":{"type":"ref/resource","uri":"file:///{p}"}}}`,
			"2025-03-26", false, []Message{{ID: []byte("4"), Method: "completion/complete", Kind: KindRequest, Target: Target{"resource", "file:///{p}", "complete", ""}}}},
		{"tools/list no params", "POST", legacy(), `{"jsonrpc":"2.0","id":5,"method":"tools/list"}`,
			"2025-03-26", false, []Message{{ID: []byte("5"), Method: "tools/list", Kind: KindRequest, Target: Target{Kind: "server", Action: "list", List: "tools"}}}},
		{"templates list", "POST", legacy(), `{"jsonrpc":"2.0","id":5,"method":"resources/templates/list","params":{"cursor":"x"}}`,
			"2025-03-26", false, []Message{{ID: []byte("5"), Method: "resources/templates/list", Kind: KindRequest, Target: Target{Kind: "server", Action: "list", List: "resourceTemplates"}}}},
		{"notification", "POST", legacy(), `{"jsonrpc":"2.0","method":"notifications/initialized"}`,
			"2025-03-26", false, []Message{{Method: "notifications/initialized", Kind: KindNotification, Target: connectTarget}}},
		{"null id is a notification", "POST", legacy(), `{"jsonrpc":"2.0","id":null,"method":"notifications/cancelled","params":{}}`,
			"2025-03-26", false, []Message{{Method: "notifications/cancelled", Kind: KindNotification, Target: connectTarget}}},
		{"client response legacy", "POST", legacy(), `{"jsonrpc":"2.0","id":7,"result":{}}`,
			"2025-03-26", false, []Message{{ID: []byte("7"), Kind: KindResponse, Target: connectTarget}}},
		{"J05 legacy batch", "POST", legacy(), `[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls"}}, {"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"rm"}}]`,
			"2025-03-26", true, []Message{
				{ID: []byte("1"), Method: "tools/call", Kind: KindRequest, Target: Target{"tool", "ls", "call", ""}},
				{ID: []byte("2"), Method: "tools/call", Kind: KindRequest, Target: Target{"tool", "rm", "call", ""}}}},
		{"charset utf-8 and whitespace", "POST", legacy("Content-Type", "<del>", "Content-Type", "application/json; charset=UTF-8", "Content-Encoding", "identity"),
			" \n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n ",
			"2025-03-26", false, []Message{{ID: []byte("1"), Method: "ping", Kind: KindRequest, Target: connectTarget}}},
		{"2026 tools/call", "POST", new26("tools/call", "get_weather"),
			`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_weather","arguments":{"location":"Seattle"},` + meta26 + `}}`,
			"2026-07-28", false, []Message{{ID: []byte("1"), Method: "tools/call", Kind: KindRequest, Target: Target{"tool", "get_weather", "call", ""}}}},
		{"2026 OWS and base64 name", "POST", new26(" tools/call\t", "  =?base64?cm0=?=  "),
			`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm",` + meta26 + `}}`,
			"2026-07-28", false, []Message{{ID: []byte("1"), Method: "tools/call", Kind: KindRequest, Target: Target{"tool", "rm", "call", ""}}}},
		{"2026 notification without Mcp-Method", "POST", hdr("Mcp-Protocol-Version", "2026-07-28"),
			`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`,
			"2026-07-28", false, []Message{{Method: "notifications/cancelled", Kind: KindNotification, Target: connectTarget}}},
		{"legacy GET", "GET", legacy("Mcp-Session-Id", "abc"), ``, "2025-03-26", false, nil},
		{"legacy DELETE", "DELETE", hdr("Mcp-Protocol-Version", "2025-11-25"), `ignored`, "2025-11-25", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Inspect(tt.method, tt.h, []byte(tt.body), Options{})
			if err != nil {
				t.Fatalf("Inspect: %v", err)
			}
			if r.Version != tt.version || r.Batch != tt.batch {
				t.Errorf("version %q batch %v, want %q %v", r.Version, r.Batch, tt.version, tt.batch)
			}
			if len(r.Messages) != len(tt.want) {
				t.Fatalf("got %d messages, want %d", len(r.Messages), len(tt.want))
			}
			for i, m := range r.Messages {
				w := tt.want[i]
				if string(m.ID) != string(w.ID) || m.Method != w.Method || m.Kind != w.Kind || m.Target != w.Target {
					t.Errorf("message %d = %+v (id %s), want %+v (id %s)", i, m, m.ID, w, w.ID)
				}
			}
		})
	}
}

func TestInspectSessionID(t *testing.T) {
	t.Parallel()
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)
	r, err := Inspect("POST", legacy("Mcp-Session-Id", "s1"), body, Options{})
	if err != nil || r.SessionID != "s1" {
		t.Fatalf("legacy: %v %q", err, r.SessionID)
	}
	body26 := []byte(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{` + meta26 + `}}`)
	r, err = Inspect("POST", new26("ping", "", "Mcp-Session-Id", "s1"), body26, Options{})
	if err != nil || r.SessionID != "" {
		t.Fatalf("2026: %v %q", err, r.SessionID)
	}
}

func TestInspectRejects(t *testing.T) {
	t.Parallel()
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls"}}`
	call26 := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls",` + meta26 + `}}`
	tests := []struct {
		name   string
		method string
		h      http.Header
		body   string
		kind   ErrorKind
		status int
		code   int
	}{
		{"J01 case-variant method", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tools/call","Method":"tools/list","params":{"name":"ls"}}`, ErrParse, 400, -32700},
		{"J02 case-variant name", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"rm","NAME":"ls"}}`, ErrParse, 400, -32700},
		{"J02 Name only", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"Name":"rm"}}`, ErrInvalidParams, 400, -32602},
		{"Method only", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"Method":"tools/call","params":{"name":"rm"}}`, ErrInvalidRequest, 400, -32600},
		{"long s result", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"re\u017fult":{}}`, ErrInvalidRequest, 400, -32600},
		{"kelvin case variant", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"k":1,"\u212a":2}}`, ErrParse, 400, -32700},
		{"long s params", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tools/call","param\u017f":{"name":"rm"}}`, ErrInvalidRequest, 400, -32600},
		{"J03 duplicate method", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tools/list","method":"tools/call","params":{"name":"ls"}}`, ErrParse, 400, -32700},
		{"J03 duplicate escaped", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tools/list","\u006dethod":"tools/call"}`, ErrParse, 400, -32700},
		{"J03 duplicate id", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}`, ErrParse, 400, -32700},
		{"J03 duplicate uri", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"a","uri":"b"}}`, ErrParse, 400, -32700},
		{"J06 two values", "POST", legacy(), call + call, ErrParse, 400, -32700},
		{"J06 NUL", "POST", legacy(), call + "\x00", ErrParse, 400, -32700},
		{"J06 garbage", "POST", legacy(), call + "garbage", ErrParse, 400, -32700},
		{"J07 invalid utf8", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"r` + "\xff" + `"}}`, ErrParse, 400, -32700},
		{"J07 lone surrogate", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\ud800"}}`, ErrParse, 400, -32700},
		{"J09 deep", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","arguments":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}}`, ErrParse, 400, -32700},
		{"BOM", "POST", legacy(), "\xEF\xBB\xBF" + call, ErrParse, 400, -32700},
		{"empty body", "POST", legacy(), ``, ErrParse, 400, -32700},
		{"whitespace body", "POST", legacy(), " \n", ErrParse, 400, -32700},
		{"J10 text/plain", "POST", legacy("Content-Type", "<del>", "Content-Type", "text/plain"), call, ErrUnsupportedMediaType, 415, 0},
		{"J10 missing", "POST", legacy("Content-Type", "<del>"), call, ErrUnsupportedMediaType, 415, 0},
		{"J10 utf-16", "POST", legacy("Content-Type", "<del>", "Content-Type", "application/json;charset=utf-16"), call, ErrUnsupportedMediaType, 415, 0},
		{"J10 two content types", "POST", legacy("Content-Type", "application/json"), call, ErrUnsupportedMediaType, 415, 0},
		{"J10 multipart", "POST", legacy("Content-Type", "<del>", "Content-Type", "multipart/form-data; boundary=x"), call, ErrUnsupportedMediaType, 415, 0},
		{"J11 gzip", "POST", legacy("Content-Encoding", "gzip"), call, ErrUnsupportedMediaType, 415, 0},
		{"J11 identity, gzip", "POST", legacy("Content-Encoding", "identity, gzip"), call, ErrUnsupportedMediaType, 415, 0},
		{"J12 no method no id", "POST", legacy(), `{"jsonrpc":"2.0","params":{}}`, ErrInvalidRequest, 400, -32600},
		{"J12 method null", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":null}`, ErrInvalidRequest, 400, -32600},
		{"J12 method number", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":123}`, ErrInvalidRequest, 400, -32600},
		{"J12 method object", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":{}}`, ErrInvalidRequest, 400, -32600},
		{"J12 method empty", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":""}`, ErrInvalidRequest, 400, -32600},
		{"J16 id object", "POST", legacy(), `{"jsonrpc":"2.0","id":{},"method":"ping"}`, ErrInvalidRequest, 400, -32600},
		{"J16 id array", "POST", legacy(), `{"jsonrpc":"2.0","id":[1],"method":"ping"}`, ErrInvalidRequest, 400, -32600},
		{"J16 id 1e400", "POST", legacy(), `{"jsonrpc":"2.0","id":1e400,"method":"ping"}`, ErrInvalidRequest, 400, -32600},
		{"id bool", "POST", legacy(), `{"jsonrpc":"2.0","id":true,"method":"ping"}`, ErrInvalidRequest, 400, -32600},
		{"jsonrpc missing", "POST", legacy(), `{"id":1,"method":"ping"}`, ErrInvalidRequest, 400, -32600},
		{"jsonrpc 1.0", "POST", legacy(), `{"jsonrpc":"1.0","id":1,"method":"ping"}`, ErrInvalidRequest, 400, -32600},
		{"jsonrpc number", "POST", legacy(), `{"jsonrpc":2.0,"id":1,"method":"ping"}`, ErrInvalidRequest, 400, -32600},
		{"top-level string", "POST", legacy(), `"x"`, ErrInvalidRequest, 400, -32600},
		{"name missing", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}}`, ErrInvalidParams, 400, -32602},
		{"name number", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":1}}`, ErrInvalidParams, 400, -32602},
		{"name null", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":null}}`, ErrInvalidParams, 400, -32602},
		{"params null", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":null}`, ErrInvalidParams, 400, -32602},
		{"params array", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":["x"]}`, ErrInvalidParams, 400, -32602},
		{"params missing", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"resources/read"}`, ErrInvalidParams, 400, -32602},
		{"ref bad type", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/tool","name":"x"}}}`, ErrInvalidParams, 400, -32602},
		{"ref missing name", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","uri":"x"}}}`, ErrInvalidParams, 400, -32602},
		{"unknown method", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{}}`, ErrUnknownMethod, 400, -32601},
		{"unknown method 2026", "POST", new26("x/y", ""), `{"jsonrpc":"2.0","id":1,"method":"x/y","params":{` + meta26 + `}}`, ErrUnknownMethod, 404, -32601},
		{"J05 empty batch", "POST", legacy(), `[]`, ErrInvalidRequest, 400, -32600},
		{"J05 batch 2025-06-18", "POST", hdr("Mcp-Protocol-Version", "2025-06-18"), `[` + call + `]`, ErrInvalidRequest, 400, -32600},
		{"J05 batch 2026", "POST", new26("tools/call", "ls"), `[` + call26 + `]`, ErrInvalidRequest, 400, -32600},
		{"batch of numbers", "POST", legacy(), `[1]`, ErrInvalidRequest, 400, -32600},
		{"batch with unknown", "POST", legacy(), `[` + call + `,{"jsonrpc":"2.0","id":2,"method":"evil"}]`, ErrUnknownMethod, 400, -32601},
		{"batch with dup deep", "POST", legacy(), `[` + call + `,{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"a","name":"b"}}]`, ErrParse, 400, -32700},
		{"response 2026", "POST", hdr("Mcp-Protocol-Version", "2026-07-28"), `{"jsonrpc":"2.0","id":1,"result":{}}`, ErrInvalidRequest, 400, -32600},
		{"unsupported version", "POST", hdr("Mcp-Protocol-Version", "1900-01-01"), call, ErrUnsupportedVersion, 400, -32022},
		{"repeated version", "POST", legacy("Mcp-Protocol-Version", "2025-03-26"), call, ErrHeaderMismatch, 400, -32020},
		{"repeated session", "POST", legacy("Mcp-Session-Id", "a", "Mcp-Session-Id", "b"), call, ErrInvalidRequest, 400, -32600},
		{"J13 Mcp-Method differs", "POST", new26("tools/list", "ls"), call26, ErrHeaderMismatch, 400, -32020},
		{"J13 Mcp-Method case", "POST", new26("TOOLS/CALL", "ls"), call26, ErrHeaderMismatch, 400, -32020},
		{"J13 Mcp-Method missing", "POST", hdr("Mcp-Protocol-Version", "2026-07-28", "Mcp-Name", "ls"), call26, ErrHeaderMismatch, 400, -32020},
		{"J13 Mcp-Method repeated", "POST", new26("tools/call", "ls", "Mcp-Method", "tools/call"), call26, ErrHeaderMismatch, 400, -32020},
		{"J13 Mcp-Name differs", "POST", new26("tools/call", "rm"), call26, ErrHeaderMismatch, 400, -32020},
		{"J13 Mcp-Name missing", "POST", new26("tools/call", ""), call26, ErrHeaderMismatch, 400, -32020},
		{"J13 Mcp-Name sentinel mismatch", "POST", new26("tools/call", "=?base64?cm0=?="), call26, ErrHeaderMismatch, 400, -32020},
		{"J13 Mcp-Name sentinel bad base64", "POST", new26("tools/call", "=?base64?bHM?="), call26, ErrHeaderMismatch, 400, -32020},
		{"J13 Mcp-Name sentinel upper markers literal", "POST", new26("tools/call", "=?BASE64?bHM=?="), call26, ErrHeaderMismatch, 400, -32020},
		{"legacy present Mcp-Name differs", "POST", legacy("Mcp-Name", "rm"), call, ErrHeaderMismatch, 400, -32020},
		{"legacy present Mcp-Method differs", "POST", legacy("Mcp-Method", "tools/list"), call, ErrHeaderMismatch, 400, -32020},
		{"2026 meta version missing", "POST", new26("tools/call", "ls"), call, ErrInvalidParams, 400, -32602},
		{"2026 meta version differs", "POST", new26("tools/call", "ls"), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","_meta":{"io.modelcontextprotocol/protocolVersion":"2025-11-25"}}}`, ErrHeaderMismatch, 400, -32020},
		{"legacy meta version differs", "POST", legacy(), `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls",` + meta26 + `}}`, ErrHeaderMismatch, 400, -32020},
		{"GET 2026", "GET", hdr("Mcp-Protocol-Version", "2026-07-28"), ``, ErrMethodNotAllowed, 405, 0},
		{"DELETE 2026", "DELETE", hdr("Mcp-Protocol-Version", "2026-07-28"), ``, ErrMethodNotAllowed, 405, 0},
		{"PUT", "PUT", legacy(), call, ErrMethodNotAllowed, 405, 0},
		{"OPTIONS", "OPTIONS", legacy(), ``, ErrMethodNotAllowed, 405, 0},
		{"HEAD", "HEAD", legacy(), ``, ErrMethodNotAllowed, 405, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := Inspect(tt.method, tt.h, []byte(tt.body), Options{})
			if err == nil {
				t.Fatalf("Inspect accepted: %+v", r)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v is not *Error", err, err)
			}
			if e.Kind != tt.kind || e.Status != tt.status || e.Code != tt.code {
				t.Errorf("got kind %v status %d code %d, want %v %d %d (%v)", e.Kind, e.Status, e.Code, tt.kind, tt.status, tt.code, err)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("errors.Is(err, %v) = false", tt.kind)
			}
			if e.Status == 405 && e.Allow == "" {
				t.Error("405 without Allow")
			}
		})
	}
}

func TestInspectErrorDetails(t *testing.T) {
	t.Parallel()
	_, err := Inspect("POST", hdr("Mcp-Protocol-Version", "1900-01-01"), []byte(`{}`), Options{})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatal(err)
	}
	vd, ok := e.Data.(VersionData)
	if !ok || vd.Requested != "1900-01-01" || len(vd.Supported) != 4 {
		t.Errorf("data = %#v", e.Data)
	}
	_, err = Inspect("POST", hdr("Mcp-Protocol-Version", strings.Repeat("x", 100)), []byte(`{}`), Options{})
	if !errors.As(err, &e) || e.Data.(VersionData).Requested != "" {
		t.Errorf("long version echoed: %v", err)
	}
	// The id of the offending message is echoed; header values are not.
	_, err = Inspect("POST", new26("tools/call", "secret-header-value"),
		[]byte(`{"jsonrpc":"2.0","id":"x-1","method":"tools/call","params":{"name":"ls",`+meta26+`}}`), Options{})
	if !errors.As(err, &e) || string(e.ID) != `"x-1"` || strings.Contains(e.Message, "secret") {
		t.Errorf("mismatch error = %+v", e)
	}
	// The jsonscan cause is reachable.
	_, err = Inspect("POST", legacy(), []byte(`{"a":1,"A":2}`), Options{})
	if !errors.Is(err, jsonscan.ErrCaseVariant) || !errors.Is(err, ErrParse) {
		t.Errorf("cause lost: %v", err)
	}
}

func TestInspectOptions(t *testing.T) {
	t.Parallel()
	body := []byte(`{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"taskId":"t"}}`)
	r, err := Inspect("POST", legacy(), body, Options{AllowUnknownMethods: true})
	if err != nil || r.Messages[0].Target != connectTarget || r.Messages[0].Method != "tasks/get" {
		t.Fatalf("AllowUnknownMethods: %v %+v", err, r)
	}
	// Without 2025-03-26 support, an absent version header is refused.
	_, err = Inspect("POST", hdr(), body, Options{SupportedVersions: []string{"2025-11-25"}})
	if !errors.Is(err, ErrHeaderMismatch) {
		t.Errorf("absent header: %v", err)
	}
	_, err = Inspect("POST", legacy(), body, Options{SupportedVersions: []string{"2025-11-25"}})
	if !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("narrowed versions: %v", err)
	}
	_, err = Inspect("POST", legacy(), []byte(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":"`+strings.Repeat("x", 100)+`"}}`), Options{MaxBodyBytes: 50})
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxBodyBytes: %v", err)
	}
	_, err = Inspect("POST", legacy(), []byte(`{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":[[[[]]]]}}`), Options{MaxDepth: 3})
	if !errors.Is(err, jsonscan.ErrTooDeep) {
		t.Errorf("MaxDepth: %v", err)
	}
}

func TestDecodeHeaderValue(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"plain", "plain", true},
		{" \tpadded \t", "padded", true},
		{"=?base64?cm0=?=", "rm", true},
		{"  =?base64?IGxzIA==?=  ", " ls ", true},
		{"=?base64?5pel5pys?=", "日本", true},
		{"=?base64??=", "", true},
		{"=?base64?cm0?=", "", false},  // missing padding
		{"=?base64?cm1=?=", "", false}, // non-canonical trailing bits
		{"=?base64?_-8=?=", "", false}, // URL alphabet
		{"=?base64?/w==?=", "", false}, // invalid UTF-8
		{"=?BASE64?cm0=?=", "=?BASE64?cm0=?=", true},
		{"=?base64?", "=?base64?", true},
	}
	for _, tt := range tests {
		got, ok := DecodeHeaderValue(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("DecodeHeaderValue(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestHeaderNamesCanonical guards the direct http.Header map lookups.
func TestHeaderNamesCanonical(t *testing.T) {
	t.Parallel()
	for _, h := range []string{HeaderProtocolVersion, HeaderSessionID, HeaderMethod, HeaderName, "Content-Type", "Content-Encoding"} {
		if c := http.CanonicalHeaderKey(h); c != h {
			t.Errorf("%q is not canonical (%q)", h, c)
		}
	}
	// Headers set through the http.Header API with any case are seen.
	h := http.Header{}
	h.Set("content-type", "application/json")
	h.Set("mcp-protocol-version", "2026-07-28")
	h.Set("MCP-METHOD", "tools/call")
	h.Set("mcp-name", "rm")
	_, err := Inspect("POST", h, []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls",`+meta26+`}}`), Options{})
	if !errors.Is(err, ErrHeaderMismatch) {
		t.Errorf("lower-case header names not seen: %v", err)
	}
}

func TestInspectAllocs(t *testing.T) {
	if n := testing.AllocsPerRun(200, func() {
		if _, err := Inspect("POST", benchHeader, benchBody, Options{}); err != nil {
			t.Fatal(err)
		}
	}); n > 1 {
		t.Errorf("allocs per Inspect = %v, want ≤ 1 (the Request and its target name together)", n)
	}
}

// TestAtLeast20260728 checks the shortcut against the string comparison it
// replaces.
func TestAtLeast20260728(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"", "2", "202", "2025", "2025-", "2025-11-25", "2025-99-99x", "2025\xff", "2026", "2026-07-27",
		"2026-07-28", "2026-07-28x", "2026-07-29", "2027-01-01", "2024-11-05", "3000", "1999", "\xff", "2026-07-2"} {
		if got, want := atLeast20260728(v), v >= Version20260728; got != want {
			t.Errorf("atLeast20260728(%q) = %v, want %v", v, got, want)
		}
	}
}
