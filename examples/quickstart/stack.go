package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	_ "embed"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	httpmcp "github.com/mcpauthz/mcpauthz/adapters/nethttp"
	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/core/inspect"
	"github.com/mcpauthz/mcpauthz/core/mapper"
	"github.com/mcpauthz/mcpauthz/core/mcpext"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/examples/quickstart/devidp"
)

// stack is everything the quickstart runs, on one loopback listener:
//
//	/idp/...                          the development IdP (issuer base+"/idp")
//	/as/..., /.well-known/...as       the embedded authorization server (issuer base+"/as")
//	/mcp                              the MCP server behind the net/http adapter
//	/.well-known/oauth-protected-resource/mcp   its RFC 9728 metadata
type stack struct {
	Base        string // http://127.0.0.1:PORT
	MCP         string // the MCP endpoint = the resource identifier
	IdPIssuer   string
	ASIssuer    string
	PolicyFile  string // the IdP admin policy (edit it to grant or revoke)
	CasbinFile  string // the MCP server's Casbin policy (hot-reloaded)
	JWTKeyFile  string // private key of ci-bot-jwt (PKCS#8 PEM)
	ciBotJWTKey crypto.Signer
	// SessionTimeout closes idle go-sdk sessions; the Guard's bindings use
	// the same TTL (Config.SessionTTL), so both end together.
	SessionTimeout time.Duration

	// documents configures Client ID Metadata Documents; nil means the
	// defaults (public https hosts only). Tests trust a loopback TLS host.
	documents *authserver.ClientMetadataDocuments

	srv    *http.Server
	cancel context.CancelFunc
	meters *sdkmetric.MeterProvider // served at /metrics
}

// defaultSessionTimeout is the idle timeout of MCP sessions (go-sdk
// SessionTimeout and Guard SessionTTL).
const defaultSessionTimeout = 30 * time.Minute

// startStack listens on addr and starts the IdP, the authorization server
// and the MCP server. dir receives the editable policy files and the demo
// key. sessionTimeout 0 means defaultSessionTimeout.
func startStack(ctx context.Context, addr, dir string, sessionTimeout time.Duration, logger *slog.Logger) (*stack, error) {
	return startStackWith(ctx, addr, dir, sessionTimeout, logger, nil)
}

// startStackWith is startStack with a Client ID Metadata Document
// configuration (nil: the defaults).
func startStackWith(ctx context.Context, addr, dir string, sessionTimeout time.Duration, logger *slog.Logger, documents *authserver.ClientMetadataDocuments) (*stack, error) {
	if sessionTimeout <= 0 {
		sessionTimeout = defaultSessionTimeout
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	st := &stack{Base: base, MCP: base + "/mcp", IdPIssuer: base + "/idp", ASIssuer: base + "/as",
		PolicyFile: filepath.Join(dir, "idp-policy.json"), CasbinFile: filepath.Join(dir, "mcp-policy.csv"),
		JWTKeyFile: filepath.Join(dir, "ci-bot-jwt.key.pem"), SessionTimeout: sessionTimeout, documents: documents}
	mux, err := st.build(ctx, logger)
	if err != nil {
		ln.Close()
		return nil, err
	}
	st.srv = &http.Server{
		Handler:           core.BoundBodyReads(mux, core.BodyReadConfig{Logger: logger}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// No ReadTimeout: it would also end GET event streams.
		// BoundBodyReads bounds every request body instead, read or not
		// (core.BodyReadTimeout).
	}
	go func() { _ = st.srv.Serve(ln) }()
	return st, nil
}

func (st *stack) Close() {
	if st.cancel != nil {
		st.cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = st.srv.Shutdown(ctx)
	if st.meters != nil {
		_ = st.meters.Shutdown(ctx)
	}
}

func (st *stack) build(ctx context.Context, logger *slog.Logger) (*http.ServeMux, error) {
	if err := writeIfAbsent(st.PolicyFile, defaultIdPPolicy); err != nil {
		return nil, err
	}
	if err := writeIfAbsent(st.CasbinFile, defaultCasbinPolicy); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	meters, metricsHandler, err := newMetrics()
	if err != nil {
		return nil, err
	}
	st.meters = meters
	mux.Handle("GET /metrics", metricsHandler)

	// 1. The enterprise IdP (development only).
	idp, err := devidp.New(devidp.Config{
		Issuer: st.IdPIssuer, Users: demoUsers, Password: demoPassword, PolicyFile: st.PolicyFile,
		Clients: []devidp.Client{
			{ID: agentID, Secret: agentSecret, RedirectURIs: []string{"http://127.0.0.1/callback"}},
			{ID: brokerIdPClientID, Secret: brokerIdPClientSecret, RedirectURIs: []string{st.ASIssuer + "/callback"}},
		},
		Servers: []devidp.Server{{Name: "demo", Resource: st.MCP, AuthorizationServer: st.ASIssuer}},
		Logger:  logger.With("component", "idp"),
	})
	if err != nil {
		return nil, err
	}
	mux.Handle("/idp/", http.StripPrefix("/idp", idp))

	// 2. The embedded authorization server.
	as, err := st.authServer(logger)
	if err != nil {
		return nil, err
	}
	for _, p := range as.Routes() {
		mux.Handle(p, as)
	}

	// 3. The MCP server behind the net/http adapter.
	g, err := st.guard(ctx, logger)
	if err != nil {
		return nil, err
	}
	opts := &mcp.ServerOptions{}
	if err := mcpext.Declare(opts, mcpext.AuthExtensions()...); err != nil {
		return nil, err
	}
	httpmcp.UnbindOnClose(g, opts, logger) // a binding ends with its go-sdk session
	server := newCatalogServer(opts)
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server },
		&mcp.StreamableHTTPOptions{SessionTimeout: st.SessionTimeout})
	httpmcp.Register(mux, g, handler)

	// 4. Probes: ready when the Guard and the authorization server are.
	mux.Handle("GET /readyz", core.ReadyHandler(core.ReadyFunc(func(ctx context.Context) error {
		return errors.Join(g.Ready(ctx), as.Ready(ctx))
	}), 0))
	mux.Handle("GET /livez", core.LiveHandler())
	return mux, nil
}

func (st *stack) authServer(logger *slog.Logger) (*authserver.Server, error) {
	agentHash, err := authserver.HashSecret(agentSecret)
	if err != nil {
		return nil, err
	}
	botHash, err := authserver.HashSecret(ciBotSecret)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	st.ciBotJWTKey = key
	if err := writeKey(st.JWTKeyFile, key); err != nil {
		return nil, err
	}
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, Algorithm: "ES256", Use: "sig", KeyID: "ci-bot-jwt-1"}}})
	if err != nil {
		return nil, err
	}
	scopes := []string{scopeTools, scopeDeploy}
	documents := st.documents
	if documents == nil {
		documents = &authserver.ClientMetadataDocuments{}
	}
	return authserver.New(authserver.Config{
		Issuer:         st.ASIssuer,
		Resources:      []authserver.Resource{{ID: st.MCP, Scopes: scopes}},
		DevGenerateKey: true,
		Clients: []authserver.Client{
			{ID: agentID, SecretHash: agentHash, GrantTypes: []string{authserver.GrantJWTBearer}, Scopes: scopes},
			{ID: ciBotID, SecretHash: botHash, GrantTypes: []string{authserver.GrantClientCredentials}, Scopes: scopes,
				AuthMethods: []string{authserver.AuthClientSecretBasic, authserver.AuthClientSecretPost}},
			{ID: ciBotJWTID, JWKS: jwks, GrantTypes: []string{authserver.GrantClientCredentials}, Scopes: scopes},
			{ID: publicClientID, Name: "MCP client (public, loopback redirect)", AuthMethods: []string{authserver.AuthNone},
				GrantTypes:   []string{authserver.GrantAuthorizationCode, authserver.GrantRefreshToken},
				RedirectURIs: []string{"http://127.0.0.1/callback", "http://localhost/callback"}, Scopes: scopes},
		},
		// Users of standard MCP clients log in at the development IdP through
		// the broker; the access rules mirror idp-policy.json.
		Broker: &authserver.Broker{
			Upstream: authserver.Upstream{
				Issuer: st.IdPIssuer, ClientID: brokerIdPClientID, ClientSecret: brokerIdPClientSecret,
				Claims: map[string]string{"groups": "groups", "email": "email", "department": "department"},
			},
			Access: []authserver.AccessRule{
				{Group: "engineering", Resource: st.MCP, Scopes: []string{scopeTools, scopeDeploy}},
				{Group: "marketing", Resource: st.MCP, Scopes: []string{scopeTools}},
				{Group: "hr", Resource: st.MCP, Scopes: []string{scopeTools}},
				{Group: "admins", Resource: st.MCP, Scopes: []string{scopeTools}},
				{Group: "admins", Resource: st.MCP, Scopes: []string{scopeDeploy}}, // admins deploy anywhere
			},
		},
		// Standard MCP clients that have no pre-registered client id register
		// themselves (RFC 7591) with loopback redirect URIs only.
		Registration: &authserver.Registration{LoopbackRedirects: true},
		// Clients identified by an https client ID metadata document (public
		// hosts only; the fetch refuses private and loopback addresses).
		ClientMetadataDocuments: documents,
		TrustedIdPs: []authserver.TrustedIdP{{
			Issuer: st.IdPIssuer, JWKSURL: st.IdPIssuer + "/jwks",
			Claims: map[string]string{"groups": "groups", "email": "email", "department": "department"},
		}},
		Logger:        logger.With("component", "authserver"),
		MeterProvider: st.meters,
	})
}

func (st *stack) guard(ctx context.Context, logger *slog.Logger) (*core.Guard, error) {
	v, err := verifier.New(ctx, verifier.Config{
		Issuers:       []verifier.IssuerConfig{{Issuer: st.ASIssuer, JWKSURL: st.ASIssuer + "/jwks.json"}},
		Audience:      []string{st.MCP},
		Logger:        logger.With("component", "verifier"),
		MeterProvider: st.meters,
	})
	if err != nil {
		return nil, err
	}
	m, err := mapper.Standard(mapper.Config{AttributeClaims: map[string]string{"department": "department", "email": "email"}})
	if err != nil {
		return nil, err
	}
	model, err := casbinmodels.Model("abac_args")
	if err != nil {
		return nil, err
	}
	args, err := toolArgs()
	if err != nil {
		return nil, err
	}
	authz, err := casbinauthz.New(casbinauthz.Config{Model: model, Args: args, Source: casbinauthz.FileSource{Paths: []string{st.CasbinFile}},
		Logger: logger.With("component", "policy"), MeterProvider: st.meters})
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	st.cancel = cancel
	go func() { _ = authz.Watch(wctx) }()
	return core.New(core.Config{
		Resource: st.MCP, Verifier: v, Mapper: m, Authorizer: authz,
		Inspect: inspect.Options{Args: args}, // the same declarations as the policy's
		Metadata: core.ProtectedResourceMetadata{
			AuthorizationServers: []string{st.ASIssuer},
			ScopesSupported:      []string{scopeTools},
			ResourceName:         "mcpauthz quickstart",
			MCPExtensions: map[string]any{
				mcpext.EnterpriseManagedAuthorization: map[string]any{},
				mcpext.OAuthClientCredentials:         map[string]any{},
			},
		},
		SessionTTL:    st.SessionTimeout, // bindings end with the go-sdk sessions
		Audit:         core.SlogAudit(logger.With("component", "audit")),
		Logger:        logger.With("component", "guard"),
		MeterProvider: st.meters,
	})
}

func writeIfAbsent(path string, data []byte) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	return os.WriteFile(path, data, 0o600)
}

func writeKey(path string, key *ecdsa.PrivateKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("marshal key: %w", err)
	}
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

// defaultCasbinPolicy is the MCP server's Casbin policy (model abac_args),
// written to CasbinFile on first start and hot-reloaded from there.
//
//go:embed mcp-policy.csv
var defaultCasbinPolicy []byte

// toolArgs declares the tool arguments the policy may read (r.args). The
// deploy handler treats a missing environment as staging, so the policy
// sees the same default.
func toolArgs() (*inspect.ArgDecls, error) {
	return inspect.NewArgDecls([]inspect.ToolArgs{{Tool: "deploy", Args: []inspect.ArgSpec{
		{Name: "environment", Type: inspect.ArgString, MaxBytes: 32, Default: "staging"},
		{Name: "service", Type: inspect.ArgString, MaxBytes: 64, Default: "web"},
	}}})
}
