package client

import (
	"maps"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// WithExtensions returns a copy of caps that declares each id in ids with
// empty settings ({}), for mcp.ClientOptions.Capabilities. The go-sdk sends
// these capabilities in "initialize" params.capabilities.extensions
// (2025-11-25) and in every request's
// params._meta["io.modelcontextprotocol/clientCapabilities"].extensions
// (2026-07-28). A nil caps starts from an empty capability set; note that
// any non-nil ClientOptions.Capabilities replaces the SDK's default (roots)
// capability, so pass your full set. Only the Extensions map is copied;
// other pointer members are shared with caps.
func WithExtensions(caps *mcp.ClientCapabilities, ids ...string) *mcp.ClientCapabilities {
	out := &mcp.ClientCapabilities{}
	if caps != nil {
		*out = *caps
		out.Extensions = maps.Clone(caps.Extensions)
	}
	for _, id := range ids {
		out.AddExtension(id, nil)
	}
	return out
}
