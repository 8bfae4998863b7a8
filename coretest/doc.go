// Package coretest is the exported test kit of mcpauthz: a loopback test
// identity provider and the conformance suite every framework adapter runs.
//
// # IdP
//
// [NewIdP] generates an ES256 and an RS256 key, serves OpenID/OAuth
// discovery and a JWKS on an httptest server, and mints access tokens
// ([IdP.Mint], [IdP.Token], [IdP.ExpiredToken], [IdP.WrongAudienceToken],
// [IdP.WrongIssuerToken], and [IdP.MintRaw] for hand-made malformed ones).
// [IdP.Verifier] returns the library's core/verifier configured for it.
// [IdP.SetJWKSDown] simulates a key-set outage; [IdP.JWKSHits] counts
// fetches.
//
// # Adapter suite
//
// An adapter implements [Harness] (start a loopback server with its
// middleware around an inner handler, mounted under a prefix, and the
// metadata at the origin root) and calls [RunAdapterSuite]:
//
//	func TestAdapterSuite(t *testing.T) {
//		coretest.RunAdapterSuite(t, coretest.HarnessFunc(func(t testing.TB, g *core.Guard, mcp http.Handler, prefix string) string {
//			r := chi.NewRouter()
//			chimcp.RegisterMetadata(r, g)
//			r.Route(prefix, func(r chi.Router) { r.With(chimcp.Middleware(g)).Handle(strings.TrimPrefix(g.ResourcePath(), prefix), mcp) })
//			srv := httptest.NewServer(r)
//			t.Cleanup(srv.Close)
//			return srv.URL
//		}))
//	}
//
// The suite drives a real go-sdk MCP server ([NewSuiteServer]) with a small
// catalog and [SuitePolicy], and checks exact challenges against
// Guard.Render, metadata bytes, decisions per tool/resource/prompt (on what
// the SDK executed, not only on status codes), list filtering in JSON and
// SSE modes, byte-exact body restore, 413, 2026-07-28 header mismatch,
// principal propagation, unauthenticated routes and legacy session binding.
package coretest
