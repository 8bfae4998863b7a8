package inspect

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func testDecls(t testing.TB) *ArgDecls {
	t.Helper()
	d, err := NewArgDecls([]ToolArgs{
		{Tool: "deploy*", Args: []ArgSpec{
			{Name: "environment", Type: ArgString, MaxBytes: 16},
			{Name: "service", Type: ArgString, Default: "web"},
			{Name: "replicas", Type: ArgNumber, Default: 1},
			{Name: "dry_run", Type: ArgBool, Default: false},
			{Name: "tags", Type: ArgStringList, MaxItems: 3, MaxBytes: 8, Default: []string{}},
			{Name: "region", Path: []string{"target", "region"}, Type: ArgString, Default: "eu"},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func callBody(tool, args string) string {
	b := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `"`
	if args != "" {
		b += `,"arguments":` + args
	}
	return b + `}}`
}

func TestInspectArgs(t *testing.T) {
	opts := Options{Args: testDecls(t)}
	def := map[string]any{"service": "web", "replicas": 1.0, "dry_run": false, "tags": []string{}, "region": "eu"}
	with := func(kv ...any) map[string]any {
		m := map[string]any{}
		for k, v := range def {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		body    string
		want    map[string]any
		missing []string
		code    int // JSON-RPC error code when refused
	}{
		{"plain", callBody("deploy", `{"environment":"prod"}`), with("environment", "prod"), nil, 0},
		{"escaped value", callBody("deploy", `{"environment":"pr\u006fd"}`), with("environment", "prod"), nil, 0},
		{"escaped key", callBody("deploy", `{"env\u0069ronment":"prod"}`), with("environment", "prod"), nil, 0},
		{"all typed", callBody("deploy", `{"environment":"s","service":"api","replicas":3e0,"dry_run":true,"tags":["a","b"],"target":{"region":"us"}}`),
			map[string]any{"environment": "s", "service": "api", "replicas": 3.0, "dry_run": true, "tags": []string{"a", "b"}, "region": "us"}, nil, 0},
		{"undeclared ignored", callBody("deploy", `{"environment":"x","secret":"zzz"}`), with("environment", "x"), nil, 0},
		{"missing no default", callBody("deploy", `{}`), def, []string{"environment"}, 0},
		{"no arguments", callBody("deploy", ``), def, []string{"environment"}, 0},
		{"null arguments", callBody("deploy", `null`), def, []string{"environment"}, 0},
		{"undeclared tool", callBody("echo", `{"environment":1}`), nil, nil, 0},
		{"duplicate key", callBody("deploy", `{"environment":"staging","environment":"prod"}`), nil, nil, CodeParseError},
		{"escaped duplicate", callBody("deploy", `{"environment":"staging","\u0065nvironment":"prod"}`), nil, nil, CodeParseError},
		{"case variant", callBody("deploy", `{"environment":"staging","Environment":"prod"}`), nil, nil, CodeParseError},
		{"lone case variant", callBody("deploy", `{"Environment":"prod"}`), nil, nil, CodeInvalidParams},
		{"kelvin variant", callBody("deploy", `{"environment":"s","target":{"REGION":"us"}}`), nil, nil, CodeInvalidParams},
		{"nested duplicate", callBody("deploy", `{"environment":"s","target":{"region":"eu","region":"us"}}`), nil, nil, CodeParseError},
		{"params case variant", `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"deploy","Arguments":{"environment":"prod"}}}`, nil, nil, CodeInvalidParams},
		{"mistyped string", callBody("deploy", `{"environment":1}`), nil, nil, CodeInvalidParams},
		{"null value", callBody("deploy", `{"environment":null}`), nil, nil, CodeInvalidParams},
		{"mistyped number", callBody("deploy", `{"environment":"s","replicas":"3"}`), nil, nil, CodeInvalidParams},
		{"inexact integer", callBody("deploy", `{"environment":"s","replicas":9007199254740993}`), nil, nil, CodeInvalidParams},
		{"exact large integer", callBody("deploy", `{"environment":"s","replicas":-9007199254740992}`), with("environment", "s", "replicas", -9007199254740992.0), nil, 0},
		{"huge number", callBody("deploy", `{"environment":"s","replicas":1e999}`), nil, nil, CodeInvalidParams},
		{"huge number 1e400", callBody("deploy", `{"environment":"s","replicas":1e400}`), nil, nil, CodeInvalidParams},
		{"inexact integer with fraction", callBody("deploy", `{"environment":"s","replicas":9007199254740993.0}`), nil, nil, CodeInvalidParams},
		{"inexact integer with exponent", callBody("deploy", `{"environment":"s","replicas":9007199254740993e0}`), nil, nil, CodeInvalidParams},
		{"inexact integer scaled", callBody("deploy", `{"environment":"s","replicas":90071992547409930E-1}`), nil, nil, CodeInvalidParams},
		{"inexact 1e23", callBody("deploy", `{"environment":"s","replicas":-1e23}`), nil, nil, CodeInvalidParams},
		{"underflow to zero", callBody("deploy", `{"environment":"s","replicas":1e-400}`), nil, nil, CodeInvalidParams},
		{"exact 1e20", callBody("deploy", `{"environment":"s","replicas":1e20}`), with("environment", "s", "replicas", 1e20), nil, 0},
		{"zero with exponent", callBody("deploy", `{"environment":"s","replicas":0.0e-400}`), with("environment", "s", "replicas", 0.0), nil, 0},
		{"fraction", callBody("deploy", `{"environment":"s","replicas":0.1}`), with("environment", "s", "replicas", 0.1), nil, 0},
		{"large non-integer", callBody("deploy", `{"environment":"s","replicas":9007199254740992.5}`), with("environment", "s", "replicas", 9007199254740992.0), nil, 0},
		{"mistyped bool", callBody("deploy", `{"environment":"s","dry_run":1}`), nil, nil, CodeInvalidParams},
		{"mistyped list", callBody("deploy", `{"environment":"s","tags":["a",1]}`), nil, nil, CodeInvalidParams},
		{"parent not object", callBody("deploy", `{"environment":"s","target":"x"}`), nil, nil, CodeInvalidParams},
		{"arguments not object", callBody("deploy", `["prod"]`), nil, nil, CodeInvalidParams},
		{"oversized", callBody("deploy", `{"environment":"`+strings.Repeat("a", 17)+`"}`), nil, nil, CodeInvalidParams},
		{"oversized escaped", callBody("deploy", `{"environment":"`+strings.Repeat(`\u00e9`, 9)+`"}`), nil, nil, CodeInvalidParams},
		{"oversized raw", callBody("deploy", `{"environment":"`+strings.Repeat("a", 1<<16)+`"}`), nil, nil, CodeInvalidParams},
		{"too many items", callBody("deploy", `{"environment":"s","tags":["a","b","c","d"]}`), nil, nil, CodeInvalidParams},
		{"item too long", callBody("deploy", `{"environment":"s","tags":["aaaaaaaaa"]}`), nil, nil, CodeInvalidParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Inspect("POST", legacy(), []byte(tt.body), opts)
			if tt.code != 0 {
				var ie *Error
				if !errors.As(err, &ie) || ie.Code != tt.code || ie.Status != 400 {
					t.Fatalf("err = %v, want code %d", err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			m := r.Messages[0]
			if !reflect.DeepEqual(m.Args, tt.want) || !reflect.DeepEqual(m.MissingArgs, tt.missing) {
				t.Fatalf("args %#v missing %v, want %#v %v", m.Args, m.MissingArgs, tt.want, tt.missing)
			}
		})
	}
}

func TestNewArgDeclsRejects(t *testing.T) {
	for name, decls := range map[string][]ToolArgs{
		"bad glob":      {{Tool: "[", Args: []ArgSpec{{Name: "a", Type: ArgString}}}},
		"no args":       {{Tool: "t"}},
		"bad name":      {{Tool: "t", Args: []ArgSpec{{Name: "a.b", Type: ArgString}}}},
		"twice":         {{Tool: "t", Args: []ArgSpec{{Name: "a", Type: ArgString}, {Name: "a", Type: ArgString}}}},
		"no type":       {{Tool: "t", Args: []ArgSpec{{Name: "a"}}}},
		"type conflict": {{Tool: "t", Args: []ArgSpec{{Name: "a", Type: ArgString}}}, {Tool: "u", Args: []ArgSpec{{Name: "a", Type: ArgBool}}}},
		"bad default":   {{Tool: "t", Args: []ArgSpec{{Name: "a", Type: ArgString, Default: 1}}}},
		"long default":  {{Tool: "t", Args: []ArgSpec{{Name: "a", Type: ArgString, MaxBytes: 2, Default: "abc"}}}},
		"bad path":      {{Tool: "t", Args: []ArgSpec{{Name: "a", Type: ArgString, Path: []string{"é"}}}}},
	} {
		if _, err := NewArgDecls(decls); !errors.Is(err, ErrArgDecl) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// BenchmarkInspectArgs compares Inspect of one tools/call with three
// declared arguments (one nested) against the same body without
// declarations, interleaved in the same run.
func BenchmarkInspectArgs(b *testing.B) {
	body := []byte(callBody("deploy", `{"environment":"production","service":"web-frontend","replicas":3,"target":{"region":"eu-west"},"note":"`+strings.Repeat("x", 200)+`"}`))
	h := legacy()
	d := testDecls(b)
	for _, v := range []struct {
		name string
		opts Options
	}{{"variant=no-args", Options{}}, {"variant=args", Options{Args: d}}} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Inspect("POST", h, body, v.opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
