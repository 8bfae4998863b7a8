package mapper

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

const iss = "https://as.example.com"

func TestStandardDefaults(t *testing.T) {
	t.Parallel()
	m, err := Standard(Config{
		AttributeClaims: map[string]string{
			"department": "department", "acr": "acr", "amr": "amr", "email": "email",
			"level": "ext.level", "ratio": "ratio", "meta": "meta",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, m, []mapCase{
		{
			name: "rfc9068 user token",
			claims: `{"iss":"https://as.example.com","sub":"U019488227","client_id":"f53f191f9311af35",
				"aud":"https://mcp.example.com/mcp","scope":"mcp:tools mcp:resources:read","groups":["eng","ops"],
				"roles":["admin"],"department":"R&D","acr":"urn:mace:incommon:iap:silver","amr":["pwd","mfa"],
				"email":"a@example.com","ext":{"level":3},"ratio":0.5,"meta":{"x":1}}`,
			kind: core.PrincipalUser, id: "user:" + iss + "||U019488227", sub: "U019488227", client: "f53f191f9311af35",
			scopes: []string{"mcp:tools", "mcp:resources:read"}, groups: []string{"eng", "ops"}, roles: []string{"admin"},
			attrs: map[string]any{"department": "R&D", "acr": "urn:mace:incommon:iap:silver",
				"amr": []string{"pwd", "mfa"}, "email": "a@example.com", "level": 3, "ratio": 0.5},
		},
		{
			name:   "client_credentials sub == client_id",
			claims: `{"iss":"https://as.example.com","sub":"alice","client_id":"alice","scope":"mcp:tools"}`,
			kind:   core.PrincipalClient, id: "client:" + iss + "|alice", sub: "alice", client: "alice",
			scopes: []string{"mcp:tools"},
		},
		{
			name:   "user alice is not client alice",
			claims: `{"iss":"https://as.example.com","sub":"alice","client_id":"webapp"}`,
			kind:   core.PrincipalUser, id: "user:" + iss + "||alice", sub: "alice", client: "webapp",
		},
		{
			name:   "no sub is a client via azp",
			claims: `{"iss":"https://as.example.com","azp":"svc-1","scp":["a","b"]}`,
			kind:   core.PrincipalClient, id: "client:" + iss + "|svc-1", client: "svc-1", scopes: []string{"a", "b"},
		},
		{
			name:   "empty sub is a client",
			claims: `{"iss":"https://as.example.com","sub":"","client_id":"svc-2"}`,
			kind:   core.PrincipalClient, client: "svc-2",
		},
		{
			name:    "no sub and no client id",
			claims:  `{"iss":"https://as.example.com","scope":"x"}`,
			wantErr: true,
		},
		{
			name:    "no issuer",
			claims:  `{"sub":"u","client_id":"c"}`,
			wantErr: true,
		},
		{
			name:    "numeric sub",
			claims:  `{"iss":"https://as.example.com","sub":42,"client_id":"c"}`,
			wantErr: true,
		},
		{
			name:    "list client_id",
			claims:  `{"iss":"https://as.example.com","sub":"u","client_id":["c"]}`,
			wantErr: true,
		},
		{
			name:    "object tenant",
			claims:  `{"iss":"https://as.example.com","sub":"u","tid":{"a":1}}`,
			wantErr: true,
		},
		{
			name: "groups with numbers, nulls, objects, empties and duplicates",
			claims: `{"iss":"https://as.example.com","sub":"u","groups":["eng",1,null,{"g":"x"},"",["n"],"eng","ops",true],
				"roles":"solo","scope":"  a  b a ","scp":["b","c",7]}`,
			kind: core.PrincipalUser, sub: "u", groups: []string{"eng", "ops"}, roles: []string{"solo"},
			scopes: []string{"a", "b", "c"},
		},
		{
			name:   "groups is a number",
			claims: `{"iss":"https://as.example.com","sub":"u","groups":12,"roles":{"admin":true}}`,
			kind:   core.PrincipalUser, sub: "u",
		},
		{
			name:   "tenant from tid then tenant",
			claims: `{"iss":"https://as.example.com","sub":"u","tenant":"acme"}`,
			kind:   core.PrincipalUser, sub: "u", tenant: "acme", id: "user:" + iss + "|acme|u",
		},
		{
			name:   "null sub treated as absent",
			claims: `{"iss":"https://as.example.com","sub":null,"client_id":"c"}`,
			kind:   core.PrincipalClient, client: "c",
		},
	})
}

func TestStandardOptions(t *testing.T) {
	t.Parallel()
	ns := "https://example.com/claims"
	m, err := Standard(Config{
		SubjectClaim:                "user.id",
		ClientIDClaims:              []string{"cid"},
		ScopeClaims:                 []string{"permissions"},
		GroupClaims:                 []string{ns + "/groups", "realm.groups"},
		RoleClaims:                  []string{},
		TenantClaims:                []string{},
		ClientClaims:                map[string]string{"kind": "machine"},
		IgnoreSubjectEqualsClientID: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, m, []mapCase{
		{
			name: "nested subject, namespaced groups, roles disabled",
			claims: `{"iss":"https://as.example.com","user":{"id":"u1"},"cid":"app","permissions":["read:x"],
				"https://example.com/claims/groups":["g1"],"realm":{"groups":["g2","g1"]},"roles":["ignored"],"tid":"ignored"}`,
			kind: core.PrincipalUser, sub: "u1", client: "app", scopes: []string{"read:x"}, groups: []string{"g1", "g2"},
		},
		{
			name:   "sub equal to client id stays a user",
			claims: `{"iss":"https://as.example.com","user":{"id":"app"},"cid":"app"}`,
			kind:   core.PrincipalUser, sub: "app", client: "app",
		},
		{
			name:   "client claim marks machine",
			claims: `{"iss":"https://as.example.com","user":{"id":"u1"},"cid":"app","kind":"machine"}`,
			kind:   core.PrincipalClient, sub: "u1", client: "app",
		},
		{
			name:    "client claim marks machine but no client id",
			claims:  `{"iss":"https://as.example.com","user":{"id":"u1"},"kind":"machine"}`,
			wantErr: true,
		},
		{
			name:   "client claim of wrong type is ignored",
			claims: `{"iss":"https://as.example.com","user":{"id":"u1"},"cid":"app","kind":["machine"]}`,
			kind:   core.PrincipalUser, sub: "u1", client: "app",
		},
	})
}

func TestStandardConfigErrors(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]Config{
		"empty scope path": {ScopeClaims: []string{"scope", ""}},
		"empty attr name":  {AttributeClaims: map[string]string{"": "x"}},
		"empty attr path":  {AttributeClaims: map[string]string{"x": ""}},
		"empty client":     {ClientClaims: map[string]string{"": "x"}},
	} {
		if _, err := Standard(cfg); err == nil {
			t.Errorf("%s: Standard accepted an invalid config", name)
		}
	}
}

func TestTypedClaimsWithoutRaw(t *testing.T) {
	t.Parallel()
	m, err := Standard(Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := &core.Claims{Issuer: iss, Subject: "u", ClientID: "c", Scopes: []string{"a", "b"}}
	p, err := m.MapClaims(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind != core.PrincipalUser || p.Subject != "u" || p.ClientID != "c" || !p.HasScope("b") {
		t.Fatalf("got %+v", p)
	}
	if c.Raw.Len() != 0 {
		t.Fatal("MapClaims modified the caller's claims")
	}
	if _, err := m.MapClaims(context.Background(), nil); !errors.Is(err, core.ErrMapping) {
		t.Fatalf("nil claims: %v", err)
	}
}

func TestHooks(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		cfg  Config
		want error
	}{
		{"refine plain error", Config{Refine: func(*core.Claims, *core.Principal) error { return boom }}, core.ErrMapping},
		{"refine unavailable", Config{Refine: func(*core.Claims, *core.Principal) error { return core.ErrUnavailable }}, core.ErrUnavailable},
		{"isclient error", Config{IsClient: func(*core.Claims, string, string) (bool, error) { return false, boom }}, core.ErrMapping},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := Standard(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.MapClaims(context.Background(), mustClaims(t, `{"iss":"i","sub":"u"}`))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if errors.Is(tc.want, core.ErrMapping) && !errors.Is(err, boom) {
				t.Fatalf("err = %v lost its cause", err)
			}
		})
	}
}

// TestConfigIsCopied checks that changing the caller's Config after Standard
// has no effect.
func TestConfigIsCopied(t *testing.T) {
	t.Parallel()
	groups := []string{"groups"}
	attrs := map[string]string{"email": "email"}
	m, err := Standard(Config{GroupClaims: groups, AttributeClaims: attrs})
	if err != nil {
		t.Fatal(err)
	}
	groups[0] = "other"
	attrs["email"] = "other"
	p, err := m.MapClaims(context.Background(), mustClaims(t, `{"iss":"i","sub":"u","groups":["g"],"email":"e"}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Groups) != 1 || p.Attributes["email"] != "e" {
		t.Fatalf("config was not copied: %+v", p)
	}
}

// TestLongListDedup covers the map-based de-duplication of long lists.
func TestLongListDedup(t *testing.T) {
	t.Parallel()
	m, err := Standard(Config{})
	if err != nil {
		t.Fatal(err)
	}
	js := `{"iss":"i","sub":"u","groups":[`
	var want []string
	for i := 0; i < 40; i++ {
		g := "g" + strconv.Itoa(i%30)
		if i > 0 {
			js += ","
		}
		js += `"` + g + `",7`
		if i < 30 {
			want = append(want, g)
		}
	}
	js += `]}`
	p, err := m.MapClaims(context.Background(), mustClaims(t, js))
	if err != nil {
		t.Fatal(err)
	}
	eqList(t, "Groups", p.Groups, want)
}

// TestSameSubjectFromTwoIdPs: tokens of the embedded authorization server
// carry the upstream IdP in "idp_iss"; the same "sub" vouched for by two IdPs
// must not become one principal.
func TestSameSubjectFromTwoIdPs(t *testing.T) {
	t.Parallel()
	m, err := Standard(Config{})
	if err != nil {
		t.Fatal(err)
	}
	mk := func(idp, tenant string) *core.Principal {
		t.Helper()
		raw := map[string]any{"iss": "https://as.example.com", "sub": "alice", "client_id": "agent", "idp_iss": idp}
		if tenant != "" {
			raw["tenant"] = tenant
		}
		p, err := m.MapClaims(context.Background(), &core.Claims{Issuer: "https://as.example.com", Subject: "alice", ClientID: "agent", Raw: rawOf(raw)})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a, b := mk("https://idp-a.example.com", ""), mk("https://idp-b.example.com", "")
	if a.ID() == b.ID() || a.Tenant != "https://idp-a.example.com" {
		t.Fatalf("principals collide: %q vs %q (tenant %q)", a.ID(), b.ID(), a.Tenant)
	}
	// IdP A cannot impersonate IdP B's users by asserting B as its tenant.
	spoof := mk("https://idp-a.example.com", "https://idp-b.example.com")
	if spoof.ID() == b.ID() || spoof.Tenant == b.Tenant {
		t.Fatalf("tenant spoofing merges principals: %q", spoof.ID())
	}
	if got := mk("https://idp-a.example.com", "acme").Tenant; got != "https://idp-a.example.com|acme" {
		t.Fatalf("tenant = %q", got)
	}
}
