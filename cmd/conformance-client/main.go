// Command conformance-client is the client under test for the official MCP
// conformance suite's authorization extension scenarios
// (auth/client-credentials-basic, auth/client-credentials-jwt,
// auth/enterprise-managed-authorization). The runner starts it as
//
//	conformance-client <server-url>
//
// with MCP_CONFORMANCE_SCENARIO and MCP_CONFORMANCE_CONTEXT (JSON) in the
// environment. It authorizes with package client, connects with the go-sdk
// streamable HTTP transport, lists the tools and calls the first one.
// It exits 0 on success, 1 on failure and 2 on a usage error. Secrets from
// the context are never printed.
package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/mcpauthz/mcpauthz/core/mcpext"
	"log/slog"
	"os"
	"time"

	"github.com/mcpauthz/mcpauthz/client"
	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// scenarioContext is the MCP_CONFORMANCE_CONTEXT document (the union of the
// fields used by the auth scenarios; other members are ignored).
type scenarioContext struct {
	Name             string `json:"name"`
	ClientID         string `json:"client_id"`
	ClientSecret     string `json:"client_secret"`
	PrivateKeyPEM    string `json:"private_key_pem"`
	SigningAlgorithm string `json:"signing_algorithm"`
	IdPClientID      string `json:"idp_client_id"`
	IdPClientSecret  string `json:"idp_client_secret"`
	IdPIDToken       string `json:"idp_id_token"`
	IdPIssuer        string `json:"idp_issuer"`
	IdPTokenEndpoint string `json:"idp_token_endpoint"`
	ExpectedIssuer   string `json:"expected_issuer"`
	Scope            string `json:"scope"`
}

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: conformance-client <server-url>")
		os.Exit(2)
	}
	serverURL := os.Args[len(os.Args)-1]
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := run(ctx, log, serverURL, os.Getenv("MCP_CONFORMANCE_SCENARIO"), os.Getenv("MCP_CONFORMANCE_CONTEXT")); err != nil {
		log.Error("conformance client failed", "error", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger, serverURL, scenario, rawCtx string) error {
	var sc scenarioContext
	if rawCtx != "" {
		if err := jsonscan.Validate([]byte(rawCtx), jsonscan.Options{}); err != nil {
			return fmt.Errorf("MCP_CONFORMANCE_CONTEXT: %w", err)
		}
		if err := json.Unmarshal([]byte(rawCtx), &sc); err != nil {
			return fmt.Errorf("MCP_CONFORMANCE_CONTEXT: %w", err)
		}
	}
	grant, ext, err := buildGrant(log, scenario, &sc)
	if err != nil {
		return err
	}
	cfg := client.Config{ServerURL: serverURL, Grant: grant, Logger: log}
	if sc.Scope != "" {
		cfg.Scopes = []string{sc.Scope}
	}
	authz, err := client.New(cfg)
	if err != nil {
		return err
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "mcpauthz-conformance-client", Version: "0.1.0"},
		&mcp.ClientOptions{Capabilities: client.WithExtensions(nil, ext)})
	session, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: serverURL, HTTPClient: authz.HTTPClient(nil)}, nil)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer session.Close()
	tools, err := session.ListTools(ctx, nil)
	if err != nil {
		return fmt.Errorf("tools/list: %w", err)
	}
	log.Info("tools listed", "count", len(tools.Tools))
	if len(tools.Tools) > 0 {
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: tools.Tools[0].Name, Arguments: map[string]any{}})
		if err != nil {
			return fmt.Errorf("tools/call %s: %w", tools.Tools[0].Name, err)
		}
		log.Info("tool called", "tool", tools.Tools[0].Name, "is_error", res.IsError)
	}
	return nil
}

// buildGrant picks the grant for the scenario and returns the extension id
// to declare.
func buildGrant(log *slog.Logger, scenario string, sc *scenarioContext) (client.Grant, string, error) {
	switch scenario {
	case "auth/enterprise-managed-authorization", "auth/cross-app-access-complete-flow":
		g, err := client.NewEnterpriseManaged(client.EnterpriseManagedConfig{
			IDTokens: client.StaticIDToken(sc.IdPIDToken),
			IdP: client.IdPConfig{
				Issuer:        sc.IdPIssuer,
				TokenEndpoint: sc.IdPTokenEndpoint,
				Credentials:   client.Credentials{ClientID: sc.IdPClientID, ClientSecret: sc.IdPClientSecret},
			},
			Credentials: client.Credentials{ClientID: sc.ClientID, ClientSecret: sc.ClientSecret, Issuer: sc.ExpectedIssuer},
			Logger:      log,
		})
		return g, mcpext.EnterpriseManagedAuthorization, err
	case "auth/client-credentials-basic", "auth/client-credentials-jwt", "":
		creds := client.Credentials{ClientID: sc.ClientID, Issuer: sc.ExpectedIssuer}
		if sc.PrivateKeyPEM != "" {
			key, err := parsePrivateKey(sc.PrivateKeyPEM)
			if err != nil {
				return nil, "", err
			}
			creds.Method, creds.Key, creds.Algorithm = client.AuthPrivateKeyJWT, key, sc.SigningAlgorithm
		} else {
			creds.ClientSecret = sc.ClientSecret
		}
		g, err := client.NewClientCredentials(client.ClientCredentialsConfig{Credentials: creds, Logger: log})
		return g, mcpext.OAuthClientCredentials, err
	}
	return nil, "", fmt.Errorf("unsupported scenario %q", scenario)
}

func parsePrivateKey(s string) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("private_key_pem: not a PKCS#8 PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("private_key_pem: %w", err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("private_key_pem: %T is not a signer", k)
	}
	return signer, nil
}
