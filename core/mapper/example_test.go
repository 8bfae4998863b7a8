package mapper_test

import (
	"context"
	"fmt"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/mapper"
)

func ExampleStandard() {
	m, err := mapper.Standard(mapper.Config{
		GroupClaims:     []string{"https://example.com/groups"},
		AttributeClaims: map[string]string{"department": "department"},
	})
	if err != nil {
		panic(err)
	}
	// Claims as a TokenVerifier returns them: the registered claims typed,
	// every claim in Raw (decoded on demand).
	raw, err := core.ParseRawClaims([]byte(`{"iss": "https://as.example.com", "sub": "alice",
		"client_id": "web", "scope": "mcp:tools",
		"https://example.com/groups": ["eng", 42], "department": "R&D"}`))
	if err != nil {
		panic(err)
	}
	claims := &core.Claims{
		Issuer: "https://as.example.com", Subject: "alice", ClientID: "web", Raw: raw,
	}
	p, err := m.MapClaims(context.Background(), claims)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.ID())
	fmt.Println(p.SubjectName(), p.Scopes, p.Groups, p.Attributes["department"])
	// Output:
	// user:https://as.example.com||alice
	// user:alice [mcp:tools] [eng] R&D
}

func ExampleStandard_clientCredentials() {
	m, _ := mapper.Standard(mapper.Config{})
	// RFC 9068: a client_credentials token carries the client id in "sub".
	raw, _ := core.ParseRawClaims([]byte(`{"iss": "https://as.example.com", "sub": "alice", "client_id": "alice"}`))
	claims := &core.Claims{Issuer: "https://as.example.com", Raw: raw}
	p, _ := m.MapClaims(context.Background(), claims)
	fmt.Println(p.Kind, p.ID(), p.SubjectName())
	// Output: client client:https://as.example.com|alice client:alice
}

func ExampleEntra() {
	const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	m, err := mapper.Entra(mapper.EntraConfig{AllowedTenants: []string{tid}})
	if err != nil {
		panic(err)
	}
	iss := "https://login.microsoftonline.com/" + tid + "/v2.0"
	appClaims := func(iss string) *core.Claims {
		raw, err := core.RawClaimsFromMap(map[string]any{
			"iss": iss, "tid": tid, "idtyp": "app", "azp": "11111111-2222-3333-4444-555555555555",
			"oid": "aaaaaaaa-0000-0000-0000-000000000001", "sub": "aaaaaaaa-0000-0000-0000-000000000001",
			"roles": []any{"Tools.Call"},
		})
		if err != nil {
			panic(err)
		}
		return &core.Claims{Issuer: iss, Raw: raw}
	}
	app := appClaims(iss)
	p, err := m.MapClaims(context.Background(), app)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.SubjectName(), p.Scopes)

	other := "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"
	_, err = m.MapClaims(context.Background(), appClaims(other))
	fmt.Println(err != nil)
	// Output:
	// client:11111111-2222-3333-4444-555555555555 [Tools.Call]
	// true
}

func ExampleKeycloak() {
	m, _ := mapper.Keycloak(mapper.KeycloakConfig{ClientRoles: []string{"mcp-server"}})
	raw, _ := core.ParseRawClaims([]byte(`{"iss": "https://sso.example.com/realms/acme", "sub": "f1",
		"azp": "mcp-client", "realm_access": {"roles": ["admin"]},
		"resource_access": {"mcp-server": {"roles": ["tool-user"]}}}`))
	c := &core.Claims{Issuer: "https://sso.example.com/realms/acme", Raw: raw}
	p, _ := m.MapClaims(context.Background(), c)
	fmt.Println(p.SubjectName(), p.Roles)
	// Output: user:f1 [admin mcp-server:tool-user]
}
