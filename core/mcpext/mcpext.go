package mcpext

import (
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Extension identifiers of the MCP authorization extensions.
const (
	// EnterpriseManagedAuthorization is the Enterprise-Managed Authorization
	// extension (ID-JAG, jwt-bearer grant at the MCP authorization server).
	EnterpriseManagedAuthorization = "io.modelcontextprotocol/enterprise-managed-authorization"
	// OAuthClientCredentials is the OAuth client credentials extension
	// (machine-to-machine access with client_credentials).
	OAuthClientCredentials = "io.modelcontextprotocol/oauth-client-credentials"
)

// AuthExtensions returns the ids of both authorization extensions, in a
// fresh slice.
func AuthExtensions() []string {
	return []string{EnterpriseManagedAuthorization, OAuthClientCredentials}
}

// ValidID checks that id has the SEP-2133 form "{vendor-prefix}/{name}":
// a prefix of letters, digits, '.' and '-' that contains a '.' (reverse DNS,
// e.g. "io.modelcontextprotocol"), one '/', and a non-empty name of letters,
// digits, '.', '-' and '_'.
func ValidID(id string) error {
	prefix, name, ok := strings.Cut(id, "/")
	if !ok || prefix == "" || name == "" || !strings.Contains(prefix, ".") ||
		strings.HasPrefix(prefix, ".") || strings.HasSuffix(prefix, ".") {
		return fmt.Errorf("mcpext: extension id %q is not {vendor-prefix}/{name}", id)
	}
	for _, r := range prefix {
		if !isAlnum(r) && r != '.' && r != '-' {
			return fmt.Errorf("mcpext: extension id %q: invalid character %q in vendor prefix", id, r)
		}
	}
	for _, r := range name {
		if !isAlnum(r) && r != '.' && r != '-' && r != '_' {
			return fmt.Errorf("mcpext: extension id %q: invalid character %q in name", id, r)
		}
	}
	return nil
}

func isAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

// Declare adds the extensions ids to opts.Capabilities.Extensions, each with
// empty settings ({}), so that the server built from opts advertises them in
// its initialize and server/discover results. With no ids it declares
// [AuthExtensions].
//
// When opts.Capabilities is nil it is set to the SDK's own default
// ({"logging":{}}) first, so declaring extensions changes nothing else. An id
// that is already present keeps its settings. Call Declare before
// mcp.NewServer: the SDK reads opts.Capabilities while serving, and the
// caller must not modify it afterwards. On error opts is unchanged.
func Declare(opts *mcp.ServerOptions, ids ...string) error {
	if opts == nil {
		return errors.New("mcpext: nil ServerOptions")
	}
	caps, err := Capabilities(opts.Capabilities, ids...)
	if err != nil {
		return err
	}
	opts.Capabilities = caps
	return nil
}

// Capabilities returns a copy of base (nil = the SDK default
// {"logging":{}}) whose Extensions also holds ids with empty settings; with
// no ids it adds [AuthExtensions]. The copy is shallow except for the
// Extensions and Experimental maps, which are new; base is not modified. An
// id already in base keeps its settings.
func Capabilities(base *mcp.ServerCapabilities, ids ...string) (*mcp.ServerCapabilities, error) {
	if len(ids) == 0 {
		ids = AuthExtensions()
	}
	for _, id := range ids {
		if err := ValidID(id); err != nil {
			return nil, err
		}
	}
	var caps mcp.ServerCapabilities
	if base != nil {
		caps = *base
		caps.Extensions = maps.Clone(base.Extensions)
		caps.Experimental = maps.Clone(base.Experimental)
	} else {
		// The SDK's default when ServerOptions.Capabilities is nil.
		//lint:ignore SA1019 kept so that declaring extensions does not drop the SDK's default capability
		caps.Logging = &mcp.LoggingCapabilities{}
	}
	for _, id := range ids {
		if _, ok := caps.Extensions[id]; !ok {
			caps.AddExtension(id, nil)
		}
	}
	return &caps, nil
}

// Extensions returns the capabilities.extensions shape {id: {}} for ids
// (default [AuthExtensions]), for documents outside MCP messages such as the
// non-standard "mcp_extensions" member of protected resource metadata.
func Extensions(ids ...string) (map[string]any, error) {
	if len(ids) == 0 {
		ids = AuthExtensions()
	}
	out := make(map[string]any, len(ids))
	for _, id := range ids {
		if err := ValidID(id); err != nil {
			return nil, err
		}
		out[id] = map[string]any{}
	}
	return out, nil
}
