package core

import (
	"encoding/json"
	"testing"
)

func TestLookupQuotedPaths(t *testing.T) {
	raw, err := ParseRawClaims([]byte(`{
		"https://corp.example/claims": {"teams": ["red", "blue"], "org.unit": "eng"},
		"https://corp.example/roles": ["admin"],
		"realm_access": {"roles": ["r1"]},
		"resource_access": {"my.client": {"roles": ["c1"]}},
		"a.b": "top-level with a dot",
		"a": {"b": "nested"}
	}`))
	if err != nil {
		t.Fatal(err)
	}
	c := &Claims{Raw: raw}
	for _, tc := range []struct {
		path string
		want string // JSON of the value, "" = absent
	}{
		{`"https://corp.example/claims".teams`, `["red","blue"]`},
		{`"https://corp.example/claims"."org.unit"`, `"eng"`},
		{`"https://corp.example/roles"`, `["admin"]`},
		{`https://corp.example/roles`, `["admin"]`}, // exact top-level name
		{`realm_access.roles`, `["r1"]`},
		{`resource_access."my.client".roles`, `["c1"]`},
		{`resource_access.my.client.roles`, ``},
		{`a.b`, `"top-level with a dot"`}, // top-level wins
		{`"a".b`, `"nested"`},
		{`"a.b"`, `"top-level with a dot"`},
		{`"https://corp.example/claims.teams`, ``}, // unterminated
		{`"https://corp.example/claims"teams`, ``}, // text after quote
		{`"https://corp.example/claims".`, ``},
		{`""`, ``},
		{`realm_access..roles`, ``},
		{`realm_access.roles.`, ``},
		{`missing."x"`, ``},
	} {
		v, ok := c.Lookup(tc.path)
		got := ""
		if ok {
			b, _ := json.Marshal(v)
			got = string(b)
		}
		if got != tc.want {
			t.Errorf("Lookup(%s) = %s, want %s", tc.path, got, tc.want)
		}
	}
}

func TestValidateClaimPath(t *testing.T) {
	for path, ok := range map[string]bool{
		`sub`: true, `realm_access.roles`: true, `https://x.example/roles`: true,
		`"https://x.example/claims".teams`: true, `a."b.c".d`: true, `"a"`: true,
		``: false, `"a`: false, `"a"b`: false, `"a".`: false, `a."b`: false, `""`: false, `a.""`: false,
	} {
		if err := ValidateClaimPath(path); (err == nil) != ok {
			t.Errorf("ValidateClaimPath(%q) = %v, want ok=%v", path, err, ok)
		}
	}
}

func FuzzLookupPath(f *testing.F) {
	for _, s := range []string{`a.b`, `"a.b".c`, `"`, `..`, `"a"."b"`, `a."`, `x`} {
		f.Add(s)
	}
	c := &Claims{Raw: rawOf(map[string]any{"a": map[string]any{"b": "x", "a.b": map[string]any{"c": "y"}}, "a.b": map[string]any{"c": 1}})}
	f.Fuzz(func(t *testing.T, path string) {
		v, ok := c.Lookup(path)
		if ok && v == nil {
			t.Fatalf("Lookup(%q) found nil", path)
		}
		if ValidateClaimPath(path) != nil && ok && !c.Raw.Has(path) {
			t.Fatalf("invalid path %q resolved", path)
		}
	})
}
