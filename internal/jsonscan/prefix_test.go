package jsonscan

import (
	"strings"
	"testing"
)

// TestFastPathsEveryPrefix checks the fast skipper and the quick helpers
// against the general scanner on every prefix of member-rich objects, so
// that each word-at-a-time loop meets the end of the input at every
// alignment: a plain string, an integer, true or false cut anywhere, or
// ending exactly at the last byte.
func TestFastPathsEveryPrefix(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 17)
	bodies := []string{
		`{"a":"` + long + `","b":12345678901234567890,"c":true,"d":false,"e":null,"f":"é","g":"\u00e9"}`,
		`{"jsonrpc":"2.0","id":123,"method":"tools/call","params":{"name":"` + long + `","arguments":{"k":"v","n":7,"t":true,"f":false}}}`,
		`{"a":1,"b":"","c":"x","d":"xxxxxxx","e":"xxxxxxxx","f":"xxxxxxxxx","g":true}`,
		`{"a":"a\"b","b":"xxxxxxxxxxxxxx\\","c":9}`,
		`{"a":truefalse,"b":1}`, `{"a":falsetrue}`, `{"a":1true}`, `{"a":"xxxxxxxxxxxxxxxx"x}`,
		"{\"a\":\"xxxxxxx\x01\",\"b\":1}", "{\"a\":\"xxxxxxxxxxx\xff\"}",
		`{"a":{"b":{"c":{"d":"` + long + `"}}}}`,
		`{"a":1,}`, `{"a":1}}`, `{"a":true}`, `{"a":false ,"b":true }`, `{"a":0,"b":-0,"c":01}`,
		`{"a":123456789012345678901234567890,"b":9e9}`, `{"a":"xxxxxxxx","A":"x"}`, `{"a":[true,false,1,"x"]}`,
	}
	// Every literal with one byte replaced, as a member value and an
	// element, so that a literal compared on fewer bytes than it has is
	// caught.
	for _, lit := range []string{"true", "false", "null", "12"} {
		for p := 0; p < len(lit); p++ {
			for _, c := range []byte{'x', 'E', 'T', ' ', '}', ',', '"', 0} {
				m := lit[:p] + string(c) + lit[p+1:]
				bodies = append(bodies, `{"a":`+m+`}`, `{"a":`+m+`,"b":1}`, `[`+m+`]`)
			}
		}
	}
	for _, s := range bodies {
		for n := 1; n <= len(s); n++ {
			for _, max := range []int{1, 2, 3, 4, DefaultMaxDepth} {
				checkSkipFast(t, []byte(s[:n]), max)
				checkQuick(t, []byte(s[:n]), max)
			}
		}
	}
}
