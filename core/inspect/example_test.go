package inspect_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mcpauthz/mcpauthz/core/inspect"
)

func ExampleInspect() {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("MCP-Protocol-Version", "2025-11-25")
	body := []byte(`{"jsonrpc":"2.0","id":7,"method":"tools\u002fcall","params":{"name":"deploy","arguments":{}}}`)

	req, err := inspect.Inspect("POST", h, body, inspect.Options{})
	if err != nil {
		panic(err)
	}
	m := req.Messages[0]
	fmt.Println(req.Version, m.Method, m.Kind, string(m.ID), m.Target.Kind, m.Target.Name, m.Target.Action)

	// A duplicate key is refused before any decision.
	_, err = inspect.Inspect("POST", h, []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","Name":"rm"}}`), inspect.Options{})
	var e *inspect.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Code, errors.Is(err, inspect.ErrParse))
	}
	// Output:
	// 2025-11-25 tools/call request 7 tool deploy call
	// 400 -32700 true
}

func ExampleFilterJSON() {
	body := []byte(`{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"ls"},{"name":"rm"}],"nextCursor":"c2"}}`)
	allow := func(kind, name string) bool { return kind == "tool" && name == "ls" }
	out, err := inspect.FilterJSON(body, "tools", allow, true)
	fmt.Println(string(out), err)
	// Output:
	// {"jsonrpc":"2.0","id":3,"result":{"cacheScope":"private","tools":[{"name":"ls"}],"nextCursor":"c2"}} <nil>
}

func ExampleNewSSEFilter() {
	var out strings.Builder
	allow := func(kind, name string) bool { return name == "greet" }
	f := inspect.NewSSEFilter(&out, "prompts", allow, false)
	_, _ = f.Write([]byte("id: 1\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":"))
	_, _ = f.Write([]byte("{\"prompts\":[{\"name\":\"greet\"},{\"name\":\"admin\"}]}}\n\n"))
	_ = f.Close()
	fmt.Print(out.String())
	// Output:
	// id: 1
	// data: {"jsonrpc":"2.0","id":1,"result":{"prompts":[{"name":"greet"}]}}
}
