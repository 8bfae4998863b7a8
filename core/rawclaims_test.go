package core

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// refLookup is Claims.Lookup as it was on a fully decoded map: the oracle
// for the lazy lookup.
func refLookup(raw map[string]any, path string) (any, bool) {
	if raw == nil || path == "" {
		return nil, false
	}
	if v, ok := raw[path]; ok {
		return v, true
	}
	if strings.IndexByte(path, '.') < 0 && strings.IndexByte(path, '"') < 0 {
		return nil, false
	}
	var cur any = raw
	for rest := path; ; {
		seg, next, more, ok := nextSegment(rest)
		if !ok {
			return nil, false
		}
		m, isMap := cur.(map[string]any)
		if !isMap {
			return nil, false
		}
		if cur, ok = m[seg]; !ok {
			return nil, false
		}
		if !more {
			return cur, true
		}
		rest = next
	}
}

// refStrings is Claims.Strings as it was on a fully decoded map.
func refStrings(raw map[string]any, path string, split bool) []string {
	v, ok := refLookup(raw, path)
	if !ok {
		return nil
	}
	switch t := v.(type) {
	case string:
		if split {
			return strings.Fields(t)
		}
		if t == "" {
			return nil
		}
		return []string{t}
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// claimPaths lists a path to every member of every object nested in m,
// quoting segments that hold dots (members whose name holds a double quote
// cannot be addressed, as documented).
func claimPaths(m map[string]any, prefix string, out []string) []string {
	for k, v := range m {
		if strings.IndexByte(k, '"') >= 0 {
			continue
		}
		seg := k
		if strings.IndexByte(k, '.') >= 0 && k != "" {
			seg = `"` + k + `"`
		}
		p := seg
		if prefix != "" {
			p = prefix + "." + seg
		}
		out = append(out, p)
		if sub, ok := v.(map[string]any); ok {
			out = claimPaths(sub, p, out)
		}
	}
	return out
}

// checkRawClaims is the differential: ParseRawClaims accepts exactly what a
// full strict decode accepts, and every lookup (the given path and a path
// to every nested member) returns exactly what the decoded map gives.
func checkRawClaims(t *testing.T, data []byte, extra ...string) {
	t.Helper()
	// ParseRawClaimsText keeps its string instead of copying: same result.
	r, err := ParseRawClaims(data)
	rt, errt := ParseRawClaimsText(string(data))
	if (err == nil) != (errt == nil) || err != nil && err.Error() != errt.Error() {
		t.Fatalf("ParseRawClaims(%q) err = %v, ParseRawClaimsText err = %v", data, err, errt)
	}
	// Registered claims are found through an index, absent ones too.
	extra = append(extra, knownNames[:]...)
	checkRawClaimsOf(t, data, r, err, extra)
	checkRawClaimsOf(t, data, rt, errt, extra)
}

func checkRawClaimsOf(t *testing.T, data []byte, r RawClaims, err error, extra []string) {
	t.Helper()
	ref, refErr := jsonscan.DecodeObject(data, jsonscan.Options{})
	if (err == nil) != (refErr == nil) {
		t.Fatalf("ParseRawClaims(%q) err = %v, full decode err = %v", data, err, refErr)
	}
	if err != nil {
		if refErr != nil && !errors.Is(err, ErrNotObject) && err.Error() != refErr.Error() {
			t.Fatalf("ParseRawClaims(%q) err = %v, full decode err = %v", data, err, refErr)
		}
		return
	}
	if got := r.Map(); !reflect.DeepEqual(got, ref) {
		t.Fatalf("Map() = %#v, want %#v", got, ref)
	}
	if r.Len() != len(ref) {
		t.Fatalf("Len() = %d, want %d", r.Len(), len(ref))
	}
	names := r.Names()
	for _, n := range names {
		if _, ok := ref[n]; !ok {
			t.Fatalf("Names() has %q, not in %v", n, ref)
		}
	}
	for name, want := range ref {
		if got, ok := r.Get(name); !ok || !reflect.DeepEqual(got, want) || !r.Has(name) || !slices.Contains(names, name) {
			t.Fatalf("Get(%q) = %#v, %v; want %#v", name, got, ok, want)
		}
		ws, wantStr := want.(string)
		if s, ok := r.GetString(name); ok != wantStr || s != ws {
			t.Fatalf("GetString(%q) = %q, %v; want %#v", name, s, ok, want)
		}
		wn, wantNum := want.(json.Number)
		if n, ok := r.GetNumber(name); ok != wantNum || n != wn {
			t.Fatalf("GetNumber(%q) = %q, %v; want %#v", name, n, ok, want)
		}
	}
	for _, p := range extra {
		if _, ok := ref[p]; !ok {
			if _, ok := r.GetString(p); ok {
				t.Fatalf("GetString(%q) found a missing claim", p)
			}
			if _, ok := r.GetNumber(p); ok {
				t.Fatalf("GetNumber(%q) found a missing claim", p)
			}
		}
	}
	c := &Claims{Raw: r}
	for _, p := range append(claimPaths(ref, "", nil), extra...) {
		got, ok := c.Lookup(p)
		want, wantOK := refLookup(ref, p)
		if ok != wantOK || !reflect.DeepEqual(got, want) {
			t.Fatalf("Lookup(%q) = %#v, %v; want %#v, %v (claims %s)", p, got, ok, want, wantOK, data)
		}
		for _, split := range []bool{false, true} {
			if got, want := c.Strings(p, split), refStrings(ref, p, split); !reflect.DeepEqual(got, want) {
				t.Fatalf("Strings(%q, %v) = %#v, want %#v", p, split, got, want)
			}
		}
		s, ok := c.String(p)
		ws, wantOK := want.(string)
		if ok != wantOK || s != ws {
			t.Fatalf("String(%q) = %q, %v; want %q, %v", p, s, ok, ws, wantOK)
		}
	}
}

var rawClaimsSeeds = []string{
	`{}`,
	` {"iss":"https://as.example.com","sub":"alice","aud":["r1","r2"],"exp":1767229200,"iat":1.5e9,"scope":"a b  c"} `,
	`{"groups":["eng","ops",3,"",null,"t\u00e9am","a\"b"],"roles":"admin","n":-0.5e-3,"t":true,"f":false,"z":null}`,
	`{"realm_access":{"roles":["r1"]},"resource_access":{"my.client":{"roles":["c1"]}},"a.b":"top","a":{"b":"nested","":"empty"}}`,
	`{"k\u0065y":"escaped key","\u00e9":"é","\"q":"quote key","x\\y":{"a\u002eb":{"c":1}}}`,
	`{"https://corp.example/claims":{"teams":["red","blue"],"org.unit":"eng"},"deep":{"a":{"b":{"c":{"d":[{"e":1}]}}}}}`,
	`{"dup":1,"dup":2}`,
	`{"Sub":"a","sub":"b"}`,
	`{"a":{"x":1,"X":2}}`,
	`{"a":1} x`,
	`{"a":1}{}`,
	`["not","an","object"]`,
	`"string"`,
	`{"a":"\ud800"}`,
	"{\"a\":\"\xff\"}",
	`{"a":[1,2,}`,
	`{"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9,"k10":10,"k11":11,"k12":12,"k13":13,"k14":14,"k15":15,"k16":16,"k17":{"k18":"x"}}`,
	"{ \"a\" : 1 ,\n\t\"b\" :[ 1 , \"x\" ] \r, \"c\":\"x\" ,\"\":{ \"\" : true } , \"d\\u0020\": \"e\\n\" , \"f\" : -1.5E+2 }  ",
	`{"x":{"y":"z"},"k\u0031":[],"":null}`,
	`{"iss":"i","sub":"s","aud":"a","exp":1,"nbf":2,"iat":3,"jti":"j","scope":"x y","scp":["x"],"client_id":"c","azp":"z","nonce":"n","at_hash":"h","cnf":{"jkt":"t"},"tid":"t","typ":"at+jwt","other":1}`,
	`{"n\u006fnce":"escaped","c\u006ef":{},"EXP":1,"Aud":"x","sub ":"y"}`,
	manyMembers(),
	``,
}

// manyMembers has registered claims before and after member 254, where
// the index stops and a scan finds them.
func manyMembers() string {
	var b strings.Builder
	b.WriteString(`{"iss":"i","sub":"s"`)
	for i := range 300 {
		fmt.Fprintf(&b, `,"c%d":%d`, i, i)
		if i == 260 {
			b.WriteString(`,"exp":1,"cnf":null,"aud":["a"]`)
		}
	}
	b.WriteString(`,"scope":"x"}`)
	return b.String()
}

func TestRawClaimsDifferential(t *testing.T) {
	t.Parallel()
	paths := []string{"", "a.b", `"a".b`, `"a.b"`, "a..b", "a.", `"`, `""`, "missing", "groups.0", "x\\y", `"x\y"."a.b".c`, `"x\y".a.b.c`,
		`deep.a.b.c.d`, `"https://corp.example/claims"."org.unit"`, "resource_access.my.client.roles", `resource_access."my.client".roles`}
	for _, s := range rawClaimsSeeds {
		checkRawClaims(t, []byte(s), paths...)
	}
}

func FuzzRawClaims(f *testing.F) {
	for _, s := range rawClaimsSeeds {
		f.Add([]byte(s), "a.b")
	}
	f.Fuzz(func(t *testing.T, data []byte, path string) {
		checkRawClaims(t, data, path)
	})
}

func TestRawClaimsZeroAndCopies(t *testing.T) {
	t.Parallel()
	var z RawClaims
	if _, ok := z.Get("a"); ok || z.Has("a") || z.Len() != 0 || z.Names() != nil || z.Map() != nil || z.JSON() != nil || z.Size() != 0 {
		t.Fatal("zero RawClaims is not empty")
	}
	if _, ok := z.Lookup("a.b"); ok {
		t.Fatal("zero RawClaims resolved a path")
	}
	var c *Claims
	if _, ok := c.Lookup("a"); ok || c.Strings("a", false) != nil {
		t.Fatal("nil Claims resolved a claim")
	}
	if err := (&Claims{}).Decode(&struct{}{}); err != nil {
		t.Fatal(err)
	}
	in := []byte(`{"a":"x","g":["1"]}`)
	r, err := ParseRawClaims(in)
	if err != nil {
		t.Fatal(err)
	}
	in[2] = 'b' // the caller's buffer is copied
	out := r.JSON()
	out[2] = 'c' // and so is the one handed out
	if !r.Has("a") || string(r.JSON()) != `{"a":"x","g":["1"]}` {
		t.Fatalf("RawClaims changed with a caller's buffer: %s", r.JSON())
	}
	g, _ := r.Get("g")
	g.([]any)[0] = "mutated" // each Get decodes anew
	if g2, _ := r.Get("g"); g2.([]any)[0] != "1" {
		t.Fatal("a decoded value is shared between calls")
	}
	var typed struct {
		A string `json:"a"`
	}
	if err := (&Claims{Raw: r}).Decode(&typed); err != nil || typed.A != "x" {
		t.Fatalf("Decode = %+v, %v", typed, err)
	}
	if _, err := ParseRawClaims([]byte(`[1]`)); !errors.Is(err, ErrNotObject) {
		t.Fatalf("array: %v", err)
	}
	if _, err := RawClaimsFromMap(map[string]any{"f": func() {}}); err == nil {
		t.Fatal("RawClaimsFromMap encoded a func")
	}
	if r, err := RawClaimsFromMap(nil); err != nil || r.Len() != 0 || string(r.JSON()) != "{}" {
		t.Fatalf("RawClaimsFromMap(nil) = %s, %v", r.JSON(), err)
	}
}

// TestRawClaimsSizeFixed pins the memory bound: a RawClaims holds its JSON
// text and a 12-byte entry per member, and lookups (which decode anew each
// time) leave its size unchanged.
func TestRawClaimsSizeFixed(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(`{"groups":[`)
	for i := range 200 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"team-0000-readers"`)
	}
	b.WriteString(`],"sub":"alice","o":{"p":{"q":1}}`)
	for i := range 40 {
		b.WriteString(`,"c` + strings.Repeat("x", i) + `":1`)
	}
	b.WriteString(`}`)
	r, err := ParseRawClaims([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	size := r.Size()
	if min, max := b.Len(), b.Len()+rawSetBytes+42*memberBytes*2; size < min || size > max {
		t.Fatalf("Size() = %d, want %d..%d", size, min, max)
	}
	for range 100 {
		r.Get("groups")
		r.Lookup("o.p.q")
		(&Claims{Raw: r}).Strings("groups", false)
	}
	if r.Size() != size {
		t.Fatalf("Size() grew from %d to %d with lookups", size, r.Size())
	}
}

// TestRawClaimsJSONNumbers pins numbers as json.Number (never float64), as
// the strict decoder produces them, so that large integers survive.
func TestRawClaimsJSONNumbers(t *testing.T) {
	t.Parallel()
	r, err := ParseRawClaims([]byte(`{"n":9007199254740993,"a":[1e400]}`))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := r.Get("n"); n != json.Number("9007199254740993") {
		t.Fatalf("n = %#v", n)
	}
	if a, _ := r.Get("a"); !reflect.DeepEqual(a, []any{json.Number("1e400")}) {
		t.Fatalf("a = %#v", a)
	}
}
