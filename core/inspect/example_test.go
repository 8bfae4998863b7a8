package inspect_test

import (
	"errors"
	"fmt"
	"net/http"

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
