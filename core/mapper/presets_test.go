package mapper

import (
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

func TestOkta(t *testing.T) {
	t.Parallel()
	m, err := Okta()
	if err != nil {
		t.Fatal(err)
	}
	const oiss = "https://dev-123.okta.com/oauth2/default"
	runCases(t, m, []mapCase{
		{
			name: "user token",
			claims: `{"ver":1,"jti":"AT.x","iss":"https://dev-123.okta.com/oauth2/default","aud":"api://mcp",
				"iat":1767225600,"exp":1767229200,"cid":"0oa1b2c3d4","uid":"00u1a2b3c4","scp":["openid","mcp:tools"],
				"auth_time":1767225000,"sub":"alice@example.com","groups":["Everyone","Engineering"]}`,
			kind: core.PrincipalUser, id: "user:" + oiss + "||00u1a2b3c4", sub: "00u1a2b3c4", client: "0oa1b2c3d4",
			scopes: []string{"openid", "mcp:tools"}, groups: []string{"Everyone", "Engineering"},
			attrs: map[string]any{"login": "alice@example.com"},
		},
		{
			name: "client_credentials token",
			claims: `{"ver":1,"jti":"AT.y","iss":"https://dev-123.okta.com/oauth2/default","aud":"api://mcp",
				"iat":1767225600,"exp":1767229200,"cid":"0oa1b2c3d4","scp":["mcp:tools"],"sub":"0oa1b2c3d4"}`,
			kind: core.PrincipalClient, id: "client:" + oiss + "|0oa1b2c3d4", client: "0oa1b2c3d4",
			scopes: []string{"mcp:tools"}, attrs: map[string]any{"login": "0oa1b2c3d4"},
		},
		{
			name:    "no uid and sub != cid",
			claims:  `{"iss":"https://dev-123.okta.com/oauth2/default","cid":"0oa1","sub":"alice@example.com"}`,
			wantErr: true,
		},
		{
			name:    "numeric sub without uid",
			claims:  `{"iss":"https://dev-123.okta.com/oauth2/default","cid":"0oa1","sub":5}`,
			wantErr: true,
		},
		{
			name:   "user named like the client stays a user",
			claims: `{"iss":"https://dev-123.okta.com/oauth2/default","cid":"alice","uid":"alice","sub":"alice"}`,
			kind:   core.PrincipalUser, sub: "alice", client: "alice", id: "user:" + oiss + "||alice",
		},
	})
}

const (
	tidA = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	tidB = "9188040d-6c67-4c5b-b112-36a304b66dad"
)

func TestEntra(t *testing.T) {
	t.Parallel()
	m, err := Entra(EntraConfig{AllowedTenants: []string{tidA}})
	if err != nil {
		t.Fatal(err)
	}
	v2 := "https://login.microsoftonline.com/" + tidA + "/v2.0"
	runCases(t, m, []mapCase{
		{
			name: "v2 delegated user token",
			claims: `{"aud":"api://mcp","iss":"https://login.microsoftonline.com/` + tidA + `/v2.0","iat":1767225600,"nbf":1767225600,
				"exp":1767229200,"aio":"x","azp":"6e74172b-be56-4843-9ff4-e66a39bb12e3","azpacr":"0","name":"Abe Lincoln",
				"oid":"690222be-ff1a-4d56-abd1-7e4f7d38e474","preferred_username":"abeli@microsoft.com","rh":"x",
				"scp":"mcp.tools mcp.read","sub":"HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ","tid":"` + tidA + `",
				"uti":"x","ver":"2.0","roles":["Reader"],"groups":["a1","b2"],"idtyp":"user"}`,
			kind: core.PrincipalUser, id: "user:" + v2 + "|" + tidA + "|690222be-ff1a-4d56-abd1-7e4f7d38e474",
			sub: "690222be-ff1a-4d56-abd1-7e4f7d38e474", client: "6e74172b-be56-4843-9ff4-e66a39bb12e3", tenant: tidA,
			scopes: []string{"mcp.tools", "mcp.read"}, roles: []string{"Reader"}, groups: []string{"a1", "b2"},
			attrs: map[string]any{"preferred_username": "abeli@microsoft.com"},
		},
		// An ID token of the MCP server's own app registration has the
		// GUID audience of a v2 access token, typ JWT, and no nonce when
		// the login sent none or it came from a refresh; it carries roles
		// and groups too. Only access tokens name their client (v2 "azp",
		// v1 "appid").
		{
			name: "v2 ID token (no azp, no appid)",
			claims: `{"aud":"6e74172b-be56-4843-9ff4-e66a39bb12e3","iss":"https://login.microsoftonline.com/` + tidA + `/v2.0",
				"iat":1767225600,"nbf":1767225600,"exp":1767229200,"aio":"x","name":"Abe Lincoln",
				"oid":"690222be-ff1a-4d56-abd1-7e4f7d38e474","preferred_username":"abeli@microsoft.com","rh":"x",
				"sub":"HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ","tid":"` + tidA + `","uti":"x","ver":"2.0","roles":["Reader"]}`,
			wantErr: true,
		},
		{
			name: "v1 ID token (no azp, no appid)",
			claims: `{"aud":"6e74172b-be56-4843-9ff4-e66a39bb12e3","iss":"https://sts.windows.net/` + tidA + `/",
				"oid":"690222be-ff1a-4d56-abd1-7e4f7d38e474","sub":"HKZp","tid":"` + tidA + `","upn":"abeli@microsoft.com","ver":"1.0","roles":["Reader"]}`,
			wantErr: true,
		},
		{
			name: "v2 app-only token with idtyp",
			claims: `{"aud":"api://mcp","iss":"https://login.microsoftonline.com/` + tidA + `/v2.0","azp":"11111111-2222-3333-4444-555555555555",
				"oid":"aaaaaaaa-0000-0000-0000-000000000001","sub":"aaaaaaaa-0000-0000-0000-000000000001","tid":"` + tidA + `",
				"roles":["Tools.Call","Tools.Call"],"idtyp":"app","ver":"2.0"}`,
			kind: core.PrincipalClient, id: "client:" + v2 + "|11111111-2222-3333-4444-555555555555",
			sub: "aaaaaaaa-0000-0000-0000-000000000001", client: "11111111-2222-3333-4444-555555555555", tenant: tidA,
			roles: []string{"Tools.Call"}, scopes: []string{"Tools.Call"},
		},
		{
			name: "v1 app-only token without idtyp (sub == oid, no scp)",
			claims: `{"aud":"api://mcp","iss":"https://sts.windows.net/` + tidA + `/","appid":"22222222-2222-3333-4444-555555555555",
				"oid":"bbbbbbbb-0000-0000-0000-000000000001","sub":"bbbbbbbb-0000-0000-0000-000000000001","tid":"` + tidA + `",
				"roles":["Tools.Call"],"ver":"1.0"}`,
			kind: core.PrincipalClient, sub: "bbbbbbbb-0000-0000-0000-000000000001",
			client: "22222222-2222-3333-4444-555555555555", tenant: tidA, roles: []string{"Tools.Call"}, scopes: []string{"Tools.Call"},
		},
		{
			// GUIDs compare case-insensitively in Entra: the principal
			// (and its ID) is the one the lower-case token maps to.
			name: "upper-case GUIDs are canonical lower case",
			claims: `{"aud":"api://mcp","iss":"https://login.microsoftonline.com/` + strings.ToUpper(tidA) + `/v2.0",
				"azp":"6E74172B-BE56-4843-9FF4-E66A39BB12E3","oid":"690222BE-FF1A-4D56-ABD1-7E4F7D38E474","sub":"HKZp",
				"tid":"` + strings.ToUpper(tidA) + `","scp":"mcp.tools","idtyp":"user",
				"groups":["AAAAAAAA-0000-0000-0000-000000000001","aaaaaaaa-0000-0000-0000-000000000001","Admins"]}`,
			kind: core.PrincipalUser, id: "user:" + v2 + "|" + tidA + "|690222be-ff1a-4d56-abd1-7e4f7d38e474",
			sub: "690222be-ff1a-4d56-abd1-7e4f7d38e474", client: "6e74172b-be56-4843-9ff4-e66a39bb12e3", tenant: tidA,
			scopes: []string{"mcp.tools"}, groups: []string{"aaaaaaaa-0000-0000-0000-000000000001", "Admins"},
		},
		{
			name: "group overage refused by default",
			claims: `{"iss":"https://login.microsoftonline.com/` + tidA + `/v2.0","azp":"c","oid":"o","sub":"s","tid":"` + tidA + `",
				"scp":"a","_claim_names":{"groups":"src1"},"_claim_sources":{"src1":{"endpoint":"https://graph.microsoft.com/x"}}}`,
			wantErr: true,
		},
		{
			name:    "hasgroups refused by default",
			claims:  `{"iss":"https://login.microsoftonline.com/` + tidA + `/v2.0","azp":"c","oid":"o","sub":"s","tid":"` + tidA + `","scp":"a","hasgroups":true}`,
			wantErr: true,
		},
		{
			name:    "tenant not allowed",
			claims:  `{"iss":"https://login.microsoftonline.com/` + tidB + `/v2.0","azp":"c","oid":"o","sub":"s","tid":"` + tidB + `","scp":"a"}`,
			wantErr: true,
		},
		{
			name:    "issuer of another tenant",
			claims:  `{"iss":"https://login.microsoftonline.com/` + tidB + `/v2.0","azp":"c","oid":"o","sub":"s","tid":"` + tidA + `","scp":"a"}`,
			wantErr: true,
		},
		{
			name:    "common issuer",
			claims:  `{"iss":"https://login.microsoftonline.com/common/v2.0","azp":"c","oid":"o","sub":"s","tid":"` + tidA + `","scp":"a"}`,
			wantErr: true,
		},
		{
			name:    "missing tid",
			claims:  `{"iss":"https://login.microsoftonline.com/` + tidA + `/v2.0","azp":"c","oid":"o","sub":"s","scp":"a"}`,
			wantErr: true,
		},
		{
			name:    "user without oid",
			claims:  `{"iss":"https://login.microsoftonline.com/` + tidA + `/v2.0","azp":"c","sub":"s","tid":"` + tidA + `","scp":"a"}`,
			wantErr: true,
		},
		{
			name:    "unknown idtyp",
			claims:  `{"iss":"https://login.microsoftonline.com/` + tidA + `/v2.0","azp":"c","oid":"o","sub":"o","tid":"` + tidA + `","idtyp":"device"}`,
			wantErr: true,
		},
		{
			name:    "app token without client id",
			claims:  `{"iss":"https://login.microsoftonline.com/` + tidA + `/v2.0","oid":"o","sub":"o","tid":"` + tidA + `","idtyp":"app"}`,
			wantErr: true,
		},
	})
	t.Run("config", func(t *testing.T) {
		t.Parallel()
		if _, err := Entra(EntraConfig{}); err == nil {
			t.Error("Entra accepted no tenants without AllowAnyTenant")
		}
		if _, err := Entra(EntraConfig{AllowedTenants: []string{"contoso.onmicrosoft.com"}}); err == nil {
			t.Error("Entra accepted a non-GUID tenant")
		}
		overage, err := Entra(EntraConfig{AllowedTenants: []string{tidA}, AllowGroupOverage: true})
		if err != nil {
			t.Fatal(err)
		}
		runCases(t, overage, []mapCase{{
			name: "group overage allowed and flagged",
			claims: `{"iss":"https://login.microsoftonline.com/` + tidA + `/v2.0","azp":"c","oid":"o","sub":"s","tid":"` + tidA + `",
				"scp":"a","_claim_names":{"groups":"src1"},"_claim_sources":{"src1":{"endpoint":"https://graph.microsoft.com/x"}}}`,
			kind: core.PrincipalUser, sub: "o", client: "c", tenant: tidA, scopes: []string{"a"},
			attrs: map[string]any{"groups_overage": true},
		}})
		any, err := Entra(EntraConfig{AllowAnyTenant: true})
		if err != nil {
			t.Fatal(err)
		}
		runCases(t, any, []mapCase{{
			name:   "any tenant, issuer still bound",
			claims: `{"iss":"https://login.microsoftonline.com/` + tidB + `/v2.0","azp":"c","oid":"o","sub":"s","tid":"` + tidB + `","scp":"a"}`,
			kind:   core.PrincipalUser, sub: "o", client: "c", tenant: tidB, scopes: []string{"a"},
		}, {
			name:    "any tenant, foreign issuer",
			claims:  `{"iss":"https://login.microsoftonline.com/` + tidA + `/v2.0","azp":"c","oid":"o","sub":"s","tid":"` + tidB + `","scp":"a"}`,
			wantErr: true,
		}})
	})
}

func TestKeycloak(t *testing.T) {
	t.Parallel()
	m, err := Keycloak(KeycloakConfig{ClientRoles: []string{"mcp-server", "api.v2"}})
	if err != nil {
		t.Fatal(err)
	}
	const kiss = "https://sso.example.com/realms/acme"
	runCases(t, m, []mapCase{
		{
			name: "user token",
			claims: `{"exp":1767229200,"iat":1767225600,"jti":"j","iss":"https://sso.example.com/realms/acme","aud":["mcp-server","account"],
				"sub":"f:1b2c:alice","typ":"Bearer","azp":"mcp-client","session_state":"s","acr":"1",
				"realm_access":{"roles":["offline_access","default-roles-acme","admin"]},
				"resource_access":{"mcp-server":{"roles":["tool-user","admin"]},"account":{"roles":["manage-account"]},"api.v2":{"roles":["r",3]}},
				"scope":"openid profile email","email_verified":true,"preferred_username":"alice","email":"alice@example.com",
				"groups":["/eng","/eng/platform"]}`,
			kind: core.PrincipalUser, id: "user:" + kiss + "||f:1b2c:alice", sub: "f:1b2c:alice", client: "mcp-client",
			scopes: []string{"openid", "profile", "email"}, groups: []string{"/eng", "/eng/platform"},
			roles: []string{"offline_access", "default-roles-acme", "admin", "mcp-server:tool-user", "mcp-server:admin", "api.v2:r"},
			attrs: map[string]any{"preferred_username": "alice", "email": "alice@example.com", "acr": "1"},
		},
		{
			name: "service account token",
			claims: `{"iss":"https://sso.example.com/realms/acme","aud":"mcp-server","sub":"5e6f-sa","typ":"Bearer","azp":"billing-bot",
				"scope":"mcp:tools","client_id":"billing-bot","preferred_username":"service-account-billing-bot",
				"realm_access":{"roles":["robot"]}}`,
			kind: core.PrincipalClient, id: "client:" + kiss + "|billing-bot", sub: "5e6f-sa", client: "billing-bot",
			scopes: []string{"mcp:tools"}, roles: []string{"robot"},
		},
		{
			name: "older server clientId claim",
			claims: `{"iss":"https://sso.example.com/realms/acme","sub":"5e6f-sa","azp":"Bot","clientId":"Bot",
				"preferred_username":"service-account-bot"}`,
			kind: core.PrincipalClient, sub: "5e6f-sa", client: "Bot",
		},
		{
			name: "user named after a service account, token of another client, stays a user",
			claims: `{"iss":"https://sso.example.com/realms/acme","sub":"u-2","azp":"web","client_id":"billing-bot",
				"preferred_username":"service-account-billing-bot"}`,
			kind: core.PrincipalUser, sub: "u-2", client: "billing-bot",
		},
		{
			name: "service-account markers without azp stay a user",
			claims: `{"iss":"https://sso.example.com/realms/acme","sub":"u-3","client_id":"billing-bot",
				"preferred_username":"service-account-billing-bot"}`,
			kind: core.PrincipalUser, sub: "u-3", client: "billing-bot",
		},
		{
			name: "user token that also carries client_id stays a user",
			claims: `{"iss":"https://sso.example.com/realms/acme","sub":"u-1","azp":"web","client_id":"web",
				"preferred_username":"alice"}`,
			kind: core.PrincipalUser, sub: "u-1", client: "web",
		},
		{
			name:   "realm_access is not an object",
			claims: `{"iss":"https://sso.example.com/realms/acme","sub":"u","azp":"web","realm_access":["admin"],"resource_access":7}`,
			kind:   core.PrincipalUser, sub: "u", client: "web",
		},
	})
	if _, err := Keycloak(KeycloakConfig{ClientRoles: []string{""}}); err == nil {
		t.Error("Keycloak accepted an empty client id")
	}
}

func TestAuth0(t *testing.T) {
	t.Parallel()
	m, err := Auth0(Auth0Config{Namespace: "https://mcp.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	const aiss = "https://acme.us.auth0.com/"
	runCases(t, m, []mapCase{
		{
			name: "user token with RBAC permissions",
			claims: `{"iss":"https://acme.us.auth0.com/","sub":"auth0|64f1","aud":["https://mcp.example.com/mcp","https://acme.us.auth0.com/userinfo"],
				"iat":1767225600,"exp":1767229200,"azp":"Xc9aBcD","scope":"openid profile","permissions":["call:deploy","read:docs"],
				"https://mcp.example.com/roles":["deployer"],"https://mcp.example.com/groups":["eng"],"https://mcp.example.com/email":"a@x.com"}`,
			kind: core.PrincipalUser, id: "user:" + aiss + `||auth0\|64f1`, sub: "auth0|64f1", client: "Xc9aBcD",
			scopes: []string{"openid", "profile", "call:deploy", "read:docs"}, roles: []string{"deployer"}, groups: []string{"eng"},
			attrs: map[string]any{"email": "a@x.com"},
		},
		{
			name: "client-credentials token",
			claims: `{"iss":"https://acme.us.auth0.com/","sub":"Xc9aBcD@clients","aud":"https://mcp.example.com/mcp","iat":1767225600,
				"exp":1767229200,"azp":"Xc9aBcD","scope":"call:deploy","gty":"client-credentials","permissions":["call:deploy"]}`,
			kind: core.PrincipalClient, id: "client:" + aiss + "|Xc9aBcD", sub: "Xc9aBcD@clients", client: "Xc9aBcD",
			scopes: []string{"call:deploy"},
		},
		{
			name:   "un-namespaced roles are ignored",
			claims: `{"iss":"https://acme.us.auth0.com/","sub":"auth0|1","azp":"c","roles":["admin"]}`,
			kind:   core.PrincipalUser, sub: "auth0|1", client: "c",
		},
		{
			name: "RFC 9068 profile client-credentials token (client_id, no gty)",
			claims: `{"iss":"https://acme.us.auth0.com/","sub":"Xc9aBcD@clients","aud":"https://mcp.example.com/mcp","iat":1767225600,
				"exp":1767229200,"client_id":"Xc9aBcD","jti":"73WakrfVbNJBaAmhQtEeDv","scope":"call:deploy"}`,
			kind: core.PrincipalClient, id: "client:" + aiss + "|Xc9aBcD", sub: "Xc9aBcD@clients", client: "Xc9aBcD",
			scopes: []string{"call:deploy"},
		},
		{
			name:   "@clients subject of another client stays a user",
			claims: `{"iss":"https://acme.us.auth0.com/","sub":"Other@clients","client_id":"Xc9aBcD"}`,
			kind:   core.PrincipalUser, id: "user:" + aiss + "||Other@clients", sub: "Other@clients", client: "Xc9aBcD",
		},
		{
			name:    "gty client-credentials without client id",
			claims:  `{"iss":"https://acme.us.auth0.com/","sub":"x@clients","gty":"client-credentials"}`,
			wantErr: true,
		},
	})
}

func TestGoogle(t *testing.T) {
	t.Parallel()
	m, err := Google(GoogleConfig{HostedDomains: []string{"example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	const giss = "https://accounts.google.com"
	user := func(extra string) string {
		return `{"iss":"https://accounts.google.com","azp":"1234.apps.googleusercontent.com","aud":"1234.apps.googleusercontent.com",
			"sub":"110169484474386276334","iat":1767225600,"exp":1767229200` + extra + `}`
	}
	runCases(t, m, []mapCase{
		{
			name:   "workspace user",
			claims: user(`,"email":"alice@example.com","email_verified":true,"hd":"example.com"`),
			kind:   core.PrincipalUser, id: "user:" + giss + "||110169484474386276334", sub: "110169484474386276334",
			client: "1234.apps.googleusercontent.com",
			attrs:  map[string]any{"email": "alice@example.com", "email_verified": true, "hd": "example.com"},
		},
		{
			name:   "tokeninfo string true",
			claims: user(`,"email":"alice@example.com","email_verified":"true","hd":"EXAMPLE.com"`),
			kind:   core.PrincipalUser, sub: "110169484474386276334", client: "1234.apps.googleusercontent.com",
		},
		{name: "consumer account", claims: user(`,"email":"bob@gmail.com","email_verified":true`), wantErr: true},
		{name: "other domain", claims: user(`,"email":"c@other.com","email_verified":true,"hd":"other.com"`), wantErr: true},
		{name: "unverified email", claims: user(`,"email":"alice@example.com","email_verified":false,"hd":"example.com"`), wantErr: true},
		{name: "email_verified string false", claims: user(`,"email":"alice@example.com","email_verified":"false","hd":"example.com"`), wantErr: true},
		{name: "no email", claims: user(`,"email_verified":true,"hd":"example.com"`), wantErr: true},
		{name: "hd not a string", claims: user(`,"email":"a@example.com","email_verified":true,"hd":["example.com"]`), wantErr: true},
		{
			// Google's token endpoint (JWT-bearer with target_audience)
			// issues service-account ID tokens whose azp is the email.
			name: "service account with email azp rejected by default",
			claims: `{"iss":"https://accounts.google.com","azp":"bot@proj.iam.gserviceaccount.com","sub":"117734","aud":"https://mcp.example.com/mcp",
				"email":"bot@proj.iam.gserviceaccount.com","email_verified":true}`,
			wantErr: true,
		},
		{
			name: "service account with a web client's azp rejected by default",
			claims: `{"iss":"https://accounts.google.com","azp":"1234.apps.googleusercontent.com","sub":"117734",
				"email":"Bot@Proj.IAM.GServiceAccount.com","email_verified":true}`,
			wantErr: true,
		},
		{
			name: "compute default service account rejected by default",
			claims: `{"iss":"https://accounts.google.com","azp":"117734@x","sub":"117734",
				"email":"123-compute@developer.gserviceaccount.com","email_verified":true}`,
			wantErr: true,
		},
		{
			name:   "lookalike domain stays a user",
			claims: user(`,"email":"a@gserviceaccount.com.example.com","email_verified":true,"hd":"example.com"`),
			kind:   core.PrincipalUser, sub: "110169484474386276334", client: "1234.apps.googleusercontent.com",
		},
		{
			name: "service account rejected by default",
			claims: `{"iss":"https://accounts.google.com","azp":"117734","sub":"117734","aud":"https://mcp.example.com/mcp",
				"email":"bot@proj.iam.gserviceaccount.com","email_verified":true}`,
			wantErr: true,
		},
	})
	sa, err := Google(GoogleConfig{AllowServiceAccounts: true})
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, sa, []mapCase{{
		name: "service account allowed",
		claims: `{"iss":"https://accounts.google.com","azp":"117734","sub":"117734","aud":"https://mcp.example.com/mcp",
			"email":"bot@proj.iam.gserviceaccount.com","email_verified":true}`,
		kind: core.PrincipalClient, id: "client:" + giss + "|117734", sub: "117734", client: "117734",
	}, {
		name: "service account with email azp is a client",
		claims: `{"iss":"https://accounts.google.com","azp":"bot@proj.iam.gserviceaccount.com","sub":"117734","aud":"https://mcp.example.com/mcp",
			"email":"bot@proj.iam.gserviceaccount.com","email_verified":true}`,
		kind: core.PrincipalClient, id: "client:" + giss + "|bot@proj.iam.gserviceaccount.com", sub: "117734",
		client: "bot@proj.iam.gserviceaccount.com",
	}, {
		name: "appspot service account is a client",
		claims: `{"iss":"https://accounts.google.com","azp":"1234.apps.googleusercontent.com","sub":"117735",
			"email":"proj@appspot.gserviceaccount.com","email_verified":true}`,
		kind: core.PrincipalClient, sub: "117735", client: "1234.apps.googleusercontent.com",
	}, {
		name:   "consumer account allowed without HostedDomains",
		claims: user(`,"email":"bob@gmail.com","email_verified":true`),
		kind:   core.PrincipalUser, sub: "110169484474386276334", client: "1234.apps.googleusercontent.com",
	}})
	// Without HostedDomains nothing else stops a service account taken
	// for a person: the default refuses it as a client.
	plain, err := Google(GoogleConfig{})
	if err != nil {
		t.Fatal(err)
	}
	runCases(t, plain, []mapCase{{
		name: "default config refuses an email-azp service account",
		claims: `{"iss":"https://accounts.google.com","azp":"bot@proj.iam.gserviceaccount.com","sub":"117734",
			"email":"bot@proj.iam.gserviceaccount.com","email_verified":true}`,
		wantErr: true,
	}})
	if _, err := Google(GoogleConfig{HostedDomains: []string{""}}); err == nil {
		t.Error("Google accepted an empty domain")
	}
}

// TestPrincipalNamespaces checks that the same name as user and as client
// gives different principal ids under every preset that can produce both.
func TestPrincipalNamespaces(t *testing.T) {
	t.Parallel()
	m, err := Standard(Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	u, err := m.MapClaims(ctx, mustClaims(t, `{"iss":"i","sub":"alice","client_id":"web"}`))
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.MapClaims(ctx, mustClaims(t, `{"iss":"i","sub":"alice","client_id":"alice"}`))
	if err != nil {
		t.Fatal(err)
	}
	if u.ID() == c.ID() || u.SubjectName() == c.SubjectName() {
		t.Fatalf("collision: %s / %s", u.ID(), c.ID())
	}
}

// TestPrincipalIDsAcrossIssuers: with two IdPs configured, the same subject
// (and the same client id) issued by each never merges into one principal
// ID: the ID carries the issuer, whatever preset maps the token.
func TestPrincipalIDsAcrossIssuers(t *testing.T) {
	t.Parallel()
	kc, err := Keycloak(KeycloakConfig{})
	if err != nil {
		t.Fatal(err)
	}
	std, err := Standard(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		m      *Mapper
		a, b   string // the same token from two issuers
		client bool
	}{
		{"keycloak realms, user", kc,
			`{"iss":"https://sso.example.com/realms/a","sub":"f00","client_id":"web"}`,
			`{"iss":"https://sso.example.com/realms/b","sub":"f00","client_id":"web"}`, false},
		{"keycloak realms, service account", kc,
			`{"iss":"https://sso.example.com/realms/a","sub":"s","azp":"bot","client_id":"bot","preferred_username":"service-account-bot"}`,
			`{"iss":"https://sso.example.com/realms/b","sub":"s","azp":"bot","client_id":"bot","preferred_username":"service-account-bot"}`, true},
		{"issuer differing by a trailing slash", std,
			`{"iss":"https://idp.example","sub":"alice","client_id":"web"}`,
			`{"iss":"https://idp.example/","sub":"alice","client_id":"web"}`, false},
		{"issuer containing the separator", std,
			`{"iss":"https://a.example|x","sub":"alice","client_id":"web"}`,
			`{"iss":"https://a.example","sub":"x|alice","client_id":"web"}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pa, err := tc.m.MapClaims(t.Context(), mustClaims(t, tc.a))
			if err != nil {
				t.Fatal(err)
			}
			pb, err := tc.m.MapClaims(t.Context(), mustClaims(t, tc.b))
			if err != nil {
				t.Fatal(err)
			}
			if (pa.Kind == core.PrincipalClient) != tc.client || pa.Kind != pb.Kind {
				t.Fatalf("kinds %s/%s", pa.Kind, pb.Kind)
			}
			if pa.ID() == pb.ID() {
				t.Fatalf("two issuers merged into one principal %q", pa.ID())
			}
		})
	}
}
