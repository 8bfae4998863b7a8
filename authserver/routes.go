package authserver

import (
	"slices"
)

type routeKind uint8

const (
	routeNone routeKind = iota
	routeMetadata
	routeJWKS
	routeToken
	routeAuthorize
	routeCallback
	routeConsent
	routeRegister
)

// routeTable maps exact URL paths to endpoints.
type routeTable map[string]routeKind

func newRouteTable(issuerPath string, authorize bool) routeTable {
	rt := routeTable{
		"/.well-known/oauth-authorization-server" + issuerPath: routeMetadata,
		"/.well-known/openid-configuration" + issuerPath:       routeMetadata,
		issuerPath + "/token":                                  routeToken,
		issuerPath + "/jwks.json":                              routeJWKS,
	}
	if issuerPath != "" {
		rt[issuerPath+"/.well-known/openid-configuration"] = routeMetadata
	}
	if authorize {
		rt[issuerPath+"/authorize"] = routeAuthorize
	}
	return rt
}

func (rt routeTable) match(path string) routeKind {
	return rt[path]
}

func (rt routeTable) paths() []string {
	out := make([]string, 0, len(rt))
	for p := range rt {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
