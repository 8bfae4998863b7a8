package jsonscan

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// strictByStdlib decides, with encoding/json alone, whether data satisfies
// the package rules: valid JSON and UTF-8, nesting at most DefaultMaxDepth,
// no two keys of one object equal under strings.EqualFold (Unicode simple
// folding, the rule Validate applies), and no escaped lone surrogate (which
// encoding/json silently turns into U+FFFD). decided is false when the
// input spells U+FFFD itself, so that a replacement cannot be told apart.
func strictByStdlib(data []byte) (strict, decided bool) {
	if !json.Valid(data) {
		return false, true
	}
	if !utf8.Valid(data) {
		return false, true
	}
	if bytes.Contains(data, []byte("\ufffd")) || strings.Contains(strings.ToLower(string(data)), `\ufffd`) {
		return false, false
	}
	type frame struct {
		obj  bool
		key  bool // the next string token is a key
		keys []string
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return true, true // io.EOF: the single value was read
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		value := func() { // a complete value was read inside top
			if top != nil && top.obj {
				top.key = true
			}
		}
		switch x := tok.(type) {
		case json.Delim:
			switch x {
			case '{', '[':
				if len(stack) >= DefaultMaxDepth {
					return false, true
				}
				stack = append(stack, &frame{obj: x == '{', key: x == '{'})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].obj {
					stack[len(stack)-1].key = true
				}
			}
			continue
		case string:
			if strings.ContainsRune(x, utf8.RuneError) {
				return false, true // a lone surrogate escape
			}
			if top != nil && top.obj && top.key {
				for _, k := range top.keys {
					if strings.EqualFold(k, x) {
						return false, true
					}
				}
				top.keys = append(top.keys, x)
				top.key = false
				continue
			}
		}
		value()
	}
}

// checkStdlibBothWays asserts that Validate accepts exactly the inputs
// strictByStdlib calls strict.
func checkStdlibBothWays(t *testing.T, data []byte) {
	t.Helper()
	strict, decided := strictByStdlib(data)
	err := Validate(data, Options{})
	switch {
	case !decided:
	case strict && err != nil:
		t.Fatalf("Validate refuses %q, which encoding/json reads strictly: %v", data, err)
	case !strict && err == nil:
		t.Fatalf("Validate accepts %q, which breaks a strict rule by encoding/json", data)
	}
}

func TestValidateAgainstStdlibBothWays(t *testing.T) {
	t.Parallel()
	in := append([]string(nil), fuzzSeeds...)
	in = append(in, `{"a":{"b":[1,{"c":"d"}]},"A2":2}`, `{"axb":1,"ayb":2}`, `{"axb":1,"AXB":2}`,
		`[{"x":1},{"x":2}]`, " [ ] ", `{"\u00e9":1,"\u00c9":2}`, `"\udbff\udfff"`, `"\ud800x"`,
		strings.Repeat("[", 64)+strings.Repeat("]", 64), strings.Repeat("[", 65)+strings.Repeat("]", 65))
	for _, s := range in {
		checkStdlibBothWays(t, []byte(s))
	}
}

// FuzzValidateStdlibBothWays is the differential against encoding/json's
// validity plus the strict rules, in both directions:
// go test -run XXX -fuzz FuzzValidateStdlibBothWays ./internal/jsonscan
func FuzzValidateStdlibBothWays(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkStdlibBothWays(t, data) })
}
