package mapper

import (
	"context"
	"slices"
	"testing"
)

// TestNamespacedClaimPaths: claims whose names are URLs (the Auth0/Okta
// custom-claim layout) are addressable, including members inside them.
func TestNamespacedClaimPaths(t *testing.T) {
	m, err := Standard(Config{
		GroupClaims:     []string{`"https://corp.example/claims".teams`},
		RoleClaims:      []string{`https://corp.example/roles`},
		AttributeClaims: map[string]string{"unit": `"https://corp.example/claims"."org.unit"`},
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := decodeClaims([]byte(`{"iss":"https://acme.us.auth0.com/","sub":"auth0|1",
		"https://corp.example/claims":{"teams":["platform","oncall"],"org.unit":"eng"},
		"https://corp.example/roles":["deployer"]}`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := m.MapClaims(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Groups, []string{"platform", "oncall"}) || !slices.Equal(p.Roles, []string{"deployer"}) || p.Attributes["unit"] != "eng" {
		t.Fatalf("principal %+v %v %v %v", p, p.Groups, p.Roles, p.Attributes)
	}
	for _, bad := range []string{`"https://corp.example/claims.teams`, `"a"b`, `""`} {
		if _, err := Standard(Config{GroupClaims: []string{bad}}); err == nil {
			t.Errorf("Standard accepted malformed path %s", bad)
		}
		if _, err := Standard(Config{AttributeClaims: map[string]string{"x": bad}}); err == nil {
			t.Errorf("Standard accepted malformed attribute path %s", bad)
		}
	}
}
