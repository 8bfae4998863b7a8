package core

import "testing"

func TestPrincipalIDUnambiguous(t *testing.T) {
	t.Parallel()
	tests := []struct{ a, b Principal }{
		{Principal{Kind: PrincipalUser, Issuer: "i", Tenant: "a|b", Subject: "c"}, Principal{Kind: PrincipalUser, Issuer: "i", Tenant: "a", Subject: "b|c"}},
		{Principal{Kind: PrincipalUser, Issuer: "i|", Subject: "s"}, Principal{Kind: PrincipalUser, Issuer: "i", Tenant: "|", Subject: "s"}},
		{Principal{Kind: PrincipalUser, Issuer: `i\`, Tenant: "t", Subject: "s"}, Principal{Kind: PrincipalUser, Issuer: "i", Tenant: `\t`, Subject: "s"}},
		{Principal{Kind: PrincipalClient, Issuer: "i", ClientID: "alice"}, Principal{Kind: PrincipalUser, Issuer: "i", Subject: "alice"}},
	}
	for _, tt := range tests {
		if tt.a.ID() == tt.b.ID() {
			t.Errorf("%+v and %+v share ID %q", tt.a, tt.b, tt.a.ID())
		}
	}
	p := Principal{Kind: PrincipalUser, Issuer: "https://as", Tenant: "t", Subject: "alice"}
	if got := p.ID(); got != "user:https://as|t|alice" {
		t.Errorf("plain ID changed: %q", got)
	}
	if ProviderTenant("", "t") != "t" || ProviderTenant("p", "") != "p" || ProviderTenant("p", "t") != "p|t" {
		t.Error("ProviderTenant")
	}
}
