package inspect

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

type schemaDeployIn struct {
	Environment string   `json:"environment"`
	Replicas    int      `json:"replicas,omitempty"`
	Labels      []string `json:"labels,omitempty"`
	DryRun      bool     `json:"dry_run,omitempty"`
	Target      struct {
		Region string `json:"region"`
	} `json:"target,omitempty"`
}

// schemaServer is a real go-sdk server: a typed tool (schema inferred by
// the SDK) and a raw tool with a hand-written schema; its tools are read
// back through a client, as an operator's start-up code would.
func schemaServer(t *testing.T) (*mcp.ClientSession, func() []schemaDeployIn) {
	t.Helper()
	var mu sync.Mutex
	var ran []schemaDeployIn
	s := mcp.NewServer(&mcp.Implementation{Name: "schema", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "deploy"}, func(_ context.Context, _ *mcp.CallToolRequest, in schemaDeployIn) (*mcp.CallToolResult, any, error) {
		mu.Lock()
		ran = append(ran, in)
		mu.Unlock()
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "ok"}}}, nil, nil
	})
	s.AddTool(&mcp.Tool{Name: "search", InputSchema: json.RawMessage(`{"type":"object","properties":{
		"query":{"type":"string","maxLength":40},
		"repos":{"type":"array","items":{"type":"string","maxLength":100},"maxItems":5},
		"limit":{"type":"integer","default":25},
		"mode":{"type":"string","default":"fast"},
		"filter":{"type":"object"},
		"maybe":{"type":["string","number"]},
		"bad-name":{"type":"string"}}}`)},
		func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			return &mcp.CallToolResult{}, nil
		})
	ct, st := mcp.NewInMemoryTransports()
	ctx := context.Background()
	ss, err := s.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	c := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil)
	cs, err := c.Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs, func() []schemaDeployIn {
		mu.Lock()
		defer mu.Unlock()
		out := ran
		ran = nil
		return out
	}
}

func TestSchemaArgsFromGoSDKTools(t *testing.T) {
	cs, executed := schemaServer(t)
	ctx := context.Background()
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	schemas := map[string]any{}
	for _, tool := range res.Tools {
		schemas[tool.Name] = tool.InputSchema
	}

	// Every supported property of search; the others are skipped.
	search, err := SchemaArgs("search", schemas["search"], SchemaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []ArgSpec{
		{Name: "limit", Type: ArgNumber, Default: 25.0},
		{Name: "mode", Type: ArgString, MaxBytes: DefaultArgMaxBytes, Default: "fast"},
		{Name: "query", Type: ArgString, MaxBytes: 160},
		{Name: "repos", Type: ArgStringList, MaxBytes: 400, MaxItems: 5},
	}
	if !reflect.DeepEqual(search.Args, want) {
		t.Fatalf("search: %+v\nwant %+v", search.Args, want)
	}
	// Opting in an unsupported property is an error.
	for _, p := range []string{"filter", "maybe", "bad-name", "absent"} {
		if _, err := SchemaArgs("search", schemas["search"], SchemaOptions{Properties: []string{p}}); !errors.Is(err, ErrArgDecl) {
			t.Errorf("property %s: %v", p, err)
		}
	}

	// deploy: the operator opts in four properties; the configuration
	// gives environment a default and wins over the schema.
	derived, err := SchemaArgs("deploy", schemas["deploy"], SchemaOptions{Properties: []string{"environment", "replicas", "labels", "dry_run"}})
	if err != nil {
		t.Fatal(err)
	}
	merged := MergeToolArgs([]ToolArgs{{Tool: "deploy", Args: []ArgSpec{{Name: "environment", Type: ArgString, MaxBytes: 16, Default: "staging"}}}},
		[]ToolArgs{derived, search})
	if len(merged) != 2 || len(merged[0].Args) != 4 || merged[0].Args[0].Default != "staging" || merged[0].Args[0].MaxBytes != 16 {
		t.Fatalf("merged: %+v", merged)
	}
	decls, err := NewArgDecls(merged)
	if err != nil {
		t.Fatal(err)
	}

	// What the Guard extracts with the derived declarations equals what
	// the typed go-sdk handler executes.
	h := http.Header{"Content-Type": {"application/json"}, "Mcp-Protocol-Version": {Version20250618}}
	for _, args := range []string{
		`{"environment":"prod","replicas":3,"labels":["a","b"],"dry_run":true}`,
		`{"environment":"st\u0061ging","replicas":0,"labels":[],"dry_run":false,"target":{"region":"eu"}}`,
	} {
		body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"deploy","arguments":` + args + `}}`
		r, err := Inspect(http.MethodPost, h, []byte(body), Options{Args: decls})
		if err != nil {
			t.Fatal(err)
		}
		seen := r.Messages[0].Args
		var raw json.RawMessage = json.RawMessage(args)
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "deploy", Arguments: raw}); err != nil {
			t.Fatal(err)
		}
		ran := executed()
		if len(ran) != 1 {
			t.Fatalf("handler ran %d times", len(ran))
		}
		labels := ran[0].Labels
		if labels == nil {
			labels = []string{}
		}
		got := map[string]any{"environment": ran[0].Environment, "replicas": float64(ran[0].Replicas), "labels": labels, "dry_run": ran[0].DryRun}
		if !reflect.DeepEqual(seen, got) {
			t.Errorf("%s: policy saw %#v, handler executed %#v", args, seen, got)
		}
	}
	// A property the operator did not opt in never reaches the policy.
	if decls.Type("region") != 0 {
		t.Error("target.region declared")
	}
}

func TestSchemaArgsErrors(t *testing.T) {
	for _, c := range []struct {
		schema string
		opts   SchemaOptions
		want   string
	}{
		{`{"type":"array"}`, SchemaOptions{}, "not of type object"},
		{`{"type":"object","properties":{"f":{"type":"object"}}}`, SchemaOptions{}, "no property"},
		{`{"type":"object","properties":{"n":{"type":"number","default":"x"}}}`, SchemaOptions{Properties: []string{"n"}}, "default"},
		{`{"type":"object","properties":{"s":{"type":"string","maxLength":2,"default":"toolongvalue"}}}`, SchemaOptions{Properties: []string{"s"}}, "default"},
		{`not json`, SchemaOptions{}, "input schema"},
	} {
		_, err := SchemaArgs("t", json.RawMessage(c.schema), c.opts)
		if err == nil || !errors.Is(err, ErrArgDecl) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.schema, err, c.want)
		}
	}
	// maxLength bounds are capped.
	a, err := SchemaArgs("t", json.RawMessage(`{"type":"object","properties":{"s":{"type":"string","maxLength":9223372036854775807}}}`), SchemaOptions{})
	if err != nil || a.Args[0].MaxBytes != DefaultSchemaMaxBytes {
		t.Fatalf("%+v %v", a, err)
	}
}
