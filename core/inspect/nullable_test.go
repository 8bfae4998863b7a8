package inspect

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestNullableSchemaArgs: a property whose input schema allows null
// ("type": [T, "null"], "nullable": true, or what the go-sdk infers for a
// slice or pointer) accepts an explicit null, which counts as absent: the
// default, or missing (denied by the Guard) without one. null for a
// property that does not allow it is still refused with -32602.
func TestNullableSchemaArgs(t *testing.T) {
	t.Parallel()
	schema := json.RawMessage(`{"type":"object","properties":{
		"env":{"type":["string","null"],"default":"staging"},
		"note":{"type":"string","nullable":true},
		"labels":{"type":["null","array"],"items":{"type":"string"}},
		"strict":{"type":"string","default":"x"},
		"count":{"type":["integer","null"],"default":1}}}`)
	ta, err := SchemaArgs("deploy", schema, SchemaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nullable := map[string]bool{}
	for _, a := range ta.Args {
		nullable[a.Name] = a.Nullable
	}
	if want := map[string]bool{"env": true, "note": true, "labels": true, "strict": false, "count": true}; !reflect.DeepEqual(nullable, want) {
		t.Fatalf("nullable %v, want %v", nullable, want)
	}
	decls, err := NewArgDecls([]ToolArgs{ta})
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Content-Type": {"application/json"}, "Mcp-Protocol-Version": {Version20250618}}
	for _, tt := range []struct {
		name    string
		args    string
		want    map[string]any
		missing []string
		code    int
	}{
		{"nulls with defaults", `{"env":null,"count":null,"note":"n","labels":["a"]}`,
			map[string]any{"env": "staging", "count": 1.0, "note": "n", "labels": []string{"a"}, "strict": "x"}, nil, 0},
		{"nulls without defaults", `{"env":"prod","note":null,"labels":null}`,
			map[string]any{"env": "prod", "count": 1.0, "strict": "x"}, []string{"labels", "note"}, 0},
		{"null where the schema refuses it", `{"note":"n","labels":[],"strict":null}`, nil, nil, CodeInvalidParams},
		{"null element of a nullable list", `{"note":"n","labels":[null]}`, nil, nil, CodeInvalidParams},
		{"other types still checked", `{"note":"n","labels":[],"env":7}`, nil, nil, CodeInvalidParams},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"deploy","arguments":` + tt.args + `}}`
			r, err := Inspect(http.MethodPost, h, []byte(body), Options{Args: decls})
			if tt.code != 0 {
				var ie *Error
				if !errors.As(err, &ie) || ie.Code != tt.code {
					t.Fatalf("err = %v, want %d", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := r.Messages[0]
			if !reflect.DeepEqual(m.Args, tt.want) || !reflect.DeepEqual(m.MissingArgs, tt.missing) {
				t.Fatalf("args %#v missing %v, want %#v %v", m.Args, m.MissingArgs, tt.want, tt.missing)
			}
		})
	}
}

// TestNullableAsTheGoSDKRunsIt: a real go-sdk server accepts null for a
// slice argument (its inferred schema says ["null","array"]) and the
// handler gets nil; the Guard, with the declaration derived from that
// schema, no longer refuses the call as malformed: the argument counts as
// absent, as it is for the handler.
func TestNullableAsTheGoSDKRunsIt(t *testing.T) {
	t.Parallel()
	cs, executed := schemaServer(t)
	ctx := context.Background()
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var schema any
	for _, tool := range res.Tools {
		if tool.Name == "deploy" {
			schema = tool.InputSchema
		}
	}
	derived, err := SchemaArgs("deploy", schema, SchemaOptions{Properties: []string{"environment", "labels"}})
	if err != nil {
		t.Fatal(err)
	}
	decls, err := NewArgDecls([]ToolArgs{derived})
	if err != nil {
		t.Fatal(err)
	}
	args := `{"environment":"prod","labels":null}`
	if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "deploy", Arguments: json.RawMessage(args)}); err != nil {
		t.Fatalf("the go-sdk refuses null labels: %v", err)
	}
	if ran := executed(); len(ran) != 1 || ran[0].Labels != nil || ran[0].Environment != "prod" {
		t.Fatalf("handler ran %+v", ran)
	}
	h := http.Header{"Content-Type": {"application/json"}, "Mcp-Protocol-Version": {Version20250618}}
	r, err := Inspect(http.MethodPost, h, []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"deploy","arguments":`+args+`}}`), Options{Args: decls})
	if err != nil {
		t.Fatalf("the Guard refuses what the server accepts: %v", err)
	}
	if m := r.Messages[0]; m.Args["environment"] != "prod" || !reflect.DeepEqual(m.MissingArgs, []string{"labels"}) {
		t.Errorf("args %#v missing %v", m.Args, m.MissingArgs)
	}
}
