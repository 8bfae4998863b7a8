package mapper

import (
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

func TestAttributeSchema(t *testing.T) {
	t.Parallel()
	m, err := Standard(Config{
		AttributeClaims: map[string]string{"amr": "amr", "dept": "department", "level": "ext.level", "verified": "email_verified"},
		AttributeSpecs:  []core.AttributeSpec{{Name: "level", Type: core.AttrNumber, Default: 1}, {Name: "verified", Type: core.AttrBool}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]core.AttributeSpec{}
	for _, s := range m.AttributeSchema() {
		got[s.Name] = s
	}
	want := map[string]core.AttributeType{"amr": core.AttrStrings, "dept": core.AttrString, "level": core.AttrNumber, "verified": core.AttrBool}
	if len(got) != len(want) {
		t.Fatalf("schema %v", got)
	}
	for n, typ := range want {
		if got[n].Type != typ {
			t.Errorf("%s: type %q, want %q", n, got[n].Type, typ)
		}
	}
	if got["level"].Default != float64(1) || got["dept"].Default != "" {
		t.Errorf("defaults: %v", got)
	}
	for _, bad := range []Config{
		{AttributeSpecs: []core.AttributeSpec{{Name: "x", Type: core.AttrString}}},
		{AttributeClaims: map[string]string{"x": "x"}, AttributeSpecs: []core.AttributeSpec{{Name: "x", Type: "int"}}},
		{AttributeClaims: map[string]string{"x-y": "x"}},
	} {
		if _, err := Standard(bad); err == nil {
			t.Errorf("Standard(%+v): no error", bad)
		}
	}
}
