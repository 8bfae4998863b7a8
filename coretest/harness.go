package coretest

import (
	"net/http"
	"testing"

	"github.com/mcpauthz/mcpauthz/core"
)

// Harness builds a server for the adapter under test. RunAdapterSuite calls
// Start several times, each with a fresh Guard and inner handler.
type Harness interface {
	// Start serves, on a fresh loopback listener (127.0.0.1):
	//
	//   - mcp behind the adapter's middleware for g, at exactly the path
	//     g.ResourcePath(), declared inside a router group / sub-router
	//     mounted at prefix ("" = the root router; otherwise prefix is a
	//     leading part of g.ResourcePath(), such as "/api/v1"). Every HTTP
	//     method on that path must reach the middleware.
	//   - g's metadata document at every path of g.MetadataPaths() on the
	//     ROOT router (never under prefix), with the adapter's own metadata
	//     helper.
	//
	// The inner mcp handler must be able to read the principal with
	// core.PrincipalFromContext(r.Context()) and must receive the request
	// body byte for byte. Start returns the base URL ("http://127.0.0.1:port")
	// and stops the server with t.Cleanup.
	Start(t testing.TB, g *core.Guard, mcp http.Handler, prefix string) (baseURL string)
}

// HarnessFunc adapts a function to Harness.
type HarnessFunc func(t testing.TB, g *core.Guard, mcp http.Handler, prefix string) string

// Start calls f.
func (f HarnessFunc) Start(t testing.TB, g *core.Guard, mcp http.Handler, prefix string) string {
	return f(t, g, mcp, prefix)
}
