package main

import (
	_ "embed"

	"github.com/mcpauthz/mcpauthz/examples/quickstart/devidp"
)

// Demo identities. Everything here is printed and documented: it is demo
// material, not a secret.
const (
	demoPassword = "demo-password" // the development IdP's shared login password

	// The MCP client (an "agent") is registered twice: at the IdP, to log
	// users in and request ID-JAGs, and at the MCP authorization server, to
	// redeem them.
	agentID     = "quickstart-agent"
	agentSecret = "quickstart-agent-secret"

	// The machine client, registered at the MCP authorization server only.
	ciBotID     = "ci-bot"
	ciBotSecret = "ci-bot-demo-secret"

	// A second machine client that authenticates with private_key_jwt; its
	// key is generated at start-up and written next to the IdP policy.
	ciBotJWTID = "ci-bot-jwt"

	// The broker: the authorization server's own registration at the IdP
	// (users of standard MCP clients log in through it), and a public MCP
	// client registered at the authorization server (authorization code +
	// PKCE, any loopback port).
	brokerIdPClientID     = "quickstart-as"
	brokerIdPClientSecret = "quickstart-as-secret"
	publicClientID        = "mcp-client"

	scopeTools  = "mcp:tools"
	scopeDeploy = "mcp:deploy"
)

// defaultIdPPolicy is the IdP's admin policy: which groups may use the demo
// MCP server, and with which scopes.
//
//go:embed idp-policy.json
var defaultIdPPolicy []byte

var demoUsers = []devidp.User{
	{Name: "alice", Email: "alice@example.com", Groups: []string{"engineering"}, Department: "engineering"},
	{Name: "bob", Email: "bob@example.com", Groups: []string{"marketing"}, Department: "marketing"},
	{Name: "carol", Email: "carol@example.com", Groups: []string{"hr", "admins"}, Department: "hr"},
	// dave logs in interactively with a standard MCP client (authorization
	// code + PKCE through the broker); erin's group has no access rule, so the
	// broker refuses her with an error page.
	{Name: "dave", Email: "dave@example.com", Groups: []string{"marketing", "admins"}, Department: "support"},
	{Name: "erin", Email: "erin@example.com", Groups: []string{"contractors"}, Department: "contracting"},
}
