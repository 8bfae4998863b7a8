package inspect

import (
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// checkQuickWalk asserts that quickWalk, when it takes body, fills exactly
// the view the walker's full walk fills and that the walker, like
// jsonscan.Validate, accepts body as a single message. It reports whether
// quickWalk took it.
func checkQuickWalk(t *testing.T, body []byte, maxDepth int) bool {
	t.Helper()
	qv := newView()
	if !quickWalk(body, maxDepth, &qv) {
		return false
	}
	var w walker
	v := newView()
	var views []msgView
	batch, err := w.walk(body, maxDepth, &v, &views)
	if err != nil || batch {
		t.Fatalf("quickWalk took %q (max depth %d); walker: batch %v, %v", body, maxDepth, batch, err)
	}
	if qv != v {
		t.Fatalf("%q (max depth %d): quickWalk view\n%+v\nwalker\n%+v", body, maxDepth, qv, v)
	}
	if err := jsonscan.Validate(body, jsonscan.Options{MaxDepth: maxDepth}); err != nil {
		t.Fatalf("quickWalk took %q (max depth %d); Validate: %v", body, maxDepth, err)
	}
	return true
}

// quickBodies are the common bodies quickWalk must take.
var quickBodies = []string{
	string(benchBody),
	`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"t8","arguments":{"path":"/srv/data/projects","recursive":true,"limit":100,"filter":"*.go"},"_meta":{"progressToken":"p-42"}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`,
	`{"jsonrpc":"2.0","method":"notifications/initialized"}`,
	`{"jsonrpc":"2.0","id":"a-1","method":"tools/list"}`,
	`{"jsonrpc":"2.0","id":3,"method":"resources/read","params":{"uri":"file:///a/b.txt","_meta":{"` + metaProtocolVersion + `":"2026-07-28"}}}`,
	"{\n  \"jsonrpc\" : \"2.0\",\n  \"id\" : 7,\n  \"method\" : \"prompts/get\",\n  \"params\" : { \"name\" : \"p\", \"arguments\" : { } }\n}\n",
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"Name":"rm"}}`,
	`{"jsonrpc":"2.0","ID":1,"method":"tools/call","params":{"name":"rm"}}`,
	`{"jsonrpc":"2.0","id":9,"result":{"content":[]}}`,
	`{"jsonrpc":2,"id":null,"method":["x"],"params":{"name":{},"uri":1,"_meta":[]}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"x","params":{}}`, `{}`,
	`{"jsonrpc":"2.0","id":0,"method":"ping"}`, `{"id":-7,"jsonrpc":"2.0","method":"ping"}`,
	`{"id":10 ,"jsonrpc":"2.0 ","method":"ping"}`, `{"id":1.5e3,"jsonrpc":"2.00","method":"ping"}`, `{"id":123}`,
	`{"params":{"name":""}}`, `{"id":1}`,
	`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"a","_meta":{"progressToken":7,"` + metaProtocolVersion + `":"2026-07-28"}}}`, // known names near the end (found by FuzzQuickWalk)
	// A case variant of a literal member without the member itself.
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","URI":"x","_META":{}}}`,
	`{"Error":{},"Result":1,"jsonrpc":"2.0","id":1}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","_meta":{"ProgressToken":1,"progresstokens":2}}}`,
	// A _meta string that is not plain: the validating skipper's.
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","_meta":{"progressToken":"caf\u00e9","x":"é"}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","_meta":{"progressToken":"café"} } }`,
}

// quickRefused are bodies quickWalk must leave to the walker (each is
// refused, or needs what quickWalk does not do).
var quickRefused = []string{
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","Method":"tools/list","params":{"name":"ls"}}`,
	`{"jsonrpc":"2.0","id":1,"id":2,"method":"tools/call"}`,
	`{"jsonrpc":"2.0","id":1,"ID":2,"method":"tools/call"}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls","NAME":"rm"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"k":1,"K":2}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"caf\u00e9"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"café"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"n\u0061me":"a"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"completion/complete","params":{"ref":{"type":"ref/prompt","name":"p"}}}`,
	`[{"jsonrpc":"2.0","id":1,"method":"ping"}]`,
	`{"jsonrpc":"2.0","id":1,"method":"ping"}x`,
	`{"jsonrpc":"2.0","id":1,"method":"ping",}`,
	`{"jsonrpc":"2.0","id":01,"method":"ping"}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","_meta":{"progressToken":1,"ProgressToken":2}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","_meta":{"progresstoken":1,"progressToken":2}}}`,
	`{"jsonrpc":"2.0","id":1x,"method":"ping"}`, `{"jsonrpc":"2.0","id":1`,
	// A literal member repeated, or after or before a case variant of it,
	// or two variants of it (the literals' own duplicate check).
	`{"jsonrpc":"2.0","jsonrpc":"2.0","id":1,"method":"ping"}`,
	`{"METHOD":"x","jsonrpc":"2.0","id":1,"method":"ping"}`,
	`{"jsonrpc":"2.0","Id":1,"ID":2,"method":"ping"}`,
	`{"jsonrpc":"2.0","id":1,"result":1,"result":2}`,
	`{"jsonrpc":"2.0","id":1,"error":{},"ERROR":{}}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping","params":{},"Params":{}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"Name":"a","name":"b"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{},"arguments":{}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","_meta":{},"_Meta":{}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"a","URI":"b"}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","_meta":{"progressToken":1,"progressToken":2}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","_meta":{"PROGRESSTOKEN":1,"ProgressToken":2}}}`,
	`{"jsonrpc":"2.0","id":1,"method":"ping"`,
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\x00",
	"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"p\xffing\"}",
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":` + strings.Repeat(`[`, 70) + strings.Repeat(`]`, 70) + `}}`,
}

func TestQuickWalk(t *testing.T) {
	t.Parallel()
	for _, s := range quickBodies {
		if !checkQuickWalk(t, []byte(s), 0) {
			t.Errorf("quickWalk left %q to the walker", s)
		}
	}
	for _, s := range quickRefused {
		if v := newView(); quickWalk([]byte(s), 0, &v) {
			t.Errorf("quickWalk took %q", s)
		}
	}
	for _, s := range differentialSeeds {
		for _, max := range []int{0, 3, 4, 5} {
			checkQuickWalk(t, []byte(s.body), max)
		}
	}
}

// FuzzQuickWalk checks quickWalk against the walker's full walk:
// go test -run XXX -fuzz FuzzQuickWalk ./core/inspect
func FuzzQuickWalk(f *testing.F) {
	for _, s := range quickBodies {
		f.Add([]byte(s), uint8(0))
	}
	for _, s := range quickRefused {
		f.Add([]byte(s), uint8(0))
	}
	for _, s := range differentialSeeds {
		f.Add([]byte(s.body), uint8(4))
	}
	f.Fuzz(func(t *testing.T, body []byte, maxDepth uint8) {
		if len(body) > 4096 {
			return
		}
		checkQuickWalk(t, body, int(maxDepth%12))
	})
}

// TestQuickWalkEveryPrefix runs quickWalk on every prefix of the bodies
// above (the inline key matchers read up to 13 bytes past a key's start),
// and on bodies that end right after each literal member, with values and
// whitespace of every short length, in the message and in params: such a
// body is taken whatever room is left after the member (except params.ref,
// which is the walker's).
func TestQuickWalkEveryPrefix(t *testing.T) {
	t.Parallel()
	for _, s := range append(append([]string(nil), quickBodies...), quickRefused...) {
		for n := 0; n <= len(s); n++ {
			checkQuickWalk(t, []byte(s[:n]), 0)
		}
	}
	vals := []string{`1`, `12`, `"x"`, `"2.0"`, `{}`, `[1]`, `null`, `123456789`}
	for ni, name := range append(append([]string(nil), messageKeys[:]...), paramKeys[:]...) {
		literalIn := 0 // the bodies (message, params) where name is a literal
		if ni >= len(messageKeys) {
			literalIn = 3
		}
		for _, val := range vals {
			for _, ws := range []string{``, ` `, "\n\t"} {
				m := `"` + name + `"` + ws + `:` + ws + val
				const x = `"x":"abcdefghijkl"` // another key, with room after it
				bodies := []string{`{` + m + `}`, `{` + x + `,` + m + `}`, `{` + m + `,` + x + `}`,
					`{"params":{` + m + `}}`, `{"params":{` + x + `,` + m + `}}`, `{"params":{` + m + `,` + x + `}}`}
				for bi, body := range bodies {
					if !checkQuickWalk(t, []byte(body), 0) && bi/3*3 == literalIn && name != "ref" {
						t.Errorf("quickWalk left %q to the walker", body)
					}
				}
			}
		}
	}
}
