package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/mcpauthz/mcpauthz/client"
	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/core/inspect"
	"github.com/mcpauthz/mcpauthz/core/introspect"
	"github.com/mcpauthz/mcpauthz/core/verifier"
	"github.com/mcpauthz/mcpauthz/proxy"
)

// TestConstructorsRefuseNilConfig: every exported constructor of the root
// module returns an error, never panics, for a zero config, nil REQUIRED
// fields, nil elements and nil nested sections.
func TestConstructorsRefuseNilConfig(t *testing.T) {
	ctx := context.Background()
	const res = "https://mcp.example.com/mcp"
	asBase := func() authserver.Config {
		return authserver.Config{Issuer: "https://as.example.com", DevGenerateKey: true,
			Resources: []authserver.Resource{{ID: res, Scopes: []string{"mcp:tools"}}}}
	}
	as := func(mut func(*authserver.Config)) func() error {
		return func() error {
			c := asBase()
			mut(&c)
			_, err := authserver.New(c)
			return err
		}
	}
	// valid: the zero value is a documented default, not an error.
	valid := map[string]bool{"core.NewMemorySessions zero": true, "inspect.NewArgDecls nil": true,
		"authserver.NewMemoryLimiter zero": true, "verifier.New issuer, discovery": true,
		"verifier.New nil key set, nil mapper": true, "authserver.NewLimitedMemoryRefreshStore negative": true}
	tests := []struct {
		name string
		call func() error
	}{
		{"core.New zero", func() error { _, err := core.New(core.Config{}); return err }},
		{"core.New nil verifier", func() error {
			_, err := core.New(core.Config{Resource: res, AuthenticateOnly: true})
			return err
		}},
		{"core.NewMemorySessions zero", func() error { _, err := core.NewMemorySessions(core.MemorySessionsConfig{}); return err }},
		{"verifier.New zero", func() error { _, err := verifier.New(ctx, verifier.Config{}); return err }},
		{"verifier.New zero issuer", func() error {
			_, err := verifier.New(ctx, verifier.Config{Issuers: []verifier.IssuerConfig{{}}})
			return err
		}},
		{"verifier.New issuer, discovery", func() error {
			_, err := verifier.New(ctx, verifier.Config{Issuers: []verifier.IssuerConfig{{Issuer: "https://idp.example.com"}}, Audience: []string{res}})
			return err
		}},
		{"verifier.New nil key set, nil mapper", func() error {
			_, err := verifier.New(ctx, verifier.Config{Audience: []string{res}, Issuers: []verifier.IssuerConfig{{Issuer: "https://idp.example.com", KeySet: nil, JWKS: []byte{}, Mapper: nil}}})
			return err // discovery from the issuer, lazily
		}},
		{"verifier.New duplicate empty issuers", func() error {
			_, err := verifier.New(ctx, verifier.Config{Audience: []string{res}, Issuers: []verifier.IssuerConfig{{}, {}}})
			return err
		}},
		{"core.New nil authorizer", func() error {
			v, err := verifier.New(ctx, verifier.Config{Audience: []string{res}, Issuers: []verifier.IssuerConfig{{Issuer: "https://idp.example.com"}}})
			if err != nil {
				return fmt.Errorf("setup: %w", err)
			}
			_, err = core.New(core.Config{Resource: res, Verifier: v})
			return err
		}},
		{"verifier.NewFromIssuerURL empty", func() error { _, err := verifier.NewFromIssuerURL(ctx, ""); return err }},
		{"introspect.New zero", func() error { _, err := introspect.New(introspect.Config{}); return err }},
		{"casbinauthz.New zero", func() error { _, err := casbinauthz.New(casbinauthz.Config{}); return err }},
		{"casbinauthz.New model, nil source", func() error {
			_, err := casbinauthz.New(casbinauthz.Config{Model: "[request_definition]\nr = sub, obj, act\n"})
			return err
		}},
		{"casbinauthz.NewAdapterSource zero", func() error { _, err := casbinauthz.NewAdapterSource(casbinauthz.AdapterSourceConfig{}); return err }},
		{"inspect.NewArgDecls nil", func() error { _, err := inspect.NewArgDecls(nil); return err }},
		{"config.NewGuard empty path", func() error { _, err := config.NewGuard(ctx, "", config.Options{}); return err }},
		{"proxy.New zero", func() error { _, err := proxy.New(proxy.Config{}); return err }},
		{"introspect.New endpoint only", func() error {
			_, err := introspect.New(introspect.Config{Endpoint: "https://idp.example.com/introspect"})
			return err
		}},
		{"authserver.New broker with a zero access rule", as(func(c *authserver.Config) {
			c.Broker = &authserver.Broker{Upstream: authserver.Upstream{Issuer: "https://idp.example.com", ClientID: "as"}, Access: []authserver.AccessRule{{}}}
		})},
		{"proxy.New nil guard", func() error { _, err := proxy.New(proxy.Config{Upstream: "http://127.0.0.1:1/mcp"}); return err }},
		{"client.New zero", func() error { _, err := client.New(client.Config{}); return err }},
		{"client.NewClientCredentials zero", func() error { _, err := client.NewClientCredentials(client.ClientCredentialsConfig{}); return err }},
		{"client.NewEnterpriseManaged zero", func() error { _, err := client.NewEnterpriseManaged(client.EnterpriseManagedConfig{}); return err }},
		{"client.NewOIDCLogin zero", func() error { _, err := client.NewOIDCLogin(client.OIDCLoginConfig{}); return err }},
		{"authserver.New zero", func() error { _, err := authserver.New(authserver.Config{}); return err }},
		{"authserver.New zero resource", as(func(c *authserver.Config) { c.Resources = []authserver.Resource{{}} })},
		{"authserver.New zero client", as(func(c *authserver.Config) { c.Clients = []authserver.Client{{}} })},
		{"authserver.New zero trusted IdP", as(func(c *authserver.Config) { c.TrustedIdPs = []authserver.TrustedIdP{{}} })},
		{"authserver.New nil signer", as(func(c *authserver.Config) { c.DevGenerateKey = false; c.SigningKeys = []authserver.SigningKey{{}} })},
		{"authserver.New zero broker", as(func(c *authserver.Config) { c.Broker = &authserver.Broker{} })},
		{"authserver.New zero registration", as(func(c *authserver.Config) { c.Registration = &authserver.Registration{} })},
		{"authserver.New zero documents", as(func(c *authserver.Config) { c.ClientMetadataDocuments = &authserver.ClientMetadataDocuments{} })},
		{"authserver.NewMemoryLimiter zero", func() error { _, err := authserver.NewMemoryLimiter(authserver.MemoryLimiterConfig{}); return err }},
		{"authserver.NewLimitedMemoryRefreshStore negative", func() error {
			_, err := authserver.NewLimitedMemoryRefreshStore(-1, authserver.RefreshLimits{})
			return err
		}},
		{"authserver.NewMemoryConsentStore negative", func() error { _, err := authserver.NewMemoryConsentStore(-1, -1); return err }},
		{"authserver.NewMemoryClientStore negative", func() error {
			_, err := authserver.NewMemoryClientStore(authserver.MemoryClientStoreConfig{MaxBytes: -1})
			return err
		}},
		{"replay.NewMemory negative", func() error { _, err := replay.NewMemory(replay.MemoryConfig{MaxEntries: -1}); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						err = fmt.Errorf("panic: %v", r)
						t.Fatalf("panicked: %v", r)
					}
				}()
				err = tc.call()
			}()
			if valid[tc.name] {
				if err != nil {
					t.Fatalf("a documented default was refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
