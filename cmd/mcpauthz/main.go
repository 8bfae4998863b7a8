// Command mcpauthz is the policy tool of mcpauthz.
//
//	mcpauthz explain  -config guard.yaml -token claims.json -method tools/call -name deploy [-scopes "a b"]
//	mcpauthz explain  -config guard.yaml -token claims.json -method tools/list -tools echo,deploy
//	mcpauthz explain  -model M.conf|quickstart -policy P.csv (-claims c.json | -token-file t.jwt) -method tools/call -target deploy
//	mcpauthz explain  -model abac_args -policy P.csv -claims c.json -method tools/call -target deploy -arg-decl deploy:environment:string -args '{"environment":"prod"}'
//	mcpauthz lint     -model M.conf -policy P.csv [-strict] [-arg-decl tool:name:type[=default]]
//	mcpauthz metadata -config guard.yaml
//	mcpauthz hash-secret < secret.txt
//	mcpauthz proxy    -config guard.yaml [-upstream http://127.0.0.1:3000/mcp] [-listen 127.0.0.1:8443] [-health-listen ADDR]
//	mcpauthz authserver -config as.yaml [-listen 127.0.0.1:9400] [-health-listen ADDR] [-tls-cert-file F -tls-key-file F]
//
// explain prints the decision the Casbin authorizer takes for one MCP
// operation: the principal and its policy subjects, groups, roles and
// attributes, allow or deny, the rule that decided and the scopes the
// operation requires. With -config it uses the Guard's own configuration
// file (package config): the mapper of the issuer that issued the token
// (presets, claim paths, refine rules), the model and the policy, so the
// answer is the server's. For */list methods, -tools lists item names and
// explain prints which of them the caller would see. -model accepts the
// shipped model names of casbinmodels. It exits 0 when the
// operation is allowed, 1 when it is denied (including step-up) and 2 on a
// usage or load error. For a tools/call, -args gives the call's arguments as
// JSON; the declared ones (-arg-decl, or the config's arguments section) are
// extracted exactly as the Guard does and printed with their types, and a
// missing or mistyped argument shows the refusal the Guard answers before
// the policy.
//
// lint reports policy lines that do not fit the model, unknown subject
// prefixes, shadowed or duplicate rules and rules that can never match, and
// checks argument declarations (-arg-decl) against the policy's r.args. It
// exits 1 when there are errors (or warnings with -strict), 0 otherwise.
//
// metadata prints the RFC 9728 protected resource metadata document and the
// URL it is served at, as the Guard would serve it, from the Guard's YAML
// configuration (or a small JSON file).
//
// hash-secret reads one client secret from standard input (never from the
// command line, which would leave it in shell history and process listings)
// and prints the value for a client's secret_hash in the authorization server
// configuration.
//
// proxy runs the Guard of the configuration file as a reverse proxy in
// front of an MCP server written in any language (package proxy,
// docs/proxy.md): verification, inspection, per-item authorization, list
// filtering, step-up and session binding, with /readyz and /livez, until
// SIGINT or SIGTERM, then a graceful shutdown. The file's proxy: section
// configures it; -upstream, -listen and -health-listen override it.
//
// authserver runs the embedded authorization server of its configuration
// file (package authserver; its file is in docs/configuration.md) with /readyz and /livez,
// until SIGINT or SIGTERM. This binary keeps the authorization server's
// and the proxy's shared state in memory (stores.kind and stores.sessions
// "memory"): one replica. For several replicas on Redis, run the same
// commands from stores/redis/cmd/mcpauthz-redis (package serve, with the
// Redis stores registered); a file naming a kind this binary does not
// register fails at start with the list of the registered ones.
//
// # Security
//
// -token-file decodes a JWT WITHOUT verifying its signature, for debugging
// only; the output says so. The token itself is never printed.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: mcpauthz <command> [flags]

commands:
  explain      show the decision for one MCP operation
  lint         check a policy against its model
  metadata     print the RFC 9728 protected resource metadata document
  hash-secret  read a client secret on stdin, print its secret_hash for the authorization server
  proxy        serve the Guard as a reverse proxy in front of an MCP server
  authserver   serve the embedded authorization server

run "mcpauthz <command> -h" for the flags of a command.
`

// run executes one command and returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "explain":
		return explainCmd(args[1:], stdout, stderr)
	case "lint":
		return lintCmd(args[1:], stdout, stderr)
	case "metadata":
		return metadataCmd(args[1:], stdout, stderr)
	case "hash-secret":
		return hashSecretCmd(args[1:], os.Stdin, stdout, stderr)
	case "proxy":
		return proxyCmd(args[1:], stdout, stderr)
	case "authserver":
		return authServerCmd(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "mcpauthz: unknown command %q\n%s", args[0], usage)
	return 2
}
