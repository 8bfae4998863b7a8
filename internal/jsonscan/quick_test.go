package jsonscan

import (
	"fmt"
	"strings"
	"testing"
)

// quickObject walks the object at data[i] == '{' with the quick helpers
// (keys with Key, values with QuickValue), as a caller of a known shape
// does, and returns the index after it, or -1 where the quick walk gives up.
func quickObject(data []byte, i, depth, maxDepth int) int {
	i, end := QuickOpen(data, i)
	if i < 0 {
		return end
	}
	var o QuickObject
	for {
		_, _, at := o.Key(data, i)
		if at < 0 {
			return -1
		}
		i = QuickValue(data, at, depth+1, maxDepth)
		var more bool
		if i, more = QuickNext(data, i); !more {
			return i
		}
	}
}

// checkQuick checks the quick helpers against the general scanner at every
// offset of data: wherever the quick walk of an object, or QuickString,
// accepts a value, skipValue must accept it too and end at the same byte.
func checkQuick(t *testing.T, data []byte, maxDepth int) {
	t.Helper()
	for i := 0; i < len(data); i++ {
		var end int
		switch data[i] {
		case '{':
			if maxDepth < 1 {
				continue
			}
			end = quickObject(data, i, 0, maxDepth)
		case '"':
			end = QuickString(data, i)
		case '1', '2', '3', '4', '5', '6', '7', '8', '9':
			if end = QuickInteger(data, i); end >= 0 && data[end] != ',' && data[end] != '}' {
				t.Fatalf("%q at %d: QuickInteger ends at %d, before %q", data, i, end, data[end])
			}
		default:
			continue
		}
		if end < 0 {
			continue
		}
		s := scanner{data: data, pos: i, maxDepth: maxDepth}
		if err := s.skipValue(0); err != nil || s.pos != end {
			t.Fatalf("%q at %d, max depth %d: quick walk ends at %d, skipValue at %d with %v",
				data, i, maxDepth, end, s.pos, err)
		}
	}
}

func TestQuick(t *testing.T) {
	t.Parallel()
	a, b := foldBitPair(t)
	pad := strings.Repeat(" ", 16)
	taken := []string{
		`{"jsonrpc":"2.0","id":1,"method":"m","params":{"name":"x","arguments":{"a":[1,true,null]}}}` + pad,
		`{ "a" : 1 , "b" : "c" }` + pad,
		fmt.Sprintf(`{"%s":1,"%s":2}`, a, b) + pad,
		`{}`, `{ }`, `"plain"`, `""`, `{"id":42,"x":1.5e3}` + pad, `{"a":1,"b":[9]}` + pad,
	}
	for _, s := range taken {
		data := []byte(s)
		var end int
		if data[0] == '{' {
			end = quickObject(data, 0, 0, DefaultMaxDepth)
		} else {
			end = QuickString(data, 0)
		}
		if end < 0 {
			t.Errorf("%q: the quick walk gave up", s)
		}
		checkQuick(t, data, DefaultMaxDepth)
	}
	left := []string{
		`{"a":1,"a":2}` + pad, `{"a":1,"A":2}` + pad, `{"\u0061":1}` + pad, `{"é":1}` + pad,
		`{"a":1,}` + pad, `{"a" 1}` + pad, `{"a":1 "b":2}` + pad, `{"a":01}` + pad,
		`"a\"b"`, `"é"`, "\"a\x01\"", `"abc`, `{"a":01}` + pad, `{"a":12` + pad,
	}
	for _, s := range left {
		data := []byte(s)
		var end int
		if data[0] == '{' {
			end = quickObject(data, 0, 0, DefaultMaxDepth)
		} else {
			end = QuickString(data, 0)
		}
		if end >= 0 {
			t.Errorf("%q: the quick walk took it (end %d)", s, end)
		}
		checkQuick(t, data, DefaultMaxDepth)
	}
	// A clash with one of more than fastKeys keys cannot be settled.
	var many strings.Builder
	many.WriteString(`{`)
	for i := range 40 {
		fmt.Fprintf(&many, `"k%d":%d,`, i, i)
	}
	many.WriteString(`"K0":0}` + pad)
	if end := quickObject([]byte(many.String()), 0, 0, DefaultMaxDepth); end >= 0 {
		t.Errorf("case variant after 40 keys: the quick walk took it")
	}
}

// FuzzQuick checks the quick helpers against the general scanner:
// go test -run XXX -fuzz FuzzQuick ./internal/jsonscan
func FuzzQuick(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), uint8(0))
	}
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"m","params":{"name":"x","arguments":{"a":[1,true,null]}}}         `), uint8(4))
	f.Add([]byte(`{"key35":1,"key41":{"key35":2},"KEY35":3}                       `), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, maxDepth uint8) {
		if len(data) > 2048 {
			return
		}
		checkQuick(t, data, int(maxDepth%70)+1)
	})
}
