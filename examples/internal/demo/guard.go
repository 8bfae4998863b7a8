package demo

import (
	"context"
	"log/slog"
	"net"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/core/verifier"
)

// NewGuard builds the Guard of the examples for a server listening on addr:
// JWTs verified against c.Issuer's discovered keys with audience
// c.Resource (default "http://<addr>/mcp"), and the Casbin model c.Model
// with c.PolicyFile (reloaded on change until ctx is done) or the model's
// sample policy. Nothing is fetched before the first token arrives.
func NewGuard(ctx context.Context, c Config, addr net.Addr, log *slog.Logger) (*core.Guard, error) {
	resource := c.Resource
	if resource == "" {
		resource = "http://" + addr.String() + "/mcp"
	}
	v, err := verifier.New(ctx, verifier.Config{
		Issuers:  []verifier.IssuerConfig{{Issuer: c.Issuer}},
		Audience: []string{resource},
		Logger:   log,
	})
	if err != nil {
		return nil, err
	}
	model, err := casbinmodels.Model(c.Model)
	if err != nil {
		return nil, err
	}
	var src casbinauthz.Source
	if c.PolicyFile != "" {
		src = casbinauthz.FileSource{Paths: []string{c.PolicyFile}}
	} else {
		sample, err := casbinmodels.SamplePolicy(c.Model)
		if err != nil {
			return nil, err
		}
		src = casbinauthz.StringSource(sample)
	}
	authz, err := casbinauthz.New(casbinauthz.Config{Model: model, Source: src, Logger: log})
	if err != nil {
		return nil, err
	}
	if c.PolicyFile != "" {
		go func() { _ = authz.Watch(ctx) }() // hot reload until ctx is done
	}
	return core.New(core.Config{
		Resource:   resource,
		Verifier:   v,
		Authorizer: authz,
		Metadata: core.ProtectedResourceMetadata{
			AuthorizationServers: []string{c.Issuer},
			ScopesSupported:      []string{"mcp:tools"},
			ResourceName:         "mcpauthz example",
		},
		SessionTTL: SessionTimeout, // bindings end with the go-sdk sessions
		Audit:      core.SlogAudit(log),
		Logger:     log,
	})
}
