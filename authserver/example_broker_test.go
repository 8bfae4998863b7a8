package authserver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// A broker: MCP clients (here a pre-registered public client with a
// loopback redirect URI) log in with the authorization code flow; users
// authenticate at the enterprise IdP; members of "eng" may use mcp:tools.
func ExampleBroker() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	as, err := authserver.New(authserver.Config{
		Issuer:      "https://mcp.example.com/oauth",
		Resources:   []authserver.Resource{{ID: "https://mcp.example.com/mcp", Scopes: []string{"mcp:tools"}}},
		SigningKeys: []authserver.SigningKey{{Signer: key}},
		Clients: []authserver.Client{{
			ID:           "vscode",
			Name:         "VS Code",
			AuthMethods:  []string{authserver.AuthNone},
			GrantTypes:   []string{authserver.GrantAuthorizationCode, authserver.GrantRefreshToken},
			RedirectURIs: []string{"http://127.0.0.1/callback"},
			Scopes:       []string{"mcp:tools"},
		}},
		Broker: &authserver.Broker{
			Upstream: authserver.Upstream{
				Issuer:   "https://login.example.com",
				ClientID: "mcp-as", // redirect URI at the IdP: https://mcp.example.com/oauth/callback
				Claims:   map[string]string{"groups": "groups"},
			},
			Access: []authserver.AccessRule{{Group: "eng", Resource: "https://mcp.example.com/mcp", Scopes: []string{"mcp:tools"}}},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range as.Routes() {
		fmt.Println(p)
	}
	// Output:
	// /.well-known/oauth-authorization-server/oauth
	// /.well-known/openid-configuration/oauth
	// /oauth/.well-known/openid-configuration
	// /oauth/authorize
	// /oauth/callback
	// /oauth/consent
	// /oauth/jwks.json
	// /oauth/token
}

// Dynamic registration and Client ID Metadata Documents: MCP clients
// without a pre-registered client id register themselves (loopback
// redirect URIs only, public clients) or name an https metadata document
// as their client_id.
func ExampleRegistration() {
	as, err := authserver.New(authserver.Config{
		Issuer:         "https://mcp.example.com/oauth",
		Resources:      []authserver.Resource{{ID: "https://mcp.example.com/mcp", Scopes: []string{"mcp:tools"}}},
		DevGenerateKey: true,
		Broker: &authserver.Broker{
			Upstream: authserver.Upstream{Issuer: "https://login.example.com", ClientID: "mcp-as"},
			Access:   []authserver.AccessRule{{Group: "eng", Resource: "https://mcp.example.com/mcp", Scopes: []string{"mcp:tools"}}},
		},
		Registration:            &authserver.Registration{LoopbackRedirects: true},
		ClientMetadataDocuments: &authserver.ClientMetadataDocuments{AllowHosts: []string{"*.example.com"}},
		Logger:                  slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	body := `{"redirect_uris":["http://127.0.0.1/callback"],"client_name":"My Agent","token_endpoint_auth_method":"none"}`
	req := httptest.NewRequest(http.MethodPost, "https://mcp.example.com/oauth/register", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	as.ServeHTTP(w, req)
	var reg struct {
		ClientID string `json:"client_id"`
		Method   string `json:"token_endpoint_auth_method"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &reg)
	fmt.Println(w.Code, strings.HasPrefix(reg.ClientID, "dcr-"), reg.Method)
	// Output:
	// 201 true none
}
