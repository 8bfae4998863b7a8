// Package proxy runs the Guard as a sidecar: a reverse proxy that protects
// an MCP server written in any language with the same guarantees as the
// middleware adapters, because every request goes through the one adapter
// body, [core.Guard.Serve].
//
//	g, _ := config.NewGuard(ctx, "guard.yaml", config.Options{})
//	p, _ := proxy.New(proxy.Config{Guard: g, Upstream: "http://127.0.0.1:3000/mcp"})
//	srv := &http.Server{Addr: "127.0.0.1:8443", Handler: p, ReadHeaderTimeout: 10 * time.Second}
//
// The command "mcpauthz proxy" wraps it with configuration, probes and
// graceful shutdown (docs/proxy.md).
//
// # What the upstream sees
//
// Only requests the Guard allowed, with the body it inspected, byte for
// byte. The list responses (tools/list, prompts/list, resources/list, ...)
// come back filtered for the caller, in JSON or as SSE events; an
// initialize response's Mcp-Session-Id is bound to the caller before the
// client sees it; DELETE ends the binding; GET event streams are passed
// through and flushed event by event.
//
// # Security
//
//   - Inbound headers named X-Mcpauthz-* in any case or spelling ("_" for
//     "-"), Forwarded and X-Forwarded-* are always removed; the
//     Authorization header is removed unless Config.ForwardToken.
//   - With Config.ForwardPrincipal the upstream receives the principal in
//     the X-Mcpauthz-* headers ([HeaderPrincipalID] and friends). They are
//     only as trustworthy as the network path: the upstream must listen
//     where only the proxy can reach it (loopback, a pod-local port).
//   - An upstream that is down, slow or answers garbage never turns into
//     an allow: the client gets 502 (unreachable, malformed) or 504
//     (timeout) with a JSON-RPC error, and a list response that cannot be
//     filtered is replaced by a JSON-RPC error (500).
//   - A protocol switch (101) from the upstream is refused (502): the
//     bytes after it would bypass the Guard.
package proxy
