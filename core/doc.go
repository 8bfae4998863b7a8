// Package core is the framework-neutral authorization pipeline of mcpauthz.
//
// A [Guard] takes one HTTP request aimed at an MCP server, as plain data, and
// runs it through five steps:
//
//  1. authenticate: extract the bearer token and verify it with a
//     [TokenVerifier] (JWT through JWKS, or RFC 7662 introspection);
//  2. map claims: turn the verified [Claims] into a typed [Principal] with a
//     [ClaimMapper];
//  3. inspect: parse the MCP JSON-RPC body strictly, exactly as the MCP SDK
//     behind it will execute it;
//  4. authorize: ask an [Authorizer] (usually Casbin) about every operation;
//  5. render: turn any failure into the exact RFC 6750 / RFC 9728 response.
//
// Framework adapters (net/http, chi, gin, fiber) only copy data between their
// framework and the Guard; every status code, header and body is decided here.
//
// # Hot path
//
// For an allowed request with a cache-hit verifier, Check allocates once
// for the Result, its inspection and (with DefaultMapper) the principal,
// plus what the verifier, core/inspect and the Authorizer allocate.
// Adapters put the principal in the request context with
// [Result.Context], which reuses that allocation. Without an AuditSink the
// clock is not read.
//
// # Security
//
// Every error, unknown case or unavailable dependency denies. A nil
// Authorizer means "authenticate only", never "allow everything silently":
// it must be chosen explicitly. Raw tokens, secrets and assertions are never
// logged; logs carry iss, sub, client_id, kid and jti.
package core
