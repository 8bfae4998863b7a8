package core

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

type ReviewEmbedded struct {
	Tenant string `json:"tid"`
}

type reviewTarget struct {
	*ReviewEmbedded
	Email    string          `json:"email,omitempty"`
	Level    int             `json:"level,string"`
	Raw      json.RawMessage `json:"raw"`
	Iface    any             `json:"iface"`
	Ptr      *string         `json:"ptr"`
	Map      map[string]any  `json:"map"`
	Hidden   string          `json:"-"`
	Verbatim string          // untagged: encoding/json writes "Verbatim"
}

// TestDecodeOrdinaryStructs: the usual Go claim structs keep decoding
// normal tokens, and a key matching an untagged field only by case is
// refused with an error that says which tag to add.
func TestDecodeOrdinaryStructs(t *testing.T) {
	var got reviewTarget
	c := claimsOf(t, `{"tid":"t1","email":"a@b","level":"3","raw":{"x":1},"iface":[1],"ptr":"p","map":{"A":1,"b":2},"Verbatim":"v"}`)
	if err := c.Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.ReviewEmbedded == nil || got.Tenant != "t1" || got.Email != "a@b" || got.Level != 3 || string(got.Raw) != `{"x":1}` ||
		got.Ptr == nil || *got.Ptr != "p" || len(got.Map) != 2 || got.Verbatim != "v" {
		t.Fatalf("decoded %+v", got)
	}
	for _, tc := range []struct{ text, wantTag string }{
		{`{"verbatim":"v"}`, `json:"verbatim"`},
		{`{"EMAIL":"v"}`, ``},
	} {
		var v reviewTarget
		err := claimsOf(t, tc.text).Decode(&v)
		if !errors.Is(err, ErrInvalidClaims) {
			t.Fatalf("%s: err %v, want ErrInvalidClaims", tc.text, err)
		}
		if tc.wantTag != "" && !strings.Contains(err.Error(), tc.wantTag) {
			t.Fatalf("%s: error %q does not say to add %s", tc.text, err, tc.wantTag)
		}
	}
}
