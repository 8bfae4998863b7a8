package jsonscan

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	many := func(n int, extra string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(`"k` + strings.Repeat("x", i) + `":1`)
		}
		b.WriteString(extra + "}")
		return b.String()
	}
	tests := []struct {
		name string
		in   string
		want error // nil = valid
	}{
		{"object", `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, nil},
		{"scalars", `-0.5e+10`, nil},
		{"string", `"\u00e9\n\/\\\""`, nil},
		{"surrounding ws", " \t\r\n{} \n", nil},
		{"surrogate pair", `{"\ud83d\ude00":1}`, nil},
		{"utf8 key", `{"é":1,"É̈":2}`, nil},
		{"empty key", `{"":1}`, nil},
		{"same key in different objects", `{"a":{"a":1},"b":{"a":2}}`, nil},
		{"array of objects same keys", `[{"a":1},{"a":2}]`, nil},
		{"many distinct keys", many(40, ""), nil},
		{"k and kelvin-free", `{"k":1,"kk":2}`, nil},

		{"duplicate", `{"a":1,"a":2}`, ErrDuplicateKey},
		{"duplicate escaped", `{"method":1,"\u006dethod":2}`, ErrDuplicateKey},
		{"duplicate escaped slash", `{"a/b":1,"a\/b":2}`, ErrDuplicateKey},
		{"duplicate nested", `{"a":{"x":1,"y":{"z":1,"z":2}}}`, ErrDuplicateKey},
		{"duplicate in array", `[1,{"a":1,"a":1}]`, ErrDuplicateKey},
		{"duplicate many keys", many(40, `,"k":2`), ErrDuplicateKey},
		{"case variant", `{"method":1,"Method":2}`, ErrCaseVariant},
		{"case variant escaped", `{"name":1,"\u004eAME":2}`, ErrCaseVariant},
		{"kelvin sign", `{"k":1,"\u212a":2}`, ErrCaseVariant},
		{"kelvin sign raw", "{\"K\":1,\"\u212a\":2}", ErrCaseVariant},
		{"long s", `{"params":1,"param\u017f":2}`, ErrCaseVariant},
		{"non-ascii case", `{"é":1,"É":2}`, ErrCaseVariant},
		{"case variant many keys", many(40, `,"KXX":2`), ErrCaseVariant},
		{"trailing object", `{}{}`, ErrTrailingData},
		{"trailing NUL", "{}\x00", ErrTrailingData},
		{"trailing garbage", `{"a":1}garbage`, ErrTrailingData},
		{"trailing comma value", `1,2`, ErrTrailingData},
		{"invalid utf8", "{\"a\":\"\xff\"}", ErrInvalidUTF8},
		{"invalid utf8 key", "{\"\xc3\":1}", ErrInvalidUTF8},
		{"overlong utf8", "\"\xc0\xaf\"", ErrInvalidUTF8},
		{"utf8 surrogate", "\"\xed\xa0\x80\"", ErrInvalidUTF8},
		{"lone high surrogate", `"\ud800"`, ErrInvalidUTF8},
		{"lone low surrogate", `"\udc00"`, ErrInvalidUTF8},
		{"high then non-low", `"\ud800\u0041"`, ErrInvalidUTF8},
		{"high then high", `"\ud800\ud800"`, ErrInvalidUTF8},
		{"lone surrogate key", `{"\ud800":1}`, ErrInvalidUTF8},
		{"empty", ``, ErrSyntax},
		{"ws only", "  ", ErrSyntax},
		{"BOM", "\xEF\xBB\xBF{}", ErrSyntax},
		{"control char", "\"a\tb\"", ErrSyntax},
		{"bad escape", `"\x"`, ErrSyntax},
		{"short unicode escape", `"\u12"`, ErrSyntax},
		{"leading zero", `01`, ErrTrailingData},
		{"plus number", `+1`, ErrSyntax},
		{"dot number", `1.`, ErrSyntax},
		{"exp number", `1e`, ErrSyntax},
		{"NaN", `NaN`, ErrSyntax},
		{"single quotes", `{'a':1}`, ErrSyntax},
		{"trailing comma", `{"a":1,}`, ErrSyntax},
		{"array trailing comma", `[1,]`, ErrSyntax},
		{"unterminated", `{"a":1`, ErrSyntax},
		{"unterminated string", `"abc`, ErrSyntax},
		{"missing colon", `{"a" 1}`, ErrSyntax},
		{"non-string key", `{1:1}`, ErrSyntax},
		{"true typo", `tru`, ErrSyntax},
		{"too deep", strings.Repeat("[", 65) + strings.Repeat("]", 65), ErrTooDeep},
		{"too deep objects", strings.Repeat(`{"a":`, 65) + "1" + strings.Repeat("}", 65), ErrTooDeep},
		{"very deep", strings.Repeat("[", 100000), ErrTooDeep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := Validate([]byte(tt.in), Options{})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate(%q) = %v, want nil", tt.in, err)
				}
				if !json.Valid([]byte(tt.in)) {
					t.Fatalf("encoding/json rejects %q", tt.in)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate(%q) = %v, want %v", tt.in, err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Offset < 0 || e.Offset > len(tt.in) {
				t.Fatalf("bad *Error %#v", err)
			}
		})
	}
}

func TestMaxDepth(t *testing.T) {
	t.Parallel()
	in := []byte(strings.Repeat("[", 3) + strings.Repeat("]", 3))
	if err := Validate(in, Options{MaxDepth: 3}); err != nil {
		t.Errorf("depth 3 with max 3: %v", err)
	}
	if err := Validate(in, Options{MaxDepth: 2}); !errors.Is(err, ErrTooDeep) {
		t.Errorf("depth 3 with max 2: %v", err)
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	err := Validate([]byte(`{"a":1,"A":2}`), Options{})
	if got := err.Error(); !strings.Contains(got, `"A"`) || !strings.Contains(got, "offset 7") {
		t.Errorf("Error() = %q", got)
	}
	err = Validate([]byte(`{}x`), Options{})
	if got := err.Error(); got != "jsonscan: trailing data after JSON value at offset 2" {
		t.Errorf("Error() = %q", got)
	}
}

// TestValidateAllocs checks that common inputs are validated without heap
// allocation (escaped keys use one small buffer).
func TestValidateAllocs(t *testing.T) {
	in := []byte(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":[1,2,{"b":null}]}}}`)
	if n := testing.AllocsPerRun(100, func() { _ = Validate(in, Options{}) }); n != 0 {
		t.Errorf("allocs = %v, want 0", n)
	}
}

// checkAgainstStdlib asserts the package contract against encoding/json:
// whatever Validate accepts, encoding/json accepts, and decoding it into
// generic values loses no key (no duplicate or case-folded collision).
func checkAgainstStdlib(t *testing.T, data []byte) {
	err := Validate(data, Options{})
	if err != nil {
		var e *Error
		if !errors.As(err, &e) || e.Offset < 0 || e.Offset > len(data) {
			t.Fatalf("bad error %#v", err)
		}
		return
	}
	if !json.Valid(data) {
		t.Fatalf("jsonscan accepts but encoding/json rejects %q", data)
	}
	if !utf8.Valid(data) {
		t.Fatalf("jsonscan accepts invalid UTF-8 %q", data)
	}
	// Numbers out of float64 range are syntax-valid; decode with UseNumber.
	var v any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("encoding/json decode(%q): %v", data, err)
	}
	dec = json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	checkKeys(t, dec, data)
}

// checkKeys walks the token stream and verifies that no object has two keys
// equal under strings.EqualFold (encoding/json's matching) and that no string
// contains U+FFFD unless the input spelled it (no silent replacement).
func checkKeys(t *testing.T, dec *json.Decoder, data []byte) {
	type frame struct {
		obj  bool
		keys []string
		key  bool // next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch x := tok.(type) {
		case json.Delim:
			switch x {
			case '{':
				if top != nil && top.obj {
					top.key = true
				}
				stack = append(stack, &frame{obj: true, key: true})
			case '[':
				if top != nil && top.obj {
					top.key = true
				}
				stack = append(stack, &frame{})
			default:
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if strings.ContainsRune(x, utf8.RuneError) && !strings.Contains(string(data), "\ufffd") && !strings.Contains(strings.ToLower(string(data)), `\ufffd`) {
				t.Fatalf("decoded string has U+FFFD not present in input %q", data)
			}
			if top != nil && top.obj && top.key {
				for _, k := range top.keys {
					if strings.EqualFold(k, x) {
						t.Fatalf("keys %q and %q collide in encoding/json, input %q", k, x, data)
					}
				}
				top.keys = append(top.keys, x)
				top.key = false
				continue
			}
		}
		if top != nil && top.obj {
			top.key = true
		}
	}
}

var fuzzSeeds = []string{
	`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"ls"}}`,
	`{"method":"a","Method":"b"}`,
	`{"k":1,"\u212a":2}`,
	`{"s":1,"\u017f":2}`,
	`{"a":1}{"a":1}`,
	"{\"a\":1}\x00",
	`"\ud800"`,
	`"\ud83d\ude00"`,
	`[1,2,{"x":[{"y":"z"}]}]`,
	`{"a":"\u0000"}`,
	"\"\xed\xa0\x80\"",
	`-0.0e-0`,
	`{"é":1,"É":2}`,
}

func FuzzValidate(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkAgainstStdlib(t, data)
	})
}

func TestSeedsAgainstStdlib(t *testing.T) {
	t.Parallel()
	for _, s := range fuzzSeeds {
		checkAgainstStdlib(t, []byte(s))
	}
}

func BenchmarkValidate(b *testing.B) {
	in := []byte(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"search_issues","arguments":{"query":"label:bug state:open","repository":"mcpauthz/mcpauthz","limit":25,"include_closed":false},"_meta":{"progressToken":"c4f1a2b3-5d6e-4f70-8a9b-0c1d2e3f4a5b"}}}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if err := Validate(in, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
