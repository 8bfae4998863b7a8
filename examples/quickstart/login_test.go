package main

import (
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"

	"github.com/mcpauthz/mcpauthz/authserver"
)

// TestBrokerGoSDKAuthorizationCode: the go-sdk's own AuthorizationCodeHandler
// (a pre-registered public client) gets a token from the quickstart's
// authorization server through the broker, with the browser step scripted
// (login at the development IdP, consent), and calls the MCP server.
func TestBrokerGoSDKAuthorizationCode(t *testing.T) {
	sdkCodeFlow(t, nil, func(cfg *auth.AuthorizationCodeHandlerConfig) {
		cfg.PreregisteredClient = &oauthex.ClientCredentials{ClientID: publicClientID}
	})
}

// TestBrokerGoSDKDynamicRegistration: the same handler registers itself
// (RFC 7591, loopback redirect URI) and then logs in.
func TestBrokerGoSDKDynamicRegistration(t *testing.T) {
	sdkCodeFlow(t, nil, func(cfg *auth.AuthorizationCodeHandlerConfig) {
		cfg.DynamicClientRegistrationConfig = &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			RedirectURIs: []string{cfg.RedirectURL}, ClientName: "go-sdk test client", TokenEndpointAuthMethod: "none",
			GrantTypes: []string{"authorization_code", "refresh_token"},
		}}
	})
}

// TestBrokerGoSDKClientIDMetadataDocument: the same handler identifies
// itself by a Client ID Metadata Document served over TLS on loopback (the
// authorization server trusts that host's certificate and address for the
// test) and logs in.
func TestBrokerGoSDKClientIDMetadataDocument(t *testing.T) {
	var fetches atomic.Int64
	var docURL string
	docs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = io.WriteString(w, `{"client_id":"`+docURL+`","client_name":"go-sdk CIMD client",`+
			`"redirect_uris":["http://127.0.0.1/callback"],"grant_types":["authorization_code","refresh_token"],"token_endpoint_auth_method":"none"}`)
	}))
	defer docs.Close()
	docURL = docs.URL + "/client.json"
	pool := x509.NewCertPool()
	pool.AddCert(docs.Certificate())
	sdkCodeFlow(t, &authserver.ClientMetadataDocuments{RootCAs: pool, AllowNetworks: []string{"127.0.0.1/32"}},
		func(cfg *auth.AuthorizationCodeHandlerConfig) {
			cfg.ClientIDMetadataDocumentConfig = &auth.ClientIDMetadataDocumentConfig{URL: docURL}
		})
	if n := fetches.Load(); n != 1 {
		t.Fatalf("document fetched %d times, want 1 (cached)", n)
	}
}

// sdkCodeFlow runs the go-sdk AuthorizationCodeHandler configured by
// configure against a fresh quickstart stack (with documents, see
// startStackWith), logs bob in with the scripted browser and checks the
// tools he sees.
func sdkCodeFlow(t *testing.T, documents *authserver.ClientMetadataDocuments, configure func(*auth.AuthorizationCodeHandlerConfig)) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	st, err := startStackWith(ctx, "127.0.0.1:0", t.TempDir(), 0, slog.New(slog.NewTextHandler(io.Discard, nil)), documents)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	type result struct{ code, state, iss string }
	var mu sync.Mutex
	var got result
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		mu.Lock()
		got = result{q.Get("code"), q.Get("state"), q.Get("iss")}
		mu.Unlock()
		_, _ = io.WriteString(w, "done")
	}))
	defer cb.Close()

	logins := 0
	cfg := &auth.AuthorizationCodeHandlerConfig{
		RedirectURL: cb.URL + "/callback",
		AuthorizationCodeFetcher: func(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
			logins++
			if _, err := browserLogin(ctx, args.URL, "bob", demoPassword, "allow"); err != nil {
				return nil, err
			}
			mu.Lock()
			defer mu.Unlock()
			return &auth.AuthorizationResult{Code: got.code, State: got.state, Iss: got.iss}, nil
		},
	}
	configure(cfg)
	h, err := auth.NewAuthorizationCodeHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "broker-test", Version: "1"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: st.MCP, OAuthHandler: h}, nil)
	if err != nil {
		t.Fatalf("connect through the broker: %v", err)
	}
	defer session.Close()
	res, err := session.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		names = append(names, tool.Name)
	}
	if logins != 1 || got.iss != st.ASIssuer || !slices.Contains(names, "echo") || slices.Contains(names, "deploy") {
		t.Fatalf("logins %d, iss %q, bob (marketing) sees %v", logins, got.iss, names)
	}
}

// TestBrokerLoginRefused: a denied consent reaches the client as
// access_denied.
func TestBrokerLoginRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := quietStack(ctx, t)
	var errCode string
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { errCode = r.URL.Query().Get("error") }))
	defer cb.Close()
	u := st.ASIssuer + "/authorize?response_type=code&client_id=" + publicClientID + "&redirect_uri=" + cb.URL + "/callback" +
		"&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=s1"
	if _, err := browserLogin(ctx, u, "alice", demoPassword, "deny"); err != nil {
		t.Fatal(err)
	}
	if errCode != "access_denied" {
		t.Fatalf("error %q", errCode)
	}
}

// TestLoginErrorHidesCode: when the client's redirect URI does not answer,
// the scripted browser's error names it without the code.
func TestLoginErrorHidesCode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st := quietStack(ctx, t)
	// The redirect URI's server closes every connection without an
	// answer. It keeps its port: a closed one goes to the next listener,
	// which could answer.
	dead := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	defer dead.Close()
	redirect := dead.URL + "/callback"
	u := st.ASIssuer + "/authorize?response_type=code&client_id=" + publicClientID + "&redirect_uri=" + redirect +
		"&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=s1"
	_, err := browserLogin(ctx, u, "alice", demoPassword, "allow")
	if err == nil || !strings.Contains(err.Error(), "/callback?(query omitted)") || strings.Contains(err.Error(), "code=") {
		t.Fatalf("error %v", err)
	}
}
