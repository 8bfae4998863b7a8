package core

import (
	"net/http"
	"strconv"
)

// metadataHandler serves the prepared RFC 9728 document.
type metadataHandler struct {
	body []byte
}

// ServeHTTP answers GET and HEAD with 200, Content-Type application/json and
// the static document; OPTIONS (CORS preflight) with 204; anything else with
// 405 and Allow. Every answer carries Access-Control-Allow-Origin: *: the
// document is public (RFC 9728 §3) and browser-based MCP clients fetch it.
// The bytes never depend on Host, X-Forwarded-* or any other request data.
func (h metadataHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Origin", "*")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		hdr.Set("Content-Type", "application/json")
		hdr.Set("Content-Length", strconv.Itoa(len(h.body)))
		hdr.Set("Cache-Control", "public, max-age=3600")
		hdr.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		if r.Method == http.MethodGet {
			_, _ = w.Write(h.body)
		}
	case http.MethodOptions:
		hdr.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
		hdr.Set("Access-Control-Allow-Headers", "Content-Type, MCP-Protocol-Version")
		hdr.Set("Access-Control-Max-Age", "86400")
		w.WriteHeader(http.StatusNoContent)
	default:
		hdr.Set("Allow", "GET, HEAD, OPTIONS")
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// MetadataHandler returns the handler of the RFC 9728 document. Register it
// at every path of [Guard.MetadataPaths] on the origin's root router,
// outside any authentication, even when the MCP handler is mounted under a
// prefix (spec-checklist OQ-10).
func (g *Guard) MetadataHandler() http.Handler {
	if g == nil {
		return nilGuardHandler{} // ErrNilGuard: 500
	}
	return metadataHandler{body: g.metadataJSON}
}

// MetadataPath is the RFC 9728 §3.1 path of the metadata document, computed
// from Config.Resource alone: "/.well-known/oauth-protected-resource/mcp"
// for "https://mcp.example.com/mcp".
func (g *Guard) MetadataPath() string {
	if g == nil {
		return WellKnownPath
	}
	return g.metadataPath
}

// MetadataPaths lists every path the document is served at:
// MetadataPath, plus the root well-known path when Metadata.ServeRoot is set
// and differs.
func (g *Guard) MetadataPaths() []string {
	if g == nil {
		return []string{WellKnownPath}
	}
	if g.metadata.ServeRoot && g.metadataPath != WellKnownPath {
		return []string{g.metadataPath, WellKnownPath}
	}
	return []string{g.metadataPath}
}

// MetadataURL is the absolute URL put in resource_metadata of every
// challenge.
func (g *Guard) MetadataURL() string {
	if g == nil {
		return ""
	}
	return g.metadataURL
}

// MetadataJSON returns a copy of the served document.
func (g *Guard) MetadataJSON() []byte {
	if g == nil {
		return nil
	}
	return append([]byte(nil), g.metadataJSON...)
}

// Resource is the canonical resource identifier the Guard protects.
func (g *Guard) Resource() string {
	if g == nil {
		return ""
	}
	return g.resource
}

// ResourcePath is the URL path of Config.Resource ("/mcp"; "/" when the
// resource has no path): where adapters mount the MCP handler by default.
func (g *Guard) ResourcePath() string {
	if g == nil {
		return "/"
	}
	return g.resourcePath
}
