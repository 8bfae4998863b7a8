// Package conformanceparity runs the official MCP conformance SERVER suite
// (the pinned @modelcontextprotocol/conformance in interop/conformance)
// against the go-sdk's own conformance server (the everything-server of
// github.com/modelcontextprotocol/go-sdk/conformance, built from the module
// version in go.mod), twice per mode: bare, and behind the Guard (net/http
// adapter, real JWT verifier against a loopback IdP, Casbin policy
// allowing the server's tools, resources and prompts). The suite cannot
// send an Authorization header, so the harness adds the bearer token in
// front of the Guard. Both modes run: stateless, and stateful (sessions,
// GET streams, DELETE). The scores must be identical, check by check
// (issue 10 §5: the Guard never changes MCP semantics for allowed traffic).
//
// It needs go, and node with the packages of interop/conformance installed
// ("npm ci" there). When MCPAUTHZ_INTEROP is unset or empty and a
// prerequisite is missing the test skips; with MCPAUTHZ_INTEROP set (as
// interop/run.sh does) a missing prerequisite is a failure:
//
//	MCPAUTHZ_INTEROP=1 go test -count=1 -v ./interop/conformanceparity/
//
// Everything listens on 127.0.0.1; every run is bounded by a timeout.
package conformanceparity
