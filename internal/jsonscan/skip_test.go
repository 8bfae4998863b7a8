package jsonscan

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// checkSkipFast checks the fast skipper against the general scanner at
// every offset of data: wherever skipFast accepts a value, skipValue must
// accept it too and end at the same byte. (Where skipFast gives up, the
// general scanner decides alone, so nothing is required.)
func checkSkipFast(t *testing.T, data []byte, maxDepth int) {
	t.Helper()
	for i := 0; i <= len(data); i++ {
		for _, depth := range [...]int{0, 1, maxDepth - 2} {
			if depth < 0 {
				continue
			}
			end := skipFast(data, i, depth, maxDepth)
			if end < 0 {
				continue
			}
			s := scanner{data: data, pos: i, maxDepth: maxDepth}
			if err := s.skipValue(depth); err != nil || s.pos != end {
				t.Fatalf("%q at %d, depth %d/%d: skipFast ends at %d, skipValue at %d with %v",
					data, i, depth, maxDepth, end, s.pos, err)
			}
		}
	}
}

// foldBitPair returns two ASCII keys that share a fold bit without being
// case variants of each other, so that the fast skipper must settle the
// clash by comparing them.
func foldBitPair(t *testing.T) (string, string) {
	t.Helper()
	seen := map[uint64]string{}
	for i := 0; i < 10000; i++ {
		k := fmt.Sprintf("key%d", i)
		bit := asciiFoldBit([]byte(k))
		if prev, ok := seen[bit]; ok {
			return prev, k
		}
		seen[bit] = k
	}
	t.Fatal("no clashing pair")
	return "", ""
}

func TestSkipFast(t *testing.T) {
	t.Parallel()
	a, b := foldBitPair(t)
	pad := strings.Repeat(" ", 8) // keys near the end of the input take the general path
	accepted := []string{
		`"plain"`, `""`, `"esc \" \\ \/ \b \f \n \r \t"`, `"\u00e9\u212A\ud83d\ude00"`, "\"é ſ \u212a 😀\"",
		`0`, `-0`, `12`, `-1.5e+10`, `3E-2`, `0.25`, `true`, `false`, `null`,
		`[]`, `{}`, `[ ]`, `{ }`, `[1, "a" ,{"b":[null]} ]`,
		`{"query":"label:bug state:open","limit":25,"include_closed":false,"sort":"updated","order":"desc","page":1}` + pad,
		"{ \"a\" :\t1 ,\n\"b\"\r:\"x\" }" + pad,
		`{"` + a + `":1,"` + b + `":2}` + pad,
		`{"x":{"` + a + `":1},"y":{"` + b + `":2,"` + a + `":3}}` + pad,
		strings.Repeat(`[`, 60) + strings.Repeat(`]`, 60),
	}
	for _, in := range accepted {
		data := []byte(in)
		end := skipFast(data, 0, 0, DefaultMaxDepth)
		if end != len(strings.TrimRight(in, " ")) {
			t.Errorf("%q: skipFast = %d, want the whole value", in, end)
		}
		checkSkipFast(t, data, DefaultMaxDepth)
	}
	// Left to the general scanner, which refuses or accepts them itself.
	refused := []struct {
		in   string
		kind error // nil: valid, only not handled by the fast skipper
	}{
		{`{"` + a + `":1,"` + a + `":2}` + pad, ErrDuplicateKey},
		{`{"` + a + `":1,"` + strings.ToUpper(a) + `":2}` + pad, ErrCaseVariant},
		{"{\"k\":1,\"\u212a\":2}" + pad, ErrCaseVariant},
		{`{"s":1,"\u017f":2}` + pad, ErrCaseVariant},
		{`{"a\u0062":1}` + pad, nil},
		{"{\"é\":1}" + pad, nil},
		{`{"a":1}`, nil}, // the key is too near the end
		{`"ctl` + "\x01" + `"`, ErrSyntax},
		{"\"\xff\"", ErrInvalidUTF8},
		{"\"\xed\xa0\x80\"", ErrInvalidUTF8},
		{`"\ud800"`, ErrInvalidUTF8},
		{`"\udc00\ud800"`, ErrInvalidUTF8},
		{`"\ud800\u0041"`, ErrInvalidUTF8},
		{`"\x"`, ErrSyntax},
		{`"\u12G4"`, ErrSyntax},
		{`01`, nil}, // a 0, then trailing data for the caller
		{`-`, ErrSyntax},
		{`1.`, ErrSyntax},
		{`1e`, ErrSyntax},
		{`tru`, ErrSyntax},
		{`nul`, ErrSyntax},
		{`[1,]`, ErrSyntax},
		{`[1 2]`, ErrSyntax},
		{`{"a" 1}` + pad, ErrSyntax},
		{`{"a":1,}` + pad, ErrSyntax},
		{`{"a":1 "b":2}` + pad, ErrSyntax},
		{strings.Repeat(`[`, 70) + strings.Repeat(`]`, 70), ErrTooDeep},
	}
	for _, c := range refused {
		data := []byte(c.in)
		checkSkipFast(t, data, DefaultMaxDepth)
		if c.in == `01` {
			continue
		}
		if end := skipFast(data, 0, 0, DefaultMaxDepth); end >= 0 && c.kind != nil {
			t.Errorf("%q: skipFast accepted it (end %d)", c.in, end)
		}
		err := Validate([]byte(strings.TrimRight(c.in, " ")), Options{})
		if c.kind == nil && err != nil || c.kind != nil && !errors.Is(err, c.kind) {
			t.Errorf("%q: Validate = %v, want %v", c.in, err, c.kind)
		}
	}
}

// TestSkipFastClashBound checks that an object whose keys keep clashing
// goes to the general scanner (bounded work) and is still judged right.
func TestSkipFastClashBound(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(`{`)
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, `"key%d":%d,`, i, i)
	}
	b.WriteString(`"end":0}        `)
	data := []byte(b.String())
	if end := skipFast(data, 0, 0, DefaultMaxDepth); end >= 0 {
		t.Errorf("200 keys: skipFast = %d, want it to give up after %d clashes", end, maxFastClashes)
	}
	checkSkipFast(t, data, DefaultMaxDepth)
	if err := Validate(data, Options{}); err != nil {
		t.Fatal(err)
	}
}

// FuzzSkipFast checks the fast skipper against the general scanner
// (skipValue), at every offset and at three depths:
// go test -run XXX -fuzz FuzzSkipFast ./internal/jsonscan
func FuzzSkipFast(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s), uint8(0))
	}
	f.Add([]byte(`{"query":"label:bug","limit":25,"x":[true,false,null,{"y":-1.5e3}]}         `), uint8(4))
	f.Add([]byte(`{"key35":1,"key41":{"key35":2},"KEY35":3}                       `), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, maxDepth uint8) {
		if len(data) > 2048 {
			return
		}
		checkSkipFast(t, data, int(maxDepth%70)+1)
	})
}

// TestSkipFastMemberValues covers the member values fastObject reads
// without a call (plain strings, positive integers, true and false) next
// to the ones it leaves to skipFast and fastString.
func TestSkipFastMemberValues(t *testing.T) {
	t.Parallel()
	pad := strings.Repeat(" ", 16)
	for _, c := range []struct {
		in string
		ok bool
	}{
		{`{"a":"short","b":"a plain string longer than a word"}`, true},
		{`{"a":"esc \" in a long string","b":"é","c":"\u00e9"}`, true},
		{`{"a":12,"b":9}`, true}, {`{"a":12 ,"b":3 }`, true}, {`{"a":0,"b":-1,"c":1.5e3,"d":10E2}`, true},
		{`{"a":true,"b":false,"c":null}`, true}, {`{"a":true }`, true},
		{`{"a":12x}`, false}, {`{"a":01}`, false}, {`{"a":1.}`, false}, {`{"a":truex}`, false},
		{`{"a":falsey}`, false}, {`{"a":tru}`, false}, {`{"a":"\x01"}`, false}, {"{\"a\":\"\xff\"}", false},
		{`{"a":123`, false}, {`{"a":"abc`, false},
	} {
		data := []byte(c.in + pad)
		checkSkipFast(t, data, DefaultMaxDepth)
		end := skipFast(data, 0, 0, DefaultMaxDepth)
		if c.ok != (end == len(c.in)) {
			t.Errorf("%q: skipFast = %d, want accepted %v", c.in, end, c.ok)
		}
		if (Validate([]byte(c.in), Options{}) == nil) != c.ok {
			t.Errorf("%q: Validate disagrees", c.in)
		}
	}
}
