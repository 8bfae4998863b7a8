package authserver_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"log"
	"net/http/httptest"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/mcpauthz/mcpauthz/authserver"
)

func ExampleNew() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	hash, err := authserver.HashSecret("reporting-agent-secret-0123456789")
	if err != nil {
		log.Fatal(err)
	}
	as, err := authserver.New(authserver.Config{
		Issuer:      "https://mcp.example.com/oauth",
		Resources:   []authserver.Resource{{ID: "https://mcp.example.com/mcp", Scopes: []string{"mcp:tools"}}},
		SigningKeys: []authserver.SigningKey{{Signer: key, KeyID: "as-2026-01"}},
		Clients: []authserver.Client{{
			ID:         "reporting-agent",
			SecretHash: hash,
			GrantTypes: []string{authserver.GrantClientCredentials},
			Scopes:     []string{"mcp:tools"},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(as.TokenEndpoint())
	for _, p := range as.Routes() {
		fmt.Println(p)
	}
	// Output:
	// https://mcp.example.com/oauth/token
	// /.well-known/oauth-authorization-server/oauth
	// /.well-known/openid-configuration/oauth
	// /oauth/.well-known/openid-configuration
	// /oauth/authorize
	// /oauth/jwks.json
	// /oauth/token
}

// A client_credentials client (golang.org/x/oauth2) against the server on a
// loopback listener. The client sends no "resource": the token is issued for
// the default resource.
func ExampleServer_clientCredentials() {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	const secret = "reporting-agent-secret-0123456789"
	hash, _ := authserver.HashSecret(secret)
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	as, err := authserver.New(authserver.Config{
		Issuer:      issuer,
		Resources:   []authserver.Resource{{ID: "https://mcp.example.com/mcp", Scopes: []string{"mcp:tools", "mcp:admin"}}},
		SigningKeys: []authserver.SigningKey{{Signer: key}},
		Clients: []authserver.Client{{
			ID: "reporting-agent", SecretHash: hash,
			GrantTypes: []string{authserver.GrantClientCredentials}, Scopes: []string{"mcp:tools"},
		}},
	})
	if err != nil {
		log.Fatal(err)
	}
	srv.Config.Handler = as
	srv.Start()
	defer srv.Close()

	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		cc := clientcredentials.Config{
			ClientID: "reporting-agent", ClientSecret: secret,
			TokenURL: as.TokenEndpoint(), AuthStyle: style,
		}
		tok, err := cc.Token(context.Background())
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(tok.TokenType, tok.Extra("scope"), strings.Count(tok.AccessToken, "."))
	}
	// Output:
	// Bearer mcp:tools 2
	// Bearer mcp:tools 2
}

func ExampleHashSecret() {
	h, err := authserver.HashSecret("a-long-random-client-secret-0123")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(strings.HasPrefix(h, "sha256$"), strings.Count(h, "$"))
	// Output: true 2
}
