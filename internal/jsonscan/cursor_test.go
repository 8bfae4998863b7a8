package jsonscan

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// cursorWalk walks data with a Scanner, descending into every object and
// array and reading every string with String, and records what a
// depth-limited ObjectVisitor would see.
func cursorWalk(data []byte, maxDepth, visitDepth int) ([]string, error) {
	return cursorWalkTo(data, maxDepth, visitDepth, -1)
}

// cursorWalkTo is cursorWalk that skips every value at depth skipAt and
// deeper with Value (whole objects and arrays: Value's fast skipper), or
// none when skipAt < 0.
func cursorWalkTo(data []byte, maxDepth, visitDepth, skipAt int) ([]string, error) {
	var c Scanner
	c.Reset(data, maxDepth)
	var got []string
	var walk func(depth int) error
	walk = func(depth int) error {
		if skipAt >= 0 && depth >= skipAt {
			return c.Value(depth)
		}
		switch c.Peek() {
		case '{':
			if depth+1 <= visitDepth {
				got = append(got, fmt.Sprintf("%d:{@%d", depth+1, c.Pos()))
			}
			var o Object
			if err := c.OpenObject(&o, depth); err != nil {
				return err
			}
			for {
				key, ok, err := c.NextMember(&o)
				if !ok || err != nil {
					return err
				}
				if depth+1 <= visitDepth {
					got = append(got, fmt.Sprintf("%d:%q@%d", depth+1, key, c.Pos()))
				}
				if err := walk(depth + 1); err != nil {
					return err
				}
			}
		case '[':
			var a Array
			if err := c.OpenArray(&a, depth); err != nil {
				return err
			}
			for {
				ok, err := c.NextElement(&a)
				if !ok || err != nil {
					return err
				}
				if err := walk(depth + 1); err != nil {
					return err
				}
			}
		case '"':
			start := c.Pos()
			raw, esc, err := c.String()
			if err != nil {
				return err
			}
			if end, e := StringEnd(data, start); end != c.Pos() || e != esc || string(raw) != string(data[start+1:end-1]) {
				return fmt.Errorf("String() = %q, %v, end %d; StringEnd %d, %v", raw, esc, c.Pos(), end, e)
			}
			return nil
		default:
			return c.Value(depth)
		}
	}
	if err := walk(0); err != nil {
		return got, err
	}
	return got, c.Finish()
}

// record is an ObjectVisitor in cursorWalk's format.
type record struct{ got []string }

func (r *record) VisitObject(depth, off int) {
	r.got = append(r.got, fmt.Sprintf("%d:{@%d", depth, off))
}
func (r *record) VisitMember(depth int, key []byte, val int) {
	r.got = append(r.got, fmt.Sprintf("%d:%q@%d", depth, key, val))
}

// sameError reports whether two Validate results are identical: both nil,
// or *Errors with the same kind, offset and detail.
func sameError(a, b error) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var ea, eb *Error
	return errors.As(a, &ea) && errors.As(b, &eb) && *ea == *eb
}

// checkPrevious compares Validate, Decode and Scanner walks (descending
// into everything, and skipping whole values with Value) with the scanner
// as it was before the Scanner cursor (prev_test.go).
func checkPrevious(t *testing.T, data []byte) {
	t.Helper()
	for _, depth := range []int{0, 3} {
		// VisitDepth 1 (the JWT claims) skips the members' values with
		// the fast skipper; 4 visits everything the depth limits allow.
		for _, visit := range []int{1, 4} {
			ref := &record{}
			want := refValidate(data, Options{MaxDepth: depth, Visitor: ref, VisitDepth: visit})
			rec := &record{}
			got := Validate(data, Options{MaxDepth: depth, Visitor: rec, VisitDepth: visit})
			if !sameError(got, want) {
				t.Fatalf("Validate(%q, depth %d, visit %d) = %v, previous scanner %v", data, depth, visit, got, want)
			}
			if want == nil && !reflect.DeepEqual(rec.got, ref.got) {
				t.Fatalf("Validate(%q, visit %d) visited %q, previous scanner %q", data, visit, rec.got, ref.got)
			}
		}
		ref := &record{}
		want := refValidate(data, Options{MaxDepth: depth, Visitor: ref, VisitDepth: 4})
		walked, err := cursorWalk(data, depth, 4)
		if !sameError(err, want) {
			t.Fatalf("Scanner walk of %q (depth %d) = %v, previous scanner %v", data, depth, err, want)
		}
		if want == nil && !reflect.DeepEqual(walked, ref.got) {
			t.Fatalf("Scanner walk of %q saw %q, previous scanner %q", data, walked, ref.got)
		}
		if _, err := Decode(data, Options{MaxDepth: depth}); !sameError(err, want) {
			t.Fatalf("Decode(%q, depth %d) = %v, previous scanner %v", data, depth, err, want)
		}
	}
	checkValueWalk(t, data) // whole objects and arrays through Value's fast skipper
}

func TestScannerAgainstPrevious(t *testing.T) {
	t.Parallel()
	in := append([]string(nil), fuzzSeeds...)
	in = append(in,
		``, ` `, `{`, `[`, `{"a"`, `{"a":`, `{"a":1`, `{"a":1,`, `{"a":1,}`, `[1,]`, `[1`, `[1 2]`,
		`{"a" 1}`, `{1:1}`, `{"a":1 "b":2}`, " {\"a\" : [ 1 , {\"b\":\"\\u00e9\"} ] } ",
		`{"a":{"b":{"c":{"d":{}}}}}`, `[[[[[]]]]]`, `{"Ab":1,"aB":2}`, `{"a\u0062":1,"ab":2}`,
		`{"k":1,"\u212a":2}`, `{"axb":1,"ayb":2,"aXb":3}`, `{"axb":1,"ayb":2,"AYB":3}`, "{\"\u212a\":1,\"axb\":2,\"k\":3}",
		`{"":1,"a":2,"":3}`, `{"ab":1,"\u00e9":2,"AB":3}`, "{\"\u212a\":{},\"K\":[]}", `[{"x":1},{"x":2},{"x":1,"X":2}]`,
		strings.Repeat(`{"a":`, 70)+"1"+strings.Repeat("}", 70),
		strings.Repeat("[", 70)+strings.Repeat("]", 70),
	)
	many := `{` // crosses the small key table into the map
	for i := 0; i < 20; i++ {
		many += fmt.Sprintf(`"k%d":%d,`, i, i)
	}
	in = append(in, many+`"k3":1}`, many+`"K19":1}`, many+`"z":{"k1":1}}`)
	for _, s := range in {
		checkPrevious(t, []byte(s))
	}
}

// FuzzValidateAgainstPrevious checks the scanner (Validate, Decode and the
// Scanner cursor) against the previous scanner, error for error:
// go test -run XXX -fuzz FuzzValidateAgainstPrevious ./internal/jsonscan
func FuzzValidateAgainstPrevious(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkPrevious(t, data) })
}
