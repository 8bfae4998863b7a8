package inspect

import (
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/yosida95/uritemplate/v3"
)

func templateDecls(t testing.TB) *ArgDecls {
	t.Helper()
	d, err := NewArgDecls(nil,
		ResourceArgs{Template: "docs://payroll/{year}", Args: []ArgSpec{{Name: "year", Type: ArgNumber}}},
		ResourceArgs{Template: "repo://{org}/{name}/readme", Args: []ArgSpec{{Name: "name", Type: ArgString, MaxBytes: 16}}},
		ResourceArgs{Template: "flags://{enabled}"},
	)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Hostile URIs against declared templates: what matches, with which
// values, and what is refused.
func TestMatchResource(t *testing.T) {
	d := templateDecls(t)
	for _, c := range []struct {
		uri  string
		want map[string]any // nil: no template fits
		err  string         // fits, but refused
	}{
		{"docs://payroll/2024", map[string]any{"year": 2024.0}, ""},
		{"docs://payroll/-3.5", map[string]any{"year": -3.5}, ""},
		{"docs://payroll/%32%30%32%34", map[string]any{"year": 2024.0}, ""}, // decoded once, then typed
		{"repo://acme/web/readme", map[string]any{"org": "acme", "name": "web"}, ""},
		{"repo://ac%20me/w~e.b_-/readme", map[string]any{"org": "ac me", "name": "w~e.b_-"}, ""},
		{"repo://%C3%A9t%C3%A9/x/readme", map[string]any{"org": "été", "name": "x"}, ""},
		{"flags://true", map[string]any{"enabled": "true"}, ""}, // undeclared type: string
		// Structure does not fit: no variables (rules reading r.args fail closed).
		{"docs://payroll/2024/", nil, ""},
		{"docs://payroll/2024/extra", nil, ""},
		{"docs://payroll/../hr", nil, ""},
		{"DOCS://payroll/2024", nil, ""},
		{"docs://Payroll/2024", nil, ""},
		{"docs://payroll", nil, ""},
		{"docs://payroll//2024", nil, ""},
		{"repo://acme/web/README", nil, ""},
		{"repo://acme/web/readme?x=1", nil, ""},
		{"repo://acme/web/readme#f", nil, ""},
		{"repo://acme/../web/readme", nil, ""},
		{" docs://payroll/2024", nil, ""},
		// Fits, refused (-32602).
		{"docs://payroll/", nil, "empty"},
		{"docs://payroll/2024a", nil, "must be a decimal number"},
		{"docs://payroll/02024", nil, "must be a decimal number"},
		{"docs://payroll/1e3", nil, "must be a decimal number"},
		{"docs://payroll/9007199254740993", nil, "not exactly representable"},
		{"docs://payroll/9007199254740993.0", nil, "not exactly representable"},
		{"docs://payroll/2024?x", nil, "not allowed unencoded"},
		{"docs://payroll/2024#x", nil, "not allowed unencoded"},
		{"repo://..%2F..%2Fetc/x/readme", nil, "encoded '/' refused"},
		{"repo://a%2fb/x/readme", nil, "encoded '/' refused"},
		{"repo://../x/readme", nil, "dot segment refused"},
		{"repo://./x/readme", nil, "dot segment refused"},
		{"repo://%2E%2E/x/readme", nil, "dot segment refused"},
		{"repo://%2e/x/readme", nil, "dot segment refused"},
		{"repo://%FF%FE/x/readme", nil, "not valid UTF-8"},
		{"repo://%C3/x/readme", nil, "not valid UTF-8"},
		{"repo://a%00b/x/readme", nil, "control character"},
		{"repo://a%0Ab/x/readme", nil, "control character"},
		{"repo://a%7Fb/x/readme", nil, "control character"},
		{"repo://a%2/x/readme", nil, "malformed percent-escape"},
		{"repo://a%zz/x/readme", nil, "malformed percent-escape"},
		{"repo://a%/x/readme", nil, "malformed percent-escape"},
		{"repo://a b/x/readme", nil, "not allowed unencoded"},
		{"repo://é/x/readme", nil, "not allowed unencoded"},
		{"repo://a:b/x/readme", nil, "not allowed unencoded"},
		{"repo://a%252F/x/readme", map[string]any{"org": "a%2F", "name": "x"}, ""}, // decoded once only
		{"repo://acme/0123456789abcdefg/readme", nil, "exceeds 16 bytes"},
		{"repo://acme/" + strings.Repeat("%41", 17) + "/readme", nil, "exceeds 16 bytes"},
	} {
		got, ok, err := d.MatchResource(c.uri)
		switch {
		case c.err != "":
			if !ok || err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: ok=%v err=%v, want refused with %q", c.uri, ok, err, c.err)
			}
		case c.want == nil:
			if ok || err != nil || got != nil {
				t.Errorf("%q: %v ok=%v err=%v, want no template", c.uri, got, ok, err)
			}
		default:
			if !ok || err != nil || !reflect.DeepEqual(got, c.want) {
				t.Errorf("%q: %v ok=%v err=%v, want %v", c.uri, got, ok, err, c.want)
			}
		}
	}
}

// The same rules through Inspect: resources/read, subscribe and
// unsubscribe carry the variables in Message.Args; a refused variable is
// -32602.
func TestInspectResourceTemplate(t *testing.T) {
	opts := Options{Args: templateDecls(t)}
	h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"}, "Mcp-Protocol-Version": {Version20250618}}
	for _, method := range []string{"resources/read", "resources/subscribe", "resources/unsubscribe"} {
		body := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":%q,"params":{"uri":"docs:\/\/payroll\/\u0032024"}}`, method)
		r, err := Inspect(http.MethodPost, h, []byte(body), opts)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if got := r.Messages[0].Args; !reflect.DeepEqual(got, map[string]any{"year": 2024.0}) {
			t.Errorf("%s: args %v", method, got)
		}
	}
	body := `{"jsonrpc":"2.0","id":7,"method":"resources/read","params":{"uri":"repo://a%2Fb/x/readme"}}`
	_, err := Inspect(http.MethodPost, h, []byte(body), opts)
	var ie *Error
	if !errors.As(err, &ie) || ie.Kind != ErrInvalidParams || ie.Code != -32602 || string(ie.ID) != "7" {
		t.Fatalf("refused variable: %v", err)
	}
	// A URI no template fits carries no variables.
	r, err := Inspect(http.MethodPost, h, []byte(`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"docs://handbook"}}`), opts)
	if err != nil || r.Messages[0].Args != nil {
		t.Fatalf("untemplated URI: %v %v", r, err)
	}
}

func TestResourceTemplateDeclErrors(t *testing.T) {
	for _, c := range []struct {
		rs   ResourceArgs
		want string
	}{
		{ResourceArgs{Template: "docs://payroll"}, "no variable"},
		{ResourceArgs{Template: "docs://payroll/{+year}"}, "level 1 only"},
		{ResourceArgs{Template: "docs://payroll/{year*}"}, "level 1 only"},
		{ResourceArgs{Template: "docs://payroll/{year:4}"}, "level 1 only"},
		{ResourceArgs{Template: "docs://payroll/{a,b}"}, "level 1 only"},
		{ResourceArgs{Template: "docs://payroll/{?q}"}, "level 1 only"},
		{ResourceArgs{Template: "docs://payroll/y{year}"}, "must start a path segment"},
		{ResourceArgs{Template: "docs://payroll/{year}.pdf"}, "must end a path segment"},
		{ResourceArgs{Template: "docs://{a}{b}"}, "must end a path segment"},
		{ResourceArgs{Template: "docs://{a}/{a}"}, "appears twice"},
		{ResourceArgs{Template: "docs://payroll/{year"}, "unterminated"},
		{ResourceArgs{Template: "docs://payroll/year}"}, "unbalanced"},
		{ResourceArgs{Template: "docs://pay roll/{year}"}, "printable ASCII"},
		{ResourceArgs{Template: "docs://p/{year}", Args: []ArgSpec{{Name: "month", Type: ArgString}}}, "not a variable"},
		{ResourceArgs{Template: "docs://p/{year}", Args: []ArgSpec{{Name: "year", Type: ArgStringList}}}, "string, number or bool"},
		{ResourceArgs{Template: "docs://p/{year}", Args: []ArgSpec{{Name: "year", Type: ArgString, Default: "2024"}}}, "do not apply"},
	} {
		_, err := NewArgDecls(nil, c.rs)
		if err == nil || !errors.Is(err, ErrArgDecl) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.rs.Template, err, c.want)
		}
	}
	// A name shared with a tool argument must keep its type.
	_, err := NewArgDecls([]ToolArgs{{Tool: "t", Args: []ArgSpec{{Name: "year", Type: ArgString}}}},
		ResourceArgs{Template: "docs://p/{year}", Args: []ArgSpec{{Name: "year", Type: ArgNumber}}})
	if err == nil || !strings.Contains(err.Error(), "declared as string and number") {
		t.Errorf("type conflict: %v", err)
	}
}

// FuzzMatchResource checks the matcher against the URI-template library
// the go-sdk routes resources/read with: every URI we accept is routed to
// the same template by the SDK and yields the same (decoded) values, and
// accepted values obey the documented rules.
func FuzzMatchResource(f *testing.F) {
	for _, s := range []string{"docs://payroll/2024", "repo://acme/web/readme", "repo://a%2Fb/x/readme",
		"repo://%2E%2E/x/readme", "repo://%C3%A9/x/readme", "flags://x", "repo://a%252F/x/readme", "docs://payroll/../x"} {
		f.Add(s)
	}
	d := templateDecls(f)
	sdk := map[string]*uritemplate.Template{}
	for _, tx := range d.Templates() {
		sdk[tx] = uritemplate.MustNew(tx)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		vals, ok, err := d.MatchResource(uri)
		if !ok || err != nil {
			return
		}
		var tmpl *uriTemplate
		for _, x := range d.resources {
			if v, ok2, err2 := x.match(uri); ok2 && err2 == nil && reflect.DeepEqual(v, vals) {
				tmpl = x
				break
			}
		}
		if tmpl == nil {
			t.Fatalf("%q: no template reproduces %v", uri, vals)
		}
		st := sdk[tmpl.text]
		if !st.Regexp().MatchString(uri) {
			t.Fatalf("%q: accepted for %s, but the go-sdk would not route it to that template", uri, tmpl.text)
		}
		ref := st.Match(uri)
		for _, sp := range tmpl.specs {
			v := vals[sp.Name]
			s, isStr := v.(string)
			if isStr {
				if strings.Contains(s, "/") || s == "." || s == ".." || !utf8.ValidString(s) || s == "" {
					t.Fatalf("%q: accepted value %q breaks the rules", uri, s)
				}
				if got := ref.Get(sp.Name).String(); got != s {
					t.Fatalf("%q: variable %s is %q for the policy, %q for the go-sdk's matcher", uri, sp.Name, s, got)
				}
			}
		}
	})
}

// BenchmarkInspectResourceTemplate compares, in the same run, inspecting a
// resources/read whose URI fits a declared template (variable decoded and
// typed) with the same request without template declarations.
func BenchmarkInspectResourceTemplate(b *testing.B) {
	body := []byte(`{"jsonrpc":"2.0","id":42,"method":"resources/read","params":{"uri":"docs://payroll/2024"}}`)
	h := http.Header{"Content-Type": {"application/json"}, "Mcp-Protocol-Version": {"2025-11-25"}}
	for _, v := range []struct {
		name string
		opts Options
	}{{"no-template", Options{}}, {"template", Options{Args: templateDecls(b)}}} {
		b.Run("variant="+v.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r, err := Inspect("POST", h, body, v.opts)
				if err != nil || r.Messages[0].Target.Name != "docs://payroll/2024" {
					b.Fatal(err)
				}
			}
		})
	}
}
