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

// TestConfiguredArgsInheritNullability: a configured declaration takes
// its nullability from the tool's input schema when merged with the
// derived declarations, so the Guard and a real go-sdk server agree on
// null. Before, the configured declaration kept its own (false unless
// set): the Guard refused "labels": null, which the server runs with nil
// labels, and a configuration saying nullable for "environment" made the
// Guard decide on the default for a call the server refuses.
func TestConfiguredArgsInheritNullability(t *testing.T) {
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
	derived, err := SchemaArgs("deploy", schema, SchemaOptions{Properties: []string{"environment", "labels", "replicas"}})
	if err != nil {
		t.Fatal(err)
	}
	configured := []ToolArgs{{Tool: "deploy", Args: []ArgSpec{
		{Name: "environment", Type: ArgString, MaxBytes: 32, Default: "staging", Nullable: true}, // the schema says "string"
		{Name: "tags", Path: []string{"labels"}, Type: ArgStringList, Default: []string{"none"}}, // the schema says ["null","array"]
	}}}
	merged := MergeToolArgs(configured, []ToolArgs{derived})
	nullable := map[string]bool{}
	for _, a := range merged[0].Args {
		nullable[a.Name] = a.Nullable
	}
	if want := map[string]bool{"environment": false, "tags": true, "labels": true, "replicas": false}; !reflect.DeepEqual(nullable, want) {
		t.Fatalf("nullable %v, want %v", nullable, want)
	}
	if merged[0].Args[0].Default != "staging" || merged[0].Args[0].MaxBytes != 32 {
		t.Fatalf("the configuration no longer wins: %+v", merged[0].Args[0])
	}
	decls, err := NewArgDecls(merged)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{"Content-Type": {"application/json"}, "Mcp-Protocol-Version": {Version20250618}}
	for _, tc := range []struct {
		name, args string
	}{
		{"null where the schema allows it", `{"environment":"prod","labels":null}`},
		{"null where the schema refuses it", `{"environment":null,"labels":["a"]}`},
		{"no nulls", `{"environment":"prod","labels":["a"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "deploy", Arguments: json.RawMessage(tc.args)})
			serverRan := err == nil && !r.IsError && len(executed()) == 1
			_, gerr := Inspect(http.MethodPost, h, []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"deploy","arguments":`+tc.args+`}}`), Options{Args: decls})
			var ie *Error
			if gerr != nil && (!errors.As(gerr, &ie) || ie.Code != CodeInvalidParams) {
				t.Fatalf("Guard: %v", gerr)
			}
			if serverRan != (gerr == nil) {
				t.Fatalf("the go-sdk server ran the call: %v (err %v, result %+v); the Guard accepted it: %v (%v)", serverRan, err, r, gerr == nil, gerr)
			}
		})
	}
}
