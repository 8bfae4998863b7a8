package strictyaml

import (
	"strings"
	"testing"
	"time"
)

type inner struct {
	Name string `yaml:"name"`
	Port int    `yaml:"port"`
}

type doc struct {
	Secret  string            `yaml:"secret"`
	TTL     time.Duration     `yaml:"ttl"`
	Items   []inner           `yaml:"items"`
	ByName  map[string]inner  `yaml:"by_name"`
	Free    map[string]string `yaml:"free"`
	Enabled bool              `yaml:"enabled"`
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDecode(t *testing.T) {
	vars := env(map[string]string{"SECRET": "s3cr#t: x", "PORT": "8443", "ON": "true", "EMPTY": ""})
	tests := []struct {
		name, in, err string
		check         func(d doc) bool
	}{
		{"plain", "secret: a\nttl: 5m\nitems: [{name: x, port: 1}]", "", func(d doc) bool { return d.Secret == "a" && d.TTL == 5*time.Minute && d.Items[0].Port == 1 }},
		{"env string keeps yaml-special chars", `secret: ${SECRET}`, "", func(d doc) bool { return d.Secret == "s3cr#t: x" }},
		{"env retypes plain scalars", "items:\n  - port: ${PORT}\nenabled: ${ON}", "", func(d doc) bool { return d.Items[0].Port == 8443 && d.Enabled }},
		{"env in the middle", `secret: "pre-${PORT}-post"`, "", func(d doc) bool { return d.Secret == "pre-8443-post" }},
		{"escaped", `secret: "$${PORT}"`, "", func(d doc) bool { return d.Secret == "${PORT}" }},
		{"empty var", `secret: "${EMPTY}"`, "", func(d doc) bool { return d.Secret == "" }},
		{"unset var", `secret: ${NOPE}`, "secret: environment variable NOPE is not set", nil},
		{"bad name", `secret: "${A-B}"`, "invalid variable name", nil},
		{"unterminated", `secret: "${A"`, "unterminated", nil},
		{"unknown field", "secret: a\nsecrte: b", "secrte: unknown field (line 2)", nil},
		{"unknown nested", "items:\n  - name: x\n    prot: 1", "items[0].prot: unknown field", nil},
		{"unknown in map value", "by_name:\n  a: {nme: x}", "by_name.a.nme: unknown field", nil},
		{"alias", "secret: &a x\nfree: {k: *a}", "anchors and aliases", nil},
		{"two documents", "secret: a\n---\nsecret: b", "more than one YAML document", nil},
		{"duplicate", "secret: a\nsecret: b", "already defined", nil},
		{"not a mapping", "items: [1]", "items[0]: must be a mapping", nil},
		{"json", `{"secret": "j", "ttl": "1s"}`, "", func(d doc) bool { return d.Secret == "j" && d.TTL == time.Second }},
		{"wrong type", "items: [{port: x}]", "cannot unmarshal", nil},
		{"env not expanded in keys", "${X}: 1", "unknown field", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var d doc
			err := Decode([]byte(tc.in), &d, Options{LookupEnv: vars})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(d) {
				t.Fatalf("decoded %+v", d)
			}
		})
	}
	var d doc
	if err := Decode([]byte(`secret: ${SECRET}`), &d, Options{}); err != nil || d.Secret != "${SECRET}" {
		t.Fatalf("without LookupEnv: %v %q", err, d.Secret)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{"secret: ${A}", "items: [{name: x}]", "a: &x 1", "{}", "- 1", "secret: \"$${A}\"", "by_name: {a: {port: ${P}}}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var d doc
		_ = Decode(data, &d, Options{LookupEnv: env(map[string]string{"A": "1", "P": "2"})})
	})
}

func TestIsEnvRef(t *testing.T) {
	for s, want := range map[string]bool{
		"${A}": true, "${IDP_CLIENT_SECRET}": true, "${_x9}": true,
		"": false, "${}": false, "${9A}": false, "x${A}": false, "${A}x": false, "${A}${B}": false, "$${A}": false, "${A-B}": false, "secret": false,
	} {
		if got := IsEnvRef(s); got != want {
			t.Errorf("IsEnvRef(%q) = %v", s, got)
		}
	}
}
