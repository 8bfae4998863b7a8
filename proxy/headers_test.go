package proxy

import (
	"flag"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func samplePrincipal() *core.Principal {
	return &core.Principal{
		Kind: core.PrincipalUser, Issuer: "https://idp.example.com/tenant|x", Subject: "alice, \"the\" admin\r\nX-Evil: 1",
		Tenant: "acme", ClientID: "agent 1", Scopes: []string{"mcp:tools", "mcp:deploy"},
		Groups: []string{"eng", "sre,oncall", "ünïcode", "100%"}, Roles: []string{"", "r1"},
	}
}

// dumpHeader is the golden form: one "Name: value" line per header, sorted.
func dumpHeader(h http.Header) []byte {
	var lines []string
	for k, vs := range h {
		for _, v := range vs {
			lines = append(lines, k+": "+v)
		}
	}
	slices.Sort(lines)
	return []byte(strings.Join(lines, "\n") + "\n")
}

// TestPrincipalHeaderGolden fixes the wire format of the forwarded
// principal (testdata/principal_headers.golden) and checks that it reads
// back.
func TestPrincipalHeaderGolden(t *testing.T) {
	h := http.Header{}
	p := samplePrincipal()
	if err := SetPrincipalHeader(h, p); err != nil {
		t.Fatal(err)
	}
	got := dumpHeader(h)
	testkit.Golden(t, filepath.Join("testdata", "principal_headers.golden"), got, *update)
	back, err := PrincipalFromHeader(h)
	if err != nil {
		t.Fatal(err)
	}
	p.Roles = []string{"r1"} // empty items are dropped
	if back.ID() != p.ID() || back.Subject != p.Subject || back.ClientID != p.ClientID || !slices.Equal(back.Groups, p.Groups) ||
		!slices.Equal(back.Scopes, p.Scopes) || !slices.Equal(back.Roles, p.Roles) || back.Tenant != p.Tenant {
		t.Errorf("read back %+v, want %+v", back, p)
	}
}

func TestPrincipalFromHeaderRefuses(t *testing.T) {
	good := http.Header{}
	if err := SetPrincipalHeader(good, &core.Principal{Kind: core.PrincipalClient, Issuer: "https://as", ClientID: "bot", Subject: "bot"}); err != nil {
		t.Fatal(err)
	}
	if _, err := PrincipalFromHeader(good); err != nil {
		t.Fatalf("good header refused: %v", err)
	}
	tests := []struct {
		name string
		edit func(h http.Header)
	}{
		{"no id", func(h http.Header) { h.Del(HeaderPrincipalID) }},
		{"repeated id", func(h http.Header) { h.Add(HeaderPrincipalID, h.Get(HeaderPrincipalID)) }},
		{"repeated groups", func(h http.Header) { h.Add(HeaderGroups, "a"); h.Add(HeaderGroups, "b") }},
		{"id mismatch", func(h http.Header) { h.Set(HeaderClientID, "other") }},
		{"unknown kind", func(h http.Header) { h.Set(HeaderPrincipalKind, "robot") }},
		{"no kind", func(h http.Header) { h.Del(HeaderPrincipalKind) }},
		{"bad escape", func(h http.Header) { h.Set(HeaderSubject, "%zz") }},
		{"unencoded comma", func(h http.Header) { h.Set(HeaderSubject, "a,b") }},
		{"unencoded space", func(h http.Header) { h.Set(HeaderSubject, "a b") }},
		{"empty list item", func(h http.Header) { h.Set(HeaderGroups, "a,,b") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := good.Clone()
			tt.edit(h)
			if p, err := PrincipalFromHeader(h); err == nil {
				t.Errorf("accepted: %+v", p)
			}
		})
	}
}

func TestSetPrincipalHeaderBound(t *testing.T) {
	p := samplePrincipal()
	for i := range 1000 {
		p.Groups = append(p.Groups, "group-"+strings.Repeat("x", i%20))
	}
	h := http.Header{"Keep": {"1"}}
	if err := SetPrincipalHeader(h, p); err == nil {
		t.Fatal("a principal beyond MaxPrincipalHeaderBytes was encoded")
	}
	if len(h) != 1 {
		t.Errorf("a refused principal left headers: %v", h)
	}
}

func TestIsOwnHeader(t *testing.T) {
	for name, want := range map[string]bool{
		"X-Mcpauthz-Subject": true, "x-mcpauthz-subject": true, "X_MCPAUTHZ_SUBJECT": true, "X-mcpauthz_": true,
		"X-Mcpauthz": false, "X-Mcpauth-Subject": false, "Authorization": false, "": false, "X-Mcpauthzz-A": false,
	} {
		if got := isOwnHeader(name); got != want {
			t.Errorf("isOwnHeader(%q) = %v", name, got)
		}
	}
}

// FuzzEncodeValue: every value round-trips, and the encoding uses only
// the documented characters (never ",", space, quotes or controls).
func FuzzEncodeValue(f *testing.F) {
	for _, s := range []string{"", "alice", "a,b", "100%", "ünï", "\r\n", "%41", "a b+c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := EncodeValue(s)
		for i := 0; i < len(enc); i++ {
			if c := enc[i]; c != '%' && !keep(c) {
				t.Fatalf("EncodeValue(%q) = %q has %q", s, enc, c)
			}
		}
		dec, err := DecodeValue(enc)
		if err != nil || dec != s {
			t.Fatalf("DecodeValue(EncodeValue(%q)) = %q, %v", s, dec, err)
		}
		items, err := DecodeList(EncodeList([]string{s, s}))
		if s != "" && (err != nil || len(items) != 2 || items[0] != s || items[1] != s) {
			t.Fatalf("list round trip of %q: %q %v", s, items, err)
		}
	})
}

// FuzzPrincipalFromHeader: arbitrary header values never panic, and
// whatever is accepted re-encodes to a header that reads back the same.
func FuzzPrincipalFromHeader(f *testing.F) {
	h := http.Header{}
	_ = SetPrincipalHeader(h, samplePrincipal())
	f.Add(h.Get(HeaderPrincipalID), h.Get(HeaderPrincipalKind), h.Get(HeaderIssuer), h.Get(HeaderSubject), h.Get(HeaderTenant), h.Get(HeaderGroups))
	f.Add("client:a|b", "client", "a", "", "", "")
	f.Fuzz(func(t *testing.T, id, kind, iss, sub, tenant, groups string) {
		in := http.Header{HeaderPrincipalID: {id}, HeaderPrincipalKind: {kind}, HeaderIssuer: {iss}, HeaderSubject: {sub},
			HeaderTenant: {tenant}, HeaderGroups: {groups}}
		p, err := PrincipalFromHeader(in)
		if err != nil {
			return
		}
		out := http.Header{}
		if err := SetPrincipalHeader(out, p); err != nil {
			if len(id)+len(iss)+len(sub)+len(groups) < MaxPrincipalHeaderBytes/4 {
				t.Fatalf("re-encoding refused: %v", err)
			}
			return
		}
		q, err := PrincipalFromHeader(out)
		if err != nil {
			t.Fatalf("re-encoded header refused: %v\n%v", err, out)
		}
		if q.ID() != p.ID() || !slices.Equal(q.Groups, p.Groups) || q.Subject != p.Subject {
			t.Fatalf("round trip changed the principal: %+v vs %+v", q, p)
		}
		for _, vs := range out {
			for _, v := range vs {
				for i := 0; i < len(v); i++ {
					if c := v[i]; c != '%' && c != ',' && !keep(c) {
						t.Fatalf("unsafe header value %q", v)
					}
				}
			}
		}
	})
}
