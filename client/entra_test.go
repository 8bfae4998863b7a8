package client

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// entraAppIDURI is the Application ID URI of the fake Entra tenant's API
// registration; entraAPIClientID its application (client) id.
const (
	entraAppIDURI     = "api://mcp-server"
	entraAPIClientID  = "6e74172b-be56-4843-9ff4-e66a39bb12e3"
	entraTraceSuffix  = " Trace ID: 0b6d1c2e-8f3a-4a51-9d0e-1f2a3b4c5d00 Correlation ID: 7c9e2f10-3b4d-4e5f-8a6b-7c8d9e0f1a2b Timestamp: 2026-12-03 11:00:00Z"
	entraInvalidScope = "AADSTS1002012: The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
)

// entraToken is a token endpoint with the rules Microsoft Entra ID applies
// to client credentials, answering with its response shapes: v2
// (/oauth2/v2.0/token) names the API in the scope ("<resource>/.default")
// and refuses a "resource" that is not that scope's resource; v1
// (/oauth2/token) ignores "scope" and needs "resource", answering
// expires_in as a string. The API is known by entraAppIDURI or
// entraAPIClientID, and extra are further identifiers (an Application ID
// URI that is the MCP URL).
func entraToken(v2 bool, extra ...string) func(recorded) (int, any) {
	known := func(r string) bool {
		for _, k := range append([]string{entraAppIDURI, entraAPIClientID}, extra...) {
			if r == k {
				return true
			}
		}
		return false
	}
	return func(r recorded) (int, any) {
		if r.Form.Get("grant_type") != "client_credentials" {
			return 400, map[string]string{"error": "unsupported_grant_type"}
		}
		resource, hasResource := r.Form.Get("resource"), r.Form.Has("resource")
		if !v2 {
			if !known(resource) {
				return 400, map[string]string{"error": "invalid_resource", "error_description": "AADSTS500011: The resource principal named " +
					resource + " was not found in the tenant." + entraTraceSuffix}
			}
			return 200, map[string]any{"token_type": "Bearer", "expires_in": "3599", "ext_expires_in": "3599",
				"expires_on": "1796302799", "not_before": "1796299199", "resource": resource, "access_token": "v1-token"}
		}
		scope := r.Form.Get("scope")
		api, ok := strings.CutSuffix(scope, "/.default")
		if !ok || strings.Contains(scope, " ") {
			return 400, map[string]string{"error": "invalid_scope", "error_description": strings.Replace(entraInvalidScope, "%s", scope, 1) + entraTraceSuffix}
		}
		if hasResource && resource != api {
			return 400, map[string]string{"error": "invalid_target", "error_description": "AADSTS9010010: The resource parameter provided in the request doesn't match with the requested scopes." + entraTraceSuffix}
		}
		if !known(api) {
			return 400, map[string]string{"error": "invalid_resource", "error_description": "AADSTS500011: The resource principal named " +
				api + " was not found in the tenant." + entraTraceSuffix}
		}
		return 200, map[string]any{"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": "v2-token"}
	}
}

// Client credentials against Microsoft Entra ID's v2.0 and v1 token
// endpoints: which resource parameter works with which, and the errors
// that say what to set when it does not.
func TestEntraTokenEndpoints(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_796_299_200, 0)
	tests := []struct {
		name       string
		v2         bool
		mcpURLAPI  bool // the API's Application ID URI is the MCP URL
		resource   ResourceParameter
		value      string
		scopes     func(mcpURL string) []string
		wantForm   map[string]string // "" = absent
		wantOAuth  string
		wantHint   bool // the error says to set ResourceOmit
		wantErr    error
		wantCalls  int
		wantExpiry time.Duration
	}{
		{
			name: "v2: the MCP resource next to the API's scope is refused, with a hint", v2: true,
			scopes:    func(string) []string { return []string{entraAppIDURI + "/.default"} },
			wantOAuth: "invalid_target", wantHint: true, wantCalls: 1,
		},
		{
			name: "v2: ResourceOmit with the .default scope", v2: true, resource: ResourceOmit,
			scopes:   func(string) []string { return []string{entraAppIDURI + "/.default"} },
			wantForm: map[string]string{"resource": "", "scope": entraAppIDURI + "/.default"}, wantCalls: 1, wantExpiry: 3599 * time.Second,
		},
		{
			name: "v2: ResourceOmit with a delegated scope: Entra's own error, no hint", v2: true, resource: ResourceOmit,
			scopes:    func(string) []string { return []string{entraAppIDURI + "/mcp.tools"} },
			wantOAuth: "invalid_scope", wantCalls: 1,
		},
		{
			name: "v2: ResourceOmit without a scope fails before sending", v2: true, resource: ResourceOmit,
			scopes:  func(string) []string { return nil },
			wantErr: ErrConfig,
		},
		{
			name: "v2: the MCP resource is accepted when it is the API's Application ID URI", v2: true, mcpURLAPI: true,
			scopes:   func(u string) []string { return []string{u + "/.default"} },
			wantForm: map[string]string{"resource": "<mcp>"}, wantCalls: 1, wantExpiry: 3599 * time.Second,
		},
		{
			name: "v1: ResourceExplicit with the Application ID URI (expires_in as a string)", resource: ResourceExplicit, value: entraAppIDURI,
			scopes:   func(string) []string { return nil },
			wantForm: map[string]string{"resource": entraAppIDURI, "scope": ""}, wantCalls: 1, wantExpiry: 3599 * time.Second,
		},
		{
			name: "v1: ResourceExplicit with the API's application (client) id", resource: ResourceExplicit, value: entraAPIClientID,
			scopes:   func(string) []string { return nil },
			wantForm: map[string]string{"resource": entraAPIClientID, "scope": ""}, wantCalls: 1, wantExpiry: 3599 * time.Second,
		},
		{
			name: "v2: ResourceExplicit with the client id, the scope naming the same", v2: true, resource: ResourceExplicit, value: entraAPIClientID,
			scopes:   func(string) []string { return []string{entraAPIClientID + "/.default"} },
			wantForm: map[string]string{"resource": entraAPIClientID, "scope": entraAPIClientID + "/.default"}, wantCalls: 1, wantExpiry: 3599 * time.Second,
		},
		{
			name:      "v1: the MCP resource is not the API: Entra's error, no hint",
			scopes:    func(string) []string { return nil },
			wantOAuth: "invalid_resource", wantCalls: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var as *fakeAS
			var mcpURL string
			as = newFakeAS(t, func(r recorded) (int, any) {
				var extra []string
				if tc.mcpURLAPI {
					extra = append(extra, mcpURL)
				}
				return entraToken(tc.v2, extra...)(r)
			})
			rs := newFakeRS(t, as.srv.URL)
			mcpURL = rs.url()
			g, err := NewClientCredentials(ClientCredentialsConfig{
				Credentials: Credentials{ClientID: "4f0c2a9e-1b7d-4c3e-9a55-0d1e2f3a4b5c", ClientSecret: "s3cret", Method: AuthClientSecretPost},
				Resource:    tc.resource, ResourceValue: tc.value, Now: func() time.Time { return now },
			})
			if err != nil {
				t.Fatal(err)
			}
			a := mustNew(t, Config{ServerURL: mcpURL, Grant: g, Scopes: tc.scopes(mcpURL), Now: func() time.Time { return now }})
			err = a.Authorize(context.Background())
			switch {
			case tc.wantOAuth != "":
				var oe *OAuthError
				if !errors.As(err, &oe) || oe.Code != tc.wantOAuth {
					t.Fatalf("err = %v, want OAuthError %s", err, tc.wantOAuth)
				}
				if hint := strings.Contains(err.Error(), "ResourceOmit"); hint != tc.wantHint {
					t.Errorf("err = %v: hint %v, want %v", err, hint, tc.wantHint)
				}
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			default:
				tok, err := a.Token(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if got := tok.Expiry.Sub(now); got != tc.wantExpiry {
					t.Errorf("expiry in %v, want %v", got, tc.wantExpiry)
				}
			}
			reqs := as.rec.all()
			if len(reqs) != tc.wantCalls {
				t.Fatalf("token requests = %d, want %d", len(reqs), tc.wantCalls)
			}
			for k, want := range tc.wantForm {
				if want == "<mcp>" {
					want = mcpURL
				}
				if got := reqs[0].Form.Get(k); got != want || (want == "") == reqs[0].Form.Has(k) {
					t.Errorf("form %s = %q (present %v), want %q", k, got, reqs[0].Form.Has(k), want)
				}
			}
		})
	}
}

func TestResourceParameterConfig(t *testing.T) {
	t.Parallel()
	creds := Credentials{ClientID: "c", ClientSecret: "s"}
	tests := []struct {
		name     string
		resource ResourceParameter
		value    string
		ok       bool
	}{
		{"default", ResourceFromMetadata, "", true},
		{"omit", ResourceOmit, "", true},
		{"explicit api URI", ResourceExplicit, "api://mcp-server", true},
		{"explicit client id GUID (Entra)", ResourceExplicit, entraAPIClientID, true},
		{"explicit client id GUID, upper case", ResourceExplicit, strings.ToUpper(entraAPIClientID), true},
		{"explicit api://<client id>", ResourceExplicit, "api://00000000-1111-2222-3333-444444444444", true},
		{"explicit Microsoft Graph's app id", ResourceExplicit, "00000003-0000-0000-c000-000000000000", true},
		{"explicit GUID in braces", ResourceExplicit, "{" + entraAPIClientID + "}", false},
		{"explicit GUID without hyphens", ResourceExplicit, strings.ReplaceAll(entraAPIClientID, "-", ""), false},
		{"explicit GUID, one digit short", ResourceExplicit, entraAPIClientID[:35], false},
		{"explicit GUID, not hex", ResourceExplicit, "6e74172b-be56-4843-9ff4-e66a39bb12eg", false},
		{"explicit GUID with the .default suffix (a scope)", ResourceExplicit, entraAPIClientID + "/.default", false},
		{"explicit GUID with spaces", ResourceExplicit, " " + entraAPIClientID, false},
		{"explicit bare word", ResourceExplicit, "mcp-server", false},
		{"explicit URN", ResourceExplicit, "urn:example:api", true},
		{"explicit empty", ResourceExplicit, "", false},
		{"explicit fragment", ResourceExplicit, "https://mcp.example.com/mcp#x", false},
		{"explicit relative", ResourceExplicit, "/mcp", false},
		{"value without explicit", ResourceFromMetadata, "api://mcp-server", false},
		{"value with omit", ResourceOmit, "api://mcp-server", false},
		{"unknown mode", ResourceParameter(9), "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewClientCredentials(ClientCredentialsConfig{Credentials: creds, Resource: tc.resource, ResourceValue: tc.value})
			if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrConfig) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
