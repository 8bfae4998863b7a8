package main

import (
	"fmt"
	"io"
)

// printServeInfo prints what `serve` runs and what an MCP host (an IDE, a
// CLI agent, any client of the MCP authorization spec) needs to connect.
// Scripts parse the "MCP server" line and wait for "ready", the last line.
func printServeInfo(w io.Writer, st *stack) {
	fmt.Fprintf(w, `mcpauthz quickstart is serving (development only):
  MCP server            %s
  protected resource    %s/.well-known/oauth-protected-resource/mcp
  authorization server  %s   (metadata %s/.well-known/oauth-authorization-server/as)
  development IdP       %s  (login page %s/authorize)
  demo users            alice (engineering), bob (marketing), carol (hr, admins), dave (marketing, admins),
                        erin (contractors: no access rule, refused); password %q
  IdP client            %s / %s   (also registered at the authorization server)
  public MCP client     %s   (authorization code + PKCE, redirect http://127.0.0.1:ANY/callback; login at the IdP via the broker)
  machine clients       %s / %s (client_secret_basic); %s (private_key_jwt, key %s)
  IdP admin policy      %s   (edit to grant or revoke; read on every exchange)
  MCP Casbin policy     %s   (hot-reloaded)

Connect an MCP host (an IDE, a CLI agent) as an interactive user:
  server URL            %s   (transport: streamable HTTP)
  authorization         OAuth 2.1 authorization code + PKCE (S256). The host finds everything from the
                        401 challenge: %s/.well-known/oauth-protected-resource/mcp
                        names the authorization server %s
  client ID             %s   (pre-registered public client: no secret; enter it in the host's OAuth settings;
                        redirect URIs http://127.0.0.1:ANY/callback or http://localhost:ANY/callback)
  or register           hosts without a client ID register themselves (RFC 7591) at %s/register
                        (the metadata's registration_endpoint): public clients, loopback redirect URIs
  or CIMD               a client ID that is an https URL on a public host names a Client ID Metadata
                        Document: the authorization server fetches it; its redirect URIs apply
  sign in               the browser opens the development IdP: pick dave, password %q,
                        then allow the consent page. dave sees delete_repo, deploy, echo, list_tickets.
  note                  the authorization server sends no CORS headers: hosts that run OAuth inside a
                        web page (the MCP Inspector's browser UI) cannot use it yet; native hosts can.
ready
`, st.MCP, st.Base, st.ASIssuer, st.Base, st.IdPIssuer, st.IdPIssuer, demoPassword, agentID, agentSecret, publicClientID,
		ciBotID, ciBotSecret, ciBotJWTID, st.JWTKeyFile, st.PolicyFile, st.CasbinFile,
		st.MCP, st.Base, st.ASIssuer, publicClientID, st.ASIssuer, demoPassword)
}
