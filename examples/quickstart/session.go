package main

import (
	"context"
	"fmt"
	"github.com/mcpauthz/mcpauthz/core/mcpext"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauthz/mcpauthz/client"
)

// session is one MCP client connection with its token machinery.
type session struct {
	authz *client.Authorizer
	mcp   *mcp.ClientSession
}

func (s *session) Close() {
	if s.mcp != nil {
		_ = s.mcp.Close()
	}
}

// userAuthorizer builds the Enterprise-Managed Authorization client for user:
// an OIDC login at the IdP (driven by a scripted browser), RFC 8693 token
// exchange for an ID-JAG, then the jwt-bearer grant at the MCP authorization
// server.
func userAuthorizer(st *stack, user string, logger *slog.Logger, scopes []string) (*client.Authorizer, error) {
	login, err := client.NewOIDCLogin(client.OIDCLoginConfig{
		Issuer: st.IdPIssuer, ClientID: agentID, ClientSecret: agentSecret,
		Scopes: []string{"email"}, OpenBrowser: scriptedBrowser(st, user), Logger: logger,
	})
	if err != nil {
		return nil, err
	}
	grant, err := client.NewEnterpriseManaged(client.EnterpriseManagedConfig{
		IDTokens: login,
		IdP: client.IdPConfig{Issuer: st.IdPIssuer,
			Credentials: client.Credentials{ClientID: agentID, ClientSecret: agentSecret, Method: client.AuthClientSecretBasic}},
		Credentials: client.Credentials{ClientID: agentID, ClientSecret: agentSecret, Issuer: st.ASIssuer},
		Logger:      logger,
	})
	if err != nil {
		return nil, err
	}
	return client.New(client.Config{ServerURL: st.MCP, Grant: grant, Scopes: scopes, Logger: logger})
}

// machineAuthorizer builds the client credentials client of ci-bot
// (client_secret_basic) or ci-bot-jwt (private_key_jwt).
func machineAuthorizer(st *stack, clientID string, logger *slog.Logger, scopes []string) (*client.Authorizer, error) {
	creds := client.Credentials{ClientID: clientID, Issuer: st.ASIssuer}
	switch clientID {
	case ciBotID:
		creds.ClientSecret, creds.Method = ciBotSecret, client.AuthClientSecretBasic
	case ciBotJWTID:
		creds.Key, creds.KeyID = st.ciBotJWTKey, "ci-bot-jwt-1"
	default:
		return nil, fmt.Errorf("unknown demo client %q (want %s or %s)", clientID, ciBotID, ciBotJWTID)
	}
	grant, err := client.NewClientCredentials(client.ClientCredentialsConfig{Credentials: creds, Logger: logger})
	if err != nil {
		return nil, err
	}
	return client.New(client.Config{ServerURL: st.MCP, Grant: grant, Scopes: scopes, Logger: logger})
}

// connect opens an MCP session through the official Go MCP SDK client, with
// the authorizer's HTTP client handling 401 discovery and 403 step-up.
func connect(ctx context.Context, st *stack, a *client.Authorizer) (*session, error) {
	c := mcp.NewClient(&mcp.Implementation{Name: "quickstart-tour", Version: "1.0.0"}, &mcp.ClientOptions{
		Capabilities: client.WithExtensions(nil, mcpext.EnterpriseManagedAuthorization, mcpext.OAuthClientCredentials),
	})
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: st.MCP, HTTPClient: a.HTTPClient(nil)}, nil)
	if err != nil {
		return nil, err
	}
	return &session{authz: a, mcp: cs}, nil
}

// scriptedBrowser plays the user's browser: it opens the IdP login page,
// submits the demo user's credentials and follows the redirect back to the
// client's loopback listener.
func scriptedBrowser(st *stack, user string) func(ctx context.Context, authURL string) error {
	return func(ctx context.Context, authURL string) error {
		hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		u, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		page, err := get(ctx, hc, authURL)
		if err != nil {
			return err
		}
		if page.StatusCode != http.StatusOK {
			return fmt.Errorf("IdP login page: HTTP %d", page.StatusCode)
		}
		form := u.Query()
		form.Set("username", user)
		form.Set("password", demoPassword)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, st.IdPIssuer+"/login", strings.NewReader(form.Encode()))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		drain(resp)
		if resp.StatusCode != http.StatusFound {
			return fmt.Errorf("IdP login as %s: HTTP %d", user, resp.StatusCode)
		}
		back, err := get(ctx, hc, resp.Header.Get("Location"))
		if err != nil {
			return err
		}
		if back.StatusCode >= 400 {
			return fmt.Errorf("redirect to the client: HTTP %d", back.StatusCode)
		}
		return nil
	}
}

func get(ctx context.Context, hc *http.Client, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	drain(resp)
	return resp, nil
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
}
