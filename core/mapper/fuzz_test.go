package mapper

import (
	"context"
	"errors"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

// FuzzMapClaims feeds arbitrary strictly-decoded claim sets to every preset:
// no panic, errors wrap core.ErrMapping, and a principal always has the
// identity its kind requires.
func FuzzMapClaims(f *testing.F) {
	for _, s := range []string{
		`{"iss":"i","sub":"alice","client_id":"alice"}`,
		`{"iss":"i","sub":"u","groups":["a",1,null,{"x":[]}],"scope":"a b","scp":["c",2]}`,
		`{"iss":"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0","tid":"72f988bf-86f1-41af-91ab-2d7cd011db47","oid":"o","sub":"o","azp":"c","idtyp":"app","roles":["r"]}`,
		`{"iss":"k","sub":"s","azp":"b","client_id":"b","preferred_username":"service-account-b","realm_access":{"roles":[1,"r"]},"resource_access":{"mcp":{"roles":"x"}}}`,
		`{"iss":"a","sub":"x@clients","gty":"client-credentials","azp":"x","https://ns/roles":[true]}`,
		`{"iss":"g","sub":"1","azp":"2","email":"e","email_verified":"true","hd":"example.com"}`,
		`{"iss":"o","cid":"c","sub":"c","uid":null,"scp":[[]]}`,
		`{"iss":1,"sub":{},"tid":[],"_claim_names":{"groups":1},"hasgroups":true}`,
		`[]`, `null`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	entra, _ := Entra(EntraConfig{AllowedTenants: []string{"72f988bf-86f1-41af-91ab-2d7cd011db47"}})
	okta, _ := Okta()
	kc, _ := Keycloak(KeycloakConfig{ClientRoles: []string{"mcp", "a.b"}})
	a0, _ := Auth0(Auth0Config{Namespace: "https://ns"})
	goog, _ := Google(GoogleConfig{HostedDomains: []string{"example.com"}, AllowServiceAccounts: true})
	std, _ := Standard(Config{AttributeClaims: map[string]string{"a": "a", "b": "x.y", "c": "c"}})
	mappers := []*Mapper{entra, okta, kc, a0, goog, std}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := decodeClaims(data)
		if err != nil {
			return
		}
		for _, m := range mappers {
			p, err := m.MapClaims(context.Background(), c)
			if err != nil {
				if !errors.Is(err, core.ErrMapping) {
					t.Fatalf("error %v does not wrap ErrMapping", err)
				}
				continue
			}
			if p.Issuer == "" {
				t.Fatal("principal without issuer")
			}
			switch p.Kind {
			case core.PrincipalUser:
				if p.Subject == "" {
					t.Fatalf("user without subject: %v", p)
				}
			case core.PrincipalClient:
				if p.ClientID == "" {
					t.Fatalf("client without client id: %v", p)
				}
			default:
				t.Fatalf("unknown kind %q", p.Kind)
			}
			for _, l := range [][]string{p.Scopes, p.Groups, p.Roles} {
				seen := map[string]bool{}
				for _, s := range l {
					if s == "" || seen[s] {
						t.Fatalf("empty or duplicate entry in %q", l)
					}
					seen[s] = true
				}
			}
		}
	})
}
