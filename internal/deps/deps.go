//go:build tools

// Package deps pins module dependencies that the packages under construction
// will import. It is removed once every dependency is imported for real.
package deps

import (
	_ "github.com/casbin/casbin/v2"
	_ "github.com/coreos/go-oidc/v3/oidc"
	_ "github.com/go-jose/go-jose/v4"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/modelcontextprotocol/go-sdk/mcp"
	_ "golang.org/x/oauth2"
	_ "golang.org/x/sync/singleflight"
	_ "gopkg.in/yaml.v3"
)
