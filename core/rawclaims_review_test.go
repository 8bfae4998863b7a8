package core

import (
	"reflect"
	"strings"
	"testing"
)

// TestRawClaimsAdversarial runs hostile claim sets through the lazy reader
// and the strict full decode (checkRawClaims) and pins the values policy
// sees for the tricky ones.
func TestRawClaimsAdversarial(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200)
	tests := []struct {
		name string
		json string
		ok   bool
		path string // checked against want when set
		want any
		strs []string // Strings(path, false) when non-nil
	}{
		{"escaped key", `{"gro\u0075ps":["a"]}`, true, "groups", nil, []string{"a"}},
		{"escaped key duplicate", `{"groups":["a"],"gro\u0075ps":["b"]}`, false, "", nil, nil},
		{"escaped case variant", `{"groups":["a"],"\u0047roups":["b"]}`, false, "", nil, nil},
		{"case variant", `{"Groups":["b"],"groups":["a"]}`, false, "", nil, nil},
		{"nested case variant", `{"realm_access":{"roles":["a"],"Roles":["b"]}}`, false, "", nil, nil},
		{"nested escaped duplicate", `{"realm_access":{"roles":["a"],"rol\u0065s":["b"]}}`, false, "", nil, nil},
		{"deep nested duplicate", `{"a":{"b":{"c":1,"c":2}}}`, false, "", nil, nil},
		{"nested in array duplicate", `{"a":[{"x":1,"x":2}]}`, false, "", nil, nil},
		{"nested escaped key read", `{"realm_access":{"rol\u0065s":["a","b"]}}`, true, "realm_access.roles", nil, []string{"a", "b"}},
		{"surrogate pair key", `{"\ud83d\ude00":"smile"}`, true, "\U0001F600", "smile", nil},
		{"lone surrogate", `{"a":"\ud800"}`, false, "", nil, nil},
		{"invalid utf8 value", "{\"a\":\"\xff\"}", false, "", nil, nil},
		{"invalid utf8 key", "{\"\xc3\":1}", false, "", nil, nil},
		{"slash escape key", `{"https:\/\/corp.example\/roles":["r"]}`, true, "https://corp.example/roles", nil, []string{"r"}},
		{"quoted path escaped", `{"https:\/\/corp.example":{"te\u0061ms":["t"]}}`, true, `"https://corp.example".teams`, nil, []string{"t"}},
		{"dotted top-level wins", `{"a.b":"top","a":{"b":"nested"}}`, true, "a.b", "top", nil},
		{"spaces everywhere", " {\n \"a\" :\t[ \"x\" , 1 , \"y\" ] ,\r \"b\" : \"z\" \n} \n", true, "a", nil, []string{"x", "y"}},
		{"spaces then escaped key", `{"a" : "v" , "\u0062" : [ "w" ] }`, true, "a", "v", nil},
		{"escaped key value", `{"a" : "v" , "\u0062" : [ "w" ] }`, true, "b", nil, []string{"w"}},
		{"empty key", `{"":"e","a":1}`, true, "", nil, nil},
		{"mixed array", `{"groups":["a",{"x":"y"},["b"],null,"c",1]}`, true, "groups", nil, []string{"a", "c"}},
		{"escaped array elems", `{"groups":["\u0061dmin","b\"c"]}`, true, "groups", nil, []string{"admin", `b"c`}},
		{"huge number", `{"n":1e400}`, true, "n", nil, nil},
		{"minus zero", `{"n":-0}`, true, "n", nil, nil},
		{"big int", `{"n":123456789012345678901234567890}`, true, "n", nil, nil},
		{"deep", deep, false, "a.a.a", nil, nil},
		{"trailing data", `{"a":1}{"b":2}`, false, "", nil, nil},
		{"trailing comma", `{"a":1,}`, false, "", nil, nil},
		{"array top", `["a"]`, false, "", nil, nil},
		{"null top", `null`, false, "", nil, nil},
		{"BOM", "\xef\xbb\xbf{\"a\":1}", false, "", nil, nil},
		{"case lookup misses", `{"groups":["a"],"realm_access":{"roles":["r"]}}`, true, "Groups", nil, nil},
		{"nested case lookup misses", `{"realm_access":{"roles":["r"]}}`, true, "realm_access.Roles", nil, nil},
		{"nul escape key", `{"a\u0000":1,"a":2}`, true, "a", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkRawClaims(t, []byte(tc.json), tc.path, "a.b", "groups")
			r, err := ParseRawClaims([]byte(tc.json))
			if (err == nil) != tc.ok {
				t.Fatalf("ParseRawClaims err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil || tc.path == "" {
				return
			}
			c := &Claims{Raw: r}
			if tc.want != nil {
				if got, ok := c.Lookup(tc.path); !ok || !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("Lookup(%q) = %#v, %v; want %#v", tc.path, got, ok, tc.want)
				}
			}
			if tc.strs != nil {
				if got := c.Strings(tc.path, false); !reflect.DeepEqual(got, tc.strs) {
					t.Fatalf("Strings(%q) = %#v, want %#v", tc.path, got, tc.strs)
				}
			}
		})
	}
}
