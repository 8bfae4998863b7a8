package jsonscan

import (
	"fmt"
	"strings"
	"testing"
)

// checkValueWalk compares Scanner walks that skip whole values with Value
// at depths 0 to 2 with the scanner as it was before the fast paths
// (prev_test.go), error for error.
func checkValueWalk(t *testing.T, data []byte) {
	t.Helper()
	for _, maxDepth := range []int{0, 2, 3} {
		want := refValidate(data, Options{MaxDepth: maxDepth})
		for skipAt := 0; skipAt <= 2; skipAt++ {
			if _, got := cursorWalkTo(data, maxDepth, 0, skipAt); !sameError(got, want) {
				t.Fatalf("Value walk of %q (max depth %d, Value from depth %d) = %v, previous scanner %v",
					data, maxDepth, skipAt, got, want)
			}
		}
	}
}

// checkEdge runs every differential check on data and on the prefixes
// that cut its last 12 bytes (the input ending inside the 8-byte window, a
// literal or an escape cut short).
func checkEdge(t *testing.T, data []byte) {
	t.Helper()
	for n := max(0, len(data)-12); n <= len(data); n++ {
		p := data[:n:n]     // no spare capacity: reads past the end would panic
		checkPrevious(t, p) // with checkValueWalk
		for _, md := range []int{1, 3, DefaultMaxDepth} {
			checkSkipFast(t, p, md)
		}
	}
}

// edgeInputs lists the classes the fast paths must handle exactly as the
// general scanner: each is also tried behind 0 to 9 bytes of padding, so
// that its interesting byte falls at every position of the 8-byte window.
func edgeInputs(t *testing.T) []string {
	var in []string
	// Escapes, surrogates and UTF-8, with the special byte at every
	// offset of the window.
	specials := []string{
		`\"`, `\\`, `\/`, `\b`, `\u0041`, `\u00e9`, `\u212a`, `\u017f`, `\u2028`,
		`\ud83d\ude00`, `\ud83d`, `\ude00`, `\ud83d\u0041`, `\ud83d\ud83d`, `\ud83d"`, `\u12`, `\x`, `\`,
		"\x7f", "\x80", "\xc0\x80", "\xc1\xbf", "\xc2\x80", "\xe0\x80\x80", "\xed\xa0\x80", "\xef\xbf\xbd",
		"\xf0\x80\x80\x80", "\xf4\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff", "\u2028",
		"\u212a", "\u017f", "\x00", "\x1f", "\t",
	}
	for _, sp := range specials {
		for pad := 0; pad <= 9; pad++ {
			p := strings.Repeat("a", pad)
			in = append(in,
				`"`+p+sp+`"`,
				`{"`+p+sp+`":1}`,
				`{"x":"`+p+sp+`","`+p+sp+`":[1]}`,
				`["`+p+sp+`",0]`,
			)
		}
	}
	// Numbers and literals, alone, as members and as elements.
	scalars := []string{
		`0`, `-0`, `-`, `01`, `-01`, `1.`, `1.5`, `.5`, `1e`, `1e+`, `1E-7`, `1e999999999999`, `-0.0e-0`,
		`123456789012345678901234567890`, `+1`, `0x1`, `1.e3`, `Infinity`, `NaN`,
		`true`, `tru`, `t`, `false`, `fals`, `null`, `nul`, `nulll`, `truefalse`,
	}
	for _, sc := range scalars {
		in = append(in, sc, `{"k":`+sc+`}`, `{"a":1,"k":`+sc+`,"z":2}`, `[`+sc+`]`, `[`+sc+`,`+sc+`]`)
	}
	// Whitespace everywhere, including before ',' and '}' (the member path
	// of pretty-printed JSON), and the non-whitespace control bytes.
	for _, ws := range []string{"", " ", "\t", "\r", "\n", " \r\n\t ", "\x0b", "\x0c", "\u00a0"} {
		in = append(in,
			`{`+ws+`"a"`+ws+`:`+ws+`1`+ws+`,`+ws+`"b"`+ws+`:`+ws+`[`+ws+`2`+ws+`,`+ws+`{}`+ws+`]`+ws+`}`,
			ws+`{"a":1`+ws+`}`+ws, `[`+ws+`]`, `{`+ws+`}`, `{"a":1,`+ws+`}`, `[1,`+ws+`]`,
		)
	}
	// Nesting around the limit: 1, 2 and 3 levels (the checks run with
	// MaxDepth 1, 2, 3 and the default), and 63 to 65 levels.
	for _, n := range []int{1, 2, 3, 4, 63, 64, 65} {
		in = append(in,
			strings.Repeat("[", n)+strings.Repeat("]", n),
			strings.Repeat(`{"a":`, n)+"1"+strings.Repeat("}", n),
			`{"a":`+strings.Repeat("[", n)+strings.Repeat("]", n)+`}`,
		)
	}
	// Keys of length 0, 1, 7, 8, 9, 15, 16 and 17, with the closing quote
	// at every offset of the window, duplicated and case-folded.
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17} {
		k := strings.Repeat("k", n)
		K := strings.Repeat("K", n)
		in = append(in,
			`{"`+k+`":1}`, `{"`+k+`":1,"`+k+`":2}`, `{"`+k+`":1,"`+K+`":2}`, `{"x":{"`+k+`":1},"`+k+`":2}`,
			`{"`+k+`":1,"`+strings.Repeat("\u212a", n)+`":2}`, `{"`+k+`":1, "`+k+`s":2}`,
		)
	}
	// The fold-bit clash bound: keys that share one bit without being
	// case variants, 4 and 5 clashes, then a real variant as the 4th, 5th
	// and 6th clash.
	group := sameBitKeys(t, 7)
	obj := func(keys ...string) string {
		var b strings.Builder
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, "%q:%d", k, i)
		}
		b.WriteString("}")
		return b.String()
	}
	for n := 2; n <= len(group); n++ {
		in = append(in, obj(group[:n]...))
		for _, v := range []string{group[0], strings.ToUpper(group[0]), strings.ToUpper(group[n-1])} {
			in = append(in, obj(append(group[:n:n], v)...))
		}
	}
	// Batches and envelopes.
	in = append(in,
		`[{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"q":"x"}}},{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"b","arguments":{"q":"y","Q":"z"}}}]`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"q":"x"}}} `,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","arguments":{"q":"x"}}}x`,
	)
	return in
}

// sameBitKeys returns n distinct ASCII keys, no two case variants, that
// share asciiFoldBit.
func sameBitKeys(t *testing.T, n int) []string {
	t.Helper()
	want := asciiFoldBit([]byte("key0"))
	keys := []string{"key0"}
	for i := 1; len(keys) < n && i < 100000; i++ {
		k := fmt.Sprintf("key%d", i)
		if asciiFoldBit([]byte(k)) == want {
			keys = append(keys, k)
		}
	}
	if len(keys) < n {
		t.Fatalf("found only %d keys sharing a fold bit", len(keys))
	}
	return keys
}

func TestFastPathEdges(t *testing.T) {
	t.Parallel()
	for _, s := range edgeInputs(t) {
		checkEdge(t, []byte(s))
		// The same text followed by enough bytes that every key is
		// read by the short member path and the fast skipper.
		padded := []byte(s + "        ")
		checkPrevious(t, padded)
		for _, md := range []int{1, 3, DefaultMaxDepth} {
			checkSkipFast(t, padded, md)
		}
	}
}

// TestFastClashCount pins the clash bound: an object of keys sharing one
// fold bit is skipped by the fast skipper up to maxFastClashes clashes and
// left to the general scanner after; a case variant is never accepted.
func TestFastClashCount(t *testing.T) {
	t.Parallel()
	group := sameBitKeys(t, maxFastClashes+2)
	pad := "        "
	for n := 1; n <= len(group); n++ {
		data := []byte(`{"` + strings.Join(group[:n], `":1,"`) + `":1}` + pad)
		end := skipFast(data, 0, 0, DefaultMaxDepth)
		if clashes := n - 1; clashes <= maxFastClashes && end != len(data)-len(pad) {
			t.Errorf("%d clashes: skipFast = %d, want %d", clashes, end, len(data)-len(pad))
		} else if clashes > maxFastClashes && end >= 0 {
			t.Errorf("%d clashes: skipFast = %d, want it to give up", clashes, end)
		}
		variant := []byte(`{"` + strings.Join(group[:n], `":1,"`) + `":1,"` + strings.ToUpper(group[n-1]) + `":2}` + pad)
		if end := skipFast(variant, 0, 0, DefaultMaxDepth); end >= 0 {
			t.Errorf("%s: skipFast accepted a case variant (end %d)", variant, end)
		}
		checkEdge(t, data)
		checkEdge(t, variant)
	}
}

// TestFastClashRemembered: fastObject settles a clash against the first
// fastKeys keys it remembers and, past them, by re-reading the object
// (fastClash). A duplicate or case variant of any earlier key, at any
// position on either side of that bound, is never accepted.
func TestFastClashRemembered(t *testing.T) {
	t.Parallel()
	pad := "        "
	for n := 1; n <= fastKeys+4; n++ {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = fmt.Sprintf("k%c%d", 'a'+i, i)
		}
		for j := range keys {
			for _, dup := range []string{keys[j], strings.ToUpper(keys[j])} {
				data := []byte(`{"` + strings.Join(keys, `":1,"`) + `":1,"` + dup + `":2}` + pad)
				if end := skipFast(data, 0, 0, DefaultMaxDepth); end >= 0 {
					t.Errorf("%s: skipFast accepted a repeated key (end %d)", data, end)
				}
				checkEdge(t, data)
			}
		}
		data := []byte(`{"` + strings.Join(keys, `":1,"`) + `":1}` + pad)
		checkEdge(t, data)
	}
}
