package inspect

import (
	"errors"
	"testing"
)

// TestReviewSmuggling: members recorded for authorization come from the
// message being authorized, at its own level, never from a nested object,
// another batch element or a differently spelled key.
func TestReviewSmuggling(t *testing.T) {
	t.Parallel()
	const (
		ls = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls"}}`
		rm = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"rm"}}`
	)
	accepts := []struct {
		name  string
		body  string
		names []string // Target.Name of each message, in order
	}{
		{"batch allowed then denied", `[` + ls + `,` + rm + `]`, []string{"ls", "rm"}},
		{"batch denied then allowed", ` [ ` + rm + ` , ` + ls + ` ] `, []string{"rm", "ls"}},
		{"nested name in arguments", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{"name":"rm","params":{"name":"rm"}},"name":"ls"}}`, []string{"ls"}},
		{"nested name after", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","x":{"name":"rm"}}}`, []string{"ls"}},
		{"method at two depths", `{"jsonrpc":"2.0","id":1,"x":{"method":"tools/call","params":{"name":"rm"}},"method":"ping"}`, []string{""}},
		{"method in params", `{"jsonrpc":"2.0","id":1,"params":{"name":"ls","method":"ping"},"method":"tools/call"}`, []string{"ls"}},
		{"notification keeps its target", `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"rm"}}`, []string{"rm"}},
		{"escaped key and value", `{"jsonrpc":"2.0","id":1,"\u006d\u0065thod":"tools/call","params":{"n\u0061me":"r\u006d"}}`, []string{"rm"}},
		{"long keys around", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"nameXXXXXXXXXX":"ls","name":"rm","NAMEXXXXXXXXXX2":1}}`, []string{"rm"}},
	}
	for _, tt := range accepts {
		r, err := Inspect("POST", legacy(), []byte(tt.body), Options{})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if len(r.Messages) != len(tt.names) {
			t.Fatalf("%s: %d messages, want %d", tt.name, len(r.Messages), len(tt.names))
		}
		for i, m := range r.Messages {
			if m.Target.Name != tt.names[i] {
				t.Fatalf("%s: message %d target %q, want %q", tt.name, i, m.Target.Name, tt.names[i])
			}
		}
	}
	refuses := []struct {
		name string
		body string
		kind ErrorKind
	}{
		{"batch element is a batch", `[` + ls + `,[` + rm + `]]`, ErrInvalidRequest},
		{"batch element is a batch, empty params", `[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}},[{"name":"x"}]]`, ErrInvalidParams},
		{"batch first element is a batch", `[[` + rm + `],` + ls + `]`, ErrInvalidRequest},
		{"batch number after", `[` + ls + `,1]`, ErrInvalidRequest},
		{"batch string after", `[` + ls + `,"x"]`, ErrInvalidRequest},
		{"batch null after", `[` + ls + `,null]`, ErrInvalidRequest},
		{"batch empty array after", `[` + ls + `,[]]`, ErrInvalidRequest},
		{"batch denied element malformed", `[` + ls + `,{"jsonrpc":"2.0","id":2,"method":"tools/call","params":[{"name":"rm"}]}]`, ErrInvalidParams},
		{"batch trailing comma", `[` + ls + `,]`, ErrParse},
		{"batch trailing data", `[` + ls + `] x`, ErrParse},
		{"batch trailing bracket", `[` + ls + `]]`, ErrParse},
		{"batch then batch", `[` + ls + `][` + rm + `]`, ErrParse},
		{"batch then object", `[` + ls + `]` + rm, ErrParse},
		{"object then object", ls + rm, ErrParse},
		{"empty batch", `[ ]`, ErrInvalidRequest},
		{"params array", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":[{"name":"rm"}]}`, ErrInvalidParams},
		{"escaped duplicate method", `{"jsonrpc":"2.0","id":1,"method":"ping","\u006dethod":"tools/call","params":{"name":"rm"}}`, ErrParse},
		{"escaped case variant name", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","N\u0061me":"rm"}}`, ErrParse},
		{"name far apart", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"name":"rm"}}`, ErrParse},
		{"long s params alone", `{"jsonrpc":"2.0","id":1,"method":"tools/call","param\u017f":{"name":"rm"}}`, ErrInvalidRequest},
		{"long s params raw with params", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls"},"paramſ":{"name":"rm"}}`, ErrParse},
		{"kelvin in batch element", `[` + ls + `,{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"ls"},"param\u017F":{"name":"rm"}}]`, ErrParse},
		{"upper NAME alone", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"NAME":"rm"}}`, ErrInvalidParams},
		{"upper Method alone", `{"jsonrpc":"2.0","id":1,"Method":"tools/call","params":{"name":"rm"}}`, ErrInvalidRequest},
	}
	for _, tt := range refuses {
		var dst Request
		err := InspectInto(&dst, "POST", legacy(), []byte(tt.body), Options{})
		var e *Error
		if !errors.As(err, &e) || e.Kind != tt.kind {
			t.Fatalf("%s: err %v, want kind %v", tt.name, err, tt.kind)
		}
		if len(dst.Messages) != 0 {
			t.Fatalf("%s: refused but %d messages left in dst", tt.name, len(dst.Messages))
		}
	}
}
