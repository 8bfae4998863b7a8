package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// Allow reports whether an item of a list is visible. kind is "tool",
// "resource" or "prompt"; name is the tool or prompt name, the resource URI,
// or the resource template's uriTemplate (kind "resource").
type Allow func(kind, name string) bool

// ErrFilter is the cause wrapped by every filtering failure. The response
// could not be parsed safely and was replaced by a JSON-RPC internal error.
var ErrFilter = errors.New("inspect: list response cannot be filtered")

// Filter removes the items a principal may not see from the response to a
// */list request.
type Filter struct {
	// List is the list being filtered: "tools", "resources",
	// "resourceTemplates" or "prompts" (Target.List). REQUIRED.
	List string
	// Allow decides each item. REQUIRED; a nil Allow hides every item.
	Allow Allow
	// MarkPrivate sets result.cacheScope to "private" (2026-07-28: a
	// per-principal list must not be shared by caches). OPTIONAL.
	MarkPrivate bool
	// RequestID, when set, restricts filtering to the response whose id
	// equals it as the go-sdk echoes ids (strings by decoded value, numbers
	// by their int64 value); responses with other ids pass unchanged.
	// OPTIONAL; nil filters every successful response in the body, which is
	// the fail-closed choice for a single-request POST.
	RequestID json.RawMessage
	// MaxDepth limits JSON nesting. OPTIONAL; default 64.
	MaxDepth int
}

// FilterJSON rewrites one JSON-RPC response body (a single response object,
// or a batch array) to a list request: it removes the items of
// result.<list> that allow rejects, keeps everything else byte-for-byte
// (nextCursor, _meta, unknown members, the kept items), and when markPrivate
// is true sets result.cacheScope to "private". Error responses, and server
// requests or notifications, pass through unchanged.
//
// It fails closed: if the body is not strict JSON, result is not an object,
// result.<list> is not an array, or a member name is ambiguous ("Tools"), the
// returned body is a JSON-RPC -32603 error response (send it instead of the
// original) and the error wraps ErrFilter. Items that are not objects or lack
// a string name/uri/uriTemplate are dropped.
func FilterJSON(body []byte, list string, allow Allow, markPrivate bool) ([]byte, error) {
	f := Filter{List: list, Allow: allow, MarkPrivate: markPrivate}
	return f.JSON(body)
}

// JSON is FilterJSON with the filter's options.
func (f Filter) JSON(body []byte) ([]byte, error) {
	out, _, err := f.apply(body)
	if err != nil {
		return f.errorBody(), err
	}
	return out, nil
}

// itemKey returns the item kind and the member naming an item of list.
func itemKey(list string) (kind, key string, ok bool) {
	switch list {
	case ListTools:
		return TargetTool, "name", true
	case ListPrompts:
		return TargetPrompt, "name", true
	case ListResources:
		return TargetResource, "uri", true
	case ListResourceTemplates:
		return TargetResource, "uriTemplate", true
	}
	return "", "", false
}

type edit struct {
	start, end int
	repl       []byte
}

// apply returns the filtered body and whether it differs from body.
func (f *Filter) apply(body []byte) ([]byte, bool, error) {
	if _, _, ok := itemKey(f.List); !ok {
		return nil, false, fmt.Errorf("%w: unknown list %q", ErrFilter, f.List)
	}
	if err := jsonscan.Validate(body, jsonscan.Options{MaxDepth: f.MaxDepth}); err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrFilter, err)
	}
	var wantID string
	if f.RequestID != nil {
		k, ok := idKey(f.RequestID)
		if !ok {
			return nil, false, fmt.Errorf("%w: invalid request id", ErrFilter)
		}
		wantID = k
	}
	edits := make([]edit, 0, 2)
	i := jsonscan.SkipWS(body, 0)
	switch body[i] {
	case '{':
		var err error
		if edits, err = f.response(body, i, wantID, edits); err != nil {
			return nil, false, err
		}
	case '[':
		j := jsonscan.SkipWS(body, i+1)
		for body[j] != ']' {
			if body[j] == '{' {
				var err error
				if edits, err = f.response(body, j, wantID, edits); err != nil {
					return nil, false, err
				}
			}
			j = jsonscan.SkipWS(body, jsonscan.ValueEnd(body, j))
			if body[j] == ',' {
				j = jsonscan.SkipWS(body, j+1)
			}
		}
	default:
		return nil, false, fmt.Errorf("%w: not a JSON-RPC message", ErrFilter)
	}
	if len(edits) == 0 {
		return body, false, nil
	}
	out := make([]byte, 0, len(body)+32)
	last := 0
	for _, e := range edits {
		out = append(out, body[last:e.start]...)
		out = append(out, e.repl...)
		last = e.end
	}
	out = append(out, body[last:]...)
	return out, true, nil
}

// response appends the edits for the message object at start.
func (f *Filter) response(b []byte, start int, wantID string, edits []edit) ([]edit, error) {
	id, result := -1, -1
	hasMethod := false
	var kbuf [64]byte
	it := jsonscan.Members(b, start)
	for it.Next() {
		key, v := it.Key(kbuf[:]), it.Value()
		switch string(key) {
		case "id":
			id = v
		case "result":
			result = v
		case "method":
			hasMethod = true
		default:
			if foldsTo(key, "result") || foldsTo(key, "id") || foldsTo(key, "method") {
				return nil, fmt.Errorf("%w: ambiguous member name", ErrFilter)
			}
		}
		it.Skip()
	}
	if hasMethod || result < 0 {
		return edits, nil // a server request or notification, or an error response
	}
	if wantID != "" {
		if id < 0 {
			return edits, nil
		}
		k, ok := idKey(b[id:jsonscan.ValueEnd(b, id)])
		if !ok || k != wantID {
			return edits, nil
		}
	}
	if b[result] != '{' {
		return nil, fmt.Errorf("%w: result is not an object", ErrFilter)
	}
	kind, nameKey, _ := itemKey(f.List)
	list, listEnd, scope := -1, -1, -1
	var listRepl []byte
	it = jsonscan.Members(b, result)
	empty := true
	for it.Next() {
		empty = false
		key, v := it.Key(kbuf[:]), it.Value()
		end := -1
		switch {
		case string(key) == f.List:
			list = v
			if b[v] == '[' {
				listRepl, end = f.filterItems(b, v, kind, nameKey)
				listEnd = end
			}
		case string(key) == "cacheScope":
			scope = v
		case foldsTo(key, f.List) || foldsTo(key, "cacheScope"):
			return nil, fmt.Errorf("%w: ambiguous member name in result", ErrFilter)
		}
		if end < 0 {
			end = jsonscan.ValueEnd(b, v)
		}
		it.Advance(end)
	}
	if f.MarkPrivate && scope < 0 {
		repl := []byte(`"cacheScope":"private"`)
		if !empty {
			repl = append(repl, ',')
		}
		edits = append(edits, edit{result + 1, result + 1, repl})
	}
	// Edits must stay sorted by position: cacheScope may come before or
	// after the list.
	var listEdit, scopeEdit *edit
	if list >= 0 {
		if b[list] != '[' {
			return nil, fmt.Errorf("%w: result.%s is not an array", ErrFilter, f.List)
		}
		e := edit{start: list, end: listEnd, repl: listRepl}
		listEdit = &e
	}
	if f.MarkPrivate && scope >= 0 {
		e := edit{start: scope, end: jsonscan.ValueEnd(b, scope), repl: []byte(`"private"`)}
		scopeEdit = &e
	}
	switch {
	case listEdit != nil && scopeEdit != nil && scopeEdit.start < listEdit.start:
		edits = append(edits, *scopeEdit, *listEdit)
	case listEdit != nil && scopeEdit != nil:
		edits = append(edits, *listEdit, *scopeEdit)
	case listEdit != nil:
		edits = append(edits, *listEdit)
	case scopeEdit != nil:
		edits = append(edits, *scopeEdit)
	}
	return edits, nil
}

// filterItems returns the array at start with only the allowed items, and
// the index after the array.
func (f *Filter) filterItems(b []byte, start int, kind, nameKey string) ([]byte, int) {
	out := make([]byte, 1, len(b)-start) // upper bound: one allocation
	out[0] = '['
	n := 0
	i := jsonscan.SkipWS(b, start+1)
	for b[i] != ']' {
		name, ok, itemEnd := itemName(b, i, nameKey)
		if ok && f.Allow != nil && f.Allow(kind, name) {
			if n > 0 {
				out = append(out, ',')
			}
			out = append(out, b[i:itemEnd]...)
			n++
		}
		i = jsonscan.SkipWS(b, itemEnd)
		if b[i] == ',' {
			i = jsonscan.SkipWS(b, i+1)
		}
	}
	return append(out, ']'), i + 1
}

// itemName returns the decoded name member of the item at start and the
// index after the item; ok is false for non-objects, a missing or
// non-string name, or an ambiguously spelled name member.
func itemName(b []byte, start int, nameKey string) (name string, ok bool, end int) {
	if b[start] != '{' {
		return "", false, jsonscan.ValueEnd(b, start)
	}
	at := -1
	ambiguous := false
	var kbuf [64]byte
	it := jsonscan.Members(b, start)
	for it.Next() {
		key, v := it.Key(kbuf[:]), it.Value()
		if string(key) == nameKey {
			at = v
		} else if foldsTo(key, nameKey) {
			ambiguous = true
		}
		it.Skip()
	}
	end = it.End()
	if ambiguous || at < 0 || b[at] != '"' {
		return "", false, end
	}
	s, _ := jsonscan.String(b, at)
	return s, true, end
}

// idKey canonicalizes a JSON-RPC id as the go-sdk echoes it: strings by
// decoded value, numbers truncated to int64 (jsonrpc2.MakeID).
func idKey(raw []byte) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch c := raw[0]; {
	case c == '"':
		if jsonscan.Validate(raw, jsonscan.Options{}) != nil {
			return "", false
		}
		s, _ := jsonscan.String(raw, 0)
		return "s:" + s, true
	case c == '-' || (c >= '0' && c <= '9'):
		v, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return "", false
		}
		return "n:" + strconv.FormatInt(int64(v), 10), true
	}
	return "", false
}

// errorBody is the JSON-RPC internal error sent instead of a list response
// that cannot be filtered.
func (f *Filter) errorBody() []byte {
	id := []byte("null")
	if _, ok := idKey(f.RequestID); ok {
		id = bytes.TrimSpace(f.RequestID)
	}
	out := []byte(`{"jsonrpc":"2.0","id":`)
	out = append(out, id...)
	return append(out, `,"error":{"code":-32603,"message":"Internal error: list response could not be filtered"}}`...)
}
