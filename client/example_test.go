package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"github.com/mcpauthz/mcpauthz/core/mcpext"
	"log"
	"net/http"
	"os"
	"sort"

	"github.com/mcpauthz/mcpauthz/client"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func ExampleParseBearerChallenge() {
	h := http.Header{}
	h.Set("WWW-Authenticate", `Bearer error="insufficient_scope", scope="mcp:tools mcp:write", `+
		`resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`)
	bc, err := client.ParseBearerChallenge(h)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(bc.Error)
	fmt.Println(bc.Scope)
	fmt.Println(bc.ResourceMetadata)
	// Output:
	// insufficient_scope
	// [mcp:tools mcp:write]
	// https://mcp.example.com/.well-known/oauth-protected-resource/mcp
}

func ExampleWithExtensions() {
	caps := client.WithExtensions(nil,
		mcpext.EnterpriseManagedAuthorization, mcpext.OAuthClientCredentials)
	var ids []string
	for id := range caps.Extensions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	fmt.Println(ids)
	// Output:
	// [io.modelcontextprotocol/enterprise-managed-authorization io.modelcontextprotocol/oauth-client-credentials]
}

// A machine client with private_key_jwt, connected with the go-sdk
// streamable transport through the authorizing HTTP client.
func ExampleNewClientCredentials() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // normally loaded from a key store
	if err != nil {
		log.Fatal(err)
	}
	grant, err := client.NewClientCredentials(client.ClientCredentialsConfig{
		Credentials: client.Credentials{
			ClientID: "reporting-service",
			Key:      key,
			KeyID:    "reporting-2026-01",
			Issuer:   "https://auth.example.com", // credentials are never sent elsewhere
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	const server = "https://mcp.example.com/mcp"
	authz, err := client.New(client.Config{ServerURL: server, Grant: grant})
	if err != nil {
		log.Fatal(err)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "reporting", Version: "1.0.0"},
		&mcp.ClientOptions{Capabilities: client.WithExtensions(nil, mcpext.OAuthClientCredentials)})
	transport := &mcp.StreamableClientTransport{Endpoint: server, HTTPClient: authz.HTTPClient(nil)}
	_ = c
	_ = transport // c.Connect(ctx, transport, nil) discovers, authorizes and connects
	fmt.Println("configured")
	// Output: configured
}

// Enterprise-Managed Authorization with an interactive IdP login, plugged
// into go-sdk through its OAuthHandler interface.
func ExampleNewEnterpriseManaged() {
	login, err := client.NewOIDCLogin(client.OIDCLoginConfig{
		Issuer:   "https://idp.example.com",
		ClientID: "desktop-agent",
		OpenBrowser: func(ctx context.Context, authURL string) error {
			_, err := fmt.Fprintln(os.Stderr, "Open this URL to sign in:", authURL)
			return err
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	grant, err := client.NewEnterpriseManaged(client.EnterpriseManagedConfig{
		IDTokens: login,
		IdP: client.IdPConfig{
			Issuer:      "https://idp.example.com",
			Credentials: client.Credentials{ClientID: "desktop-agent"},
		},
		Credentials:          client.Credentials{ClientID: "agent-at-mcp-as", ClientSecret: os.Getenv("AS_SECRET")},
		AccessTokenScopeMode: client.ScopeOmit, // let the AS use the ID-JAG's scopes
	})
	if err != nil {
		fmt.Println("config error:", err)
		return
	}
	authz, err := client.New(client.Config{ServerURL: "https://mcp.example.com/mcp", Grant: grant})
	if err != nil {
		log.Fatal(err)
	}
	_ = &mcp.StreamableClientTransport{Endpoint: "https://mcp.example.com/mcp", OAuthHandler: authz.OAuthHandler()}
}

// Reacting to challenges by hand, for HTTP stacks that cannot use Transport.
func ExampleAuthorizer_HandleUnauthorized() {
	grant, _ := client.NewClientCredentials(client.ClientCredentialsConfig{
		Credentials: client.Credentials{ClientID: "svc", ClientSecret: "secret"},
	})
	authz, _ := client.New(client.Config{ServerURL: "https://mcp.example.com/mcp", Grant: grant})
	var resp *http.Response // a 401 from the server
	if resp != nil && resp.StatusCode == http.StatusUnauthorized {
		if err := authz.HandleUnauthorized(context.Background(), resp.Header, ""); err != nil {
			log.Fatal(err)
		}
		tok, _ := authz.Token(context.Background())
		_ = tok.AccessToken // resend with "Authorization: Bearer " + tok.AccessToken
	}
}
