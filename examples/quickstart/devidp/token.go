package devidp

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// serveToken implements the token endpoint: authorization_code (+PKCE) for
// ID tokens, and RFC 8693 token exchange for ID-JAGs.
func (idp *IdP) serveToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		oauthError(w, http.StatusBadRequest, "invalid_request", "form-encoded body required")
		return
	}
	if err := r.ParseForm(); err != nil || len(r.URL.RawQuery) > 0 {
		oauthError(w, http.StatusBadRequest, "invalid_request", "malformed request")
		return
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			oauthError(w, http.StatusBadRequest, "invalid_request", "duplicate parameter "+k)
			return
		}
	}
	c, ok := idp.authenticateClient(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="devidp"`)
		oauthError(w, http.StatusUnauthorized, "invalid_client", "client authentication failed")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		idp.codeGrant(w, r.PostForm, c)
	case GrantTokenExchange:
		idp.tokenExchange(w, r.PostForm, c)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "grant_type not supported")
	}
}

// authenticateClient accepts client_secret_basic or client_secret_post, but
// not both at once.
func (idp *IdP) authenticateClient(r *http.Request) (*Client, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil || r.PostForm.Has("client_secret") {
			return nil, false
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	c := idp.client(id)
	if c == nil || subtle.ConstantTimeCompare([]byte(secret), []byte(c.Secret)) != 1 {
		return nil, false
	}
	return c, true
}

func (idp *IdP) codeGrant(w http.ResponseWriter, f url.Values, c *Client) {
	code := idp.takeCode(f.Get("code"))
	if code == nil || code.clientID != c.ID || code.redirectURI != f.Get("redirect_uri") ||
		subtle.ConstantTimeCompare([]byte(s256(f.Get("code_verifier"))), []byte(code.codeChallenge)) != 1 {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "invalid, expired or already used code, or PKCE verifier mismatch")
		return
	}
	u := idp.user(code.user)
	now := idp.now()
	claims := map[string]any{
		"iss": idp.cfg.Issuer, "sub": u.Name, "aud": c.ID, "iat": now.Unix(),
		"exp": now.Add(idp.cfg.IDTokenTTL).Unix(), "auth_time": now.Unix(), "amr": []string{"pwd"},
		"email": u.Email, "email_verified": true, "name": u.Name, "groups": u.Groups,
	}
	if code.nonce != "" {
		claims["nonce"] = code.nonce
	}
	idToken, err := idp.sign("JWT", claims)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "signing failed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": randomString(24), "token_type": "Bearer", "expires_in": int(idp.cfg.IDTokenTTL.Seconds()),
		"id_token": idToken, "scope": "openid email profile",
	})
}

// tokenExchange issues an ID-JAG for a logged-in user, if the admin policy
// allows that user to use the requested MCP server.
func (idp *IdP) tokenExchange(w http.ResponseWriter, f url.Values, c *Client) {
	if f.Get("requested_token_type") != TokenTypeIDJAG {
		oauthError(w, http.StatusBadRequest, "invalid_request", "requested_token_type must be "+TokenTypeIDJAG)
		return
	}
	if f.Get("subject_token_type") != TokenTypeIDToken {
		oauthError(w, http.StatusBadRequest, "invalid_request", "subject_token_type must be "+TokenTypeIDToken)
		return
	}
	claims, err := idp.verifyOwn(f.Get("subject_token"))
	if err != nil || claims["iss"] != idp.cfg.Issuer || claims["aud"] != c.ID || expired(claims, idp.now().Unix()) {
		oauthError(w, http.StatusBadRequest, "invalid_grant", "subject_token is not a valid ID token for this client")
		return
	}
	sub, _ := claims["sub"].(string)
	u := idp.user(sub)
	srv := idp.server(f.Get("audience"), f.Get("resource"))
	if u == nil || srv == nil {
		oauthError(w, http.StatusBadRequest, "invalid_target", "audience and resource do not name a registered MCP server")
		return
	}
	pol, err := LoadPolicy(idp.cfg.PolicyFile)
	if err != nil {
		idp.log.Error("devidp policy unavailable", "err", err)
		oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "policy unavailable")
		return
	}
	allowed, ok := pol.Allowed(u, srv)
	if !ok {
		idp.log.Info("devidp ID-JAG denied by admin policy", "sub", u.Name, "server", srv.Name)
		oauthError(w, http.StatusBadRequest, "invalid_grant", "the enterprise policy does not allow this user to use this MCP server")
		return
	}
	scopes := allowed
	if req := strings.Fields(f.Get("scope")); len(req) > 0 {
		scopes = nil
		for _, s := range req {
			if contains(allowed, s) && !contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	now := idp.now()
	jti := randomString(16)
	jag := map[string]any{
		"iss": idp.cfg.Issuer, "sub": u.Name, "aud": srv.AuthorizationServer, "resource": srv.Resource,
		"client_id": c.resourceClientID(), "jti": jti, "iat": now.Unix(), "exp": now.Add(idp.cfg.IDJAGTTL).Unix(),
		"scope": strings.Join(scopes, " "), "email": u.Email, "groups": u.Groups, "auth_time": claims["auth_time"],
		"amr": claims["amr"],
	}
	if u.Department != "" {
		jag["department"] = u.Department
	}
	token, err := idp.sign(TypIDJAG, jag)
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "signing failed")
		return
	}
	idp.log.Info("devidp issued ID-JAG", "sub", u.Name, "client_id", c.resourceClientID(), "server", srv.Name, "jti", jti, "scope", jag["scope"])
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token, "issued_token_type": TokenTypeIDJAG, "token_type": "N_A",
		"expires_in": int(idp.cfg.IDJAGTTL.Seconds()), "scope": jag["scope"],
	})
}

func (c *Client) resourceClientID() string {
	if c.ResourceClientID != "" {
		return c.ResourceClientID
	}
	return c.ID
}

// server finds the registered MCP server for an exchange. The resource, when
// sent, must match; without it the audience must identify one server.
func (idp *IdP) server(audience, resource string) *Server {
	var found *Server
	for i := range idp.cfg.Servers {
		s := &idp.cfg.Servers[i]
		if s.AuthorizationServer != audience || (resource != "" && s.Resource != resource) {
			continue
		}
		if found != nil {
			return nil
		}
		found = s
	}
	return found
}

func expired(claims map[string]any, now int64) bool {
	n, ok := claims["exp"].(json.Number)
	if !ok {
		return true
	}
	exp, err := n.Int64()
	return err != nil || now >= exp
}
