package authserver_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"log"

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
