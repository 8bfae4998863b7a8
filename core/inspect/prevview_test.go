package inspect

// The visitor below is how Inspect located messages before the specialised
// walker (view.go): jsonscan.Validate with a depth-limited ObjectVisitor.
// It is kept, frozen, as the reference of FuzzWalkerAgainstVisitor.

import (
	"slices"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// messageMember records a member of the message object.
func (v *msgView) messageMember(key []byte, val int) (isParams bool) {
	switch string(key) {
	case "jsonrpc":
		v.jsonrpc = val
	case "id":
		v.id = val
	case "method":
		v.method = val
	case "params":
		v.params = val
		return true
	case "result", "error":
	default:
		if foldsToAny(key, messageKeys[:]) {
			v.ambiguous = true
		}
	}
	return false
}

// paramsMember records a member of params; sub is 1 for _meta, 2 for ref.
func (v *msgView) paramsMember(key []byte, val int) (sub int) {
	switch string(key) {
	case "name":
		v.name = val
	case "uri":
		v.uri = val
	case "_meta":
		v.meta = val
		return 1
	case "ref":
		v.ref = val
		return 2
	case "arguments":
		v.arguments = val
	default:
		if foldsToAny(key, paramKeys[:]) {
			v.paramsAmbiguous = true
		}
	}
	return 0
}

func (v *msgView) metaMember(key []byte, val int) {
	if string(key) == metaProtocolVersion {
		v.metaVersion = val
	}
}

func (v *msgView) refMember(key []byte, val int) {
	switch string(key) {
	case "type":
		v.refType = val
	case "name":
		v.refName = val
	case "uri":
		v.refURI = val
	default:
		if foldsToAny(key, refKeys[:]) {
			v.refAmbiguous = true
		}
	}
}

// visitor fills msgViews during jsonscan validation: for a single message
// (VisitDepth 3: message, params, params._meta / params.ref) in v, for a
// batch (VisitDepth 4, one level deeper) one view per element object in
// views, in document order.
type visitor struct {
	v        msgView
	batch    bool
	views    []msgView
	inParams bool // the last message member is params
	sub      int  // the last member of params: 1 _meta, 2 ref
}

// VisitObject implements jsonscan.ObjectVisitor: in a batch, each object
// at depth 2 is a new message.
func (x *visitor) VisitObject(depth, _ int) {
	if x.batch && depth == 2 {
		x.views = append(x.views, newView())
		x.inParams, x.sub = false, 0
	}
}

// VisitMember implements jsonscan.Visitor.
func (x *visitor) VisitMember(depth int, key []byte, val int) {
	v := &x.v
	if x.batch {
		if depth == 1 || len(x.views) == 0 { // not reached: arrays have no members
			return
		}
		v = &x.views[len(x.views)-1]
		depth--
	}
	switch depth {
	case 1:
		x.inParams = v.messageMember(key, val)
		x.sub = 0
	case 2:
		if x.inParams {
			x.sub = v.paramsMember(key, val)
		}
	case 3:
		if !x.inParams {
			return
		}
		switch x.sub {
		case 1:
			v.metaMember(key, val)
		case 2:
			v.refMember(key, val)
		}
	}
}

// checkWalker asserts that the walker accepts and refuses exactly what
// jsonscan.Validate with the previous visitor did, with the same error, and
// locates the same members.
func checkWalker(t *testing.T, body []byte) {
	t.Helper()
	for _, maxDepth := range []int{0, 4} {
		x := visitor{v: newView()}
		opts := jsonscan.Options{MaxDepth: maxDepth, Visitor: &x, VisitDepth: 3}
		if i := jsonscan.SkipWS(body, 0); i < len(body) && body[i] == '[' {
			x.batch, opts.VisitDepth = true, 4
		}
		want := jsonscan.Validate(body, opts)
		var w walker
		v := newView()
		var views []msgView
		batch, err := w.body(body, maxDepth, &v, &views)
		if (err == nil) != (want == nil) || (err != nil && err.Error() != want.Error()) {
			t.Fatalf("walker(%q, depth %d) = %v, visitor %v", body, maxDepth, err, want)
		}
		if want != nil {
			continue
		}
		if batch != x.batch {
			t.Fatalf("walker(%q) batch = %v", body, batch)
		}
		if !batch {
			checkEnds(t, body, v)
			if v = visitorFields(v); v != x.v {
				t.Fatalf("walker(%q) view\n%+v\nvisitor\n%+v", body, v, x.v)
			}
			continue
		}
		// The visitor filed the members of an object nested in a
		// non-object element under the previous view; such a batch is
		// refused as a whole, so only all-object batches must agree.
		for i := range views {
			checkEnds(t, body, views[i])
			views[i] = visitorFields(views[i])
		}
		if len(views) == batchLen(body) && !slices.Equal(views, x.views) {
			t.Fatalf("walker(%q) views\n%+v\nvisitor\n%+v", body, views, x.views)
		}
	}
}

// batchLen counts the elements of the valid JSON array body.
func batchLen(b []byte) int {
	i := jsonscan.SkipWS(b, jsonscan.SkipWS(b, 0)+1)
	n := 0
	for i < len(b) && b[i] != ']' {
		n++
		i = jsonscan.SkipWS(b, jsonscan.ValueEnd(b, i))
		if i < len(b) && b[i] == ',' {
			i = jsonscan.SkipWS(b, i+1)
		}
	}
	return n
}

func TestWalkerAgainstVisitor(t *testing.T) {
	t.Parallel()
	for _, s := range differentialSeeds {
		checkWalker(t, []byte(s.body))
	}
	for _, s := range []string{
		`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{}},[{"name":"x"}]]`,
		`[1,{"id":2},"x",{"params":{"_meta":{"` + metaProtocolVersion + `":"v"},"ref":{"type":"t","URI":1}}}]`,
		`{"params":{"ref":{"name":"a"},"name":"b","_meta":[{"` + metaProtocolVersion + `":"v"}]},"Params":1}`,
		`{"params":[{"name":"a"}],"x":{"params":{"name":"b"}}}`,
		`{"a":{"b":{"c":{"d":{"e":1}}}},"params":{"arguments":{"x":{"y":{}}}}}`,
		`  {"jsonrpc" : "2.0" , "id" : "1" , "method" : "ping" }  `,
		`{"jsonrpc":"2.0"`, `[{"id":1},`, `{"params":{"name":1,"name":2}}`, `[[[[[[]]]]]]`, `{}x`,
	} {
		checkWalker(t, []byte(s))
	}
}

// FuzzWalkerAgainstVisitor checks the specialised walker against the
// previous visitor: go test -run XXX -fuzz FuzzWalkerAgainstVisitor ./core/inspect
func FuzzWalkerAgainstVisitor(f *testing.F) {
	for _, s := range differentialSeeds {
		f.Add([]byte(s.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkWalker(t, body) })
}

// visitorFields clears what only the walker records.
func visitorFields(v msgView) msgView {
	v.idEnd = 0
	v.jsonrpcEnd, v.methodEnd, v.nameEnd, v.uriEnd = strEnd{}, strEnd{}, strEnd{}, strEnd{}
	return v
}

// checkEnds asserts that the ends the walker recorded are where the walk
// helpers find them.
func checkEnds(t *testing.T, body []byte, v msgView) {
	t.Helper()
	if v.id >= 0 && v.idEnd != jsonscan.ValueEnd(body, v.id) {
		t.Fatalf("%q: id ends at %d, ValueEnd %d", body, v.idEnd, jsonscan.ValueEnd(body, v.id))
	}
	for _, f := range []struct {
		at int
		e  strEnd
	}{{v.jsonrpc, v.jsonrpcEnd}, {v.method, v.methodEnd}, {v.name, v.nameEnd}, {v.uri, v.uriEnd}} {
		if f.at < 0 || body[f.at] != '"' {
			if f.e != (strEnd{}) {
				t.Fatalf("%q: end %+v recorded for a non-string at %d", body, f.e, f.at)
			}
			continue
		}
		if end, esc := jsonscan.StringEnd(body, f.at); f.e != (strEnd{end, esc}) {
			t.Fatalf("%q: string at %d recorded as %+v, StringEnd %d, %v", body, f.at, f.e, end, esc)
		}
	}
}
