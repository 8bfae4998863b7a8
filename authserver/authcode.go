package authserver

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/httpx"
)

// maxAuthorizeQuery bounds the authorization request (query or form body).
const maxAuthorizeQuery = 8 << 10

// authzRequest is a validated authorization request.
type authzRequest struct {
	ClientID    string   `json:"c"`
	RedirectURI string   `json:"r"`
	State       string   `json:"s,omitempty"`
	Challenge   string   `json:"p"`
	Resource    string   `json:"a"`
	Scope       string   `json:"o,omitempty"` // as requested, "" = default
	Scopes      []string `json:"g,omitempty"` // granted (set after login)
	// AccessGroups are the user's groups that matched a broker access rule
	// for Resource at login (set after login); refreshes re-apply the
	// current rules to them.
	AccessGroups []string `json:"m,omitempty"`
}

// authorizeError is an authorization endpoint failure. Before the client
// and redirect URI are validated (redirect false) it is shown to the user
// as a page; after, it is sent to the redirect URI (RFC 6749 §4.1.2.1).
type authorizeError struct {
	redirect    bool
	unavailable bool // a store failed: a 503 page
	code        string
	desc        string
}

func (e *authorizeError) Error() string { return e.code + ": " + e.desc }

func pageErr(desc string) *authorizeError {
	return &authorizeError{code: codeInvalidRequest, desc: desc}
}

func redirErr(code, desc string) *authorizeError {
	return &authorizeError{redirect: true, code: code, desc: desc}
}

// parseAuthorizeRequest validates a raw authorization request query. It
// returns the request as far as it could be validated: when the error
// redirects, req.RedirectURI and req.State are set.
func (s *Server) parseAuthorizeRequest(ctx context.Context, raw, source string) (*authzRequest, *client, *authorizeError) {
	if len(raw) > maxAuthorizeQuery {
		return nil, nil, pageErr("the authorization request is too large")
	}
	q, err := parseForm(raw)
	if err != nil {
		return nil, nil, pageErr("the authorization request is malformed")
	}
	if q["client_id"] == "" {
		return nil, nil, pageErr("unknown client")
	}
	c, err := s.lookupClient(ctx, q["client_id"], source)
	if errors.Is(err, errClientStore) {
		return nil, nil, &authorizeError{unavailable: true, code: codeServerError, desc: "the client registry is unavailable"}
	}
	if err != nil {
		// shown to the user, never redirected: the redirect URI is not
		// validated (it comes from the document that was refused)
		return nil, nil, pageErr("the application's metadata document cannot be used (" + strings.TrimPrefix(err.Error(), ErrMetadataDocument.Error()+": ") + ")")
	}
	if c == nil {
		return nil, nil, pageErr("unknown client")
	}
	ru := q["redirect_uri"]
	if ru == "" {
		return nil, c, pageErr("redirect_uri is required")
	}
	if !redirectAllowed(c, ru) {
		return nil, c, pageErr("redirect_uri is not registered for this client")
	}
	req := &authzRequest{ClientID: c.id, RedirectURI: ru, State: q["state"]}
	if len(req.State) > 1024 {
		req.State = ""
		return req, c, redirErr(codeInvalidRequest, "state is too long")
	}
	if q["request"] != "" || q["request_uri"] != "" {
		return req, c, redirErr("request_not_supported", "request objects are not supported")
	}
	if q["response_type"] != "code" {
		return req, c, redirErr("unsupported_response_type", "response_type must be code")
	}
	if !c.grants[GrantAuthorizationCode] {
		return req, c, redirErr(codeUnauthorizedClient, "the client may not use the authorization code grant")
	}
	switch q["code_challenge_method"] {
	case "S256":
	case "":
		return req, c, redirErr(codeInvalidRequest, "code_challenge_method S256 is required")
	default:
		return req, c, redirErr(codeInvalidRequest, "only code_challenge_method S256 is supported")
	}
	if !validPKCE(q["code_challenge"], 43, 43) {
		return req, c, redirErr(codeInvalidRequest, "code_challenge must be a base64url SHA-256 (43 characters)")
	}
	req.Challenge = q["code_challenge"]
	res := q["resource"]
	if res == "" {
		res = s.defaultResource
	}
	if s.resources[res] == nil {
		return req, c, redirErr(codeInvalidTarget, "unknown resource")
	}
	if c.resources != nil && !c.resources[res] {
		return req, c, redirErr(codeInvalidTarget, "the client may not obtain tokens for this resource")
	}
	req.Resource = res
	if _, err := parseScope(q["scope"]); err != nil {
		return req, c, redirErr(codeInvalidScope, "malformed scope")
	}
	req.Scope = q["scope"]
	return req, c, nil
}

// validPKCE reports whether v is min..max characters of the RFC 7636 §4.1
// unreserved set (challenges are base64url, 43 characters for S256).
func validPKCE(v string, min, max int) bool {
	if len(v) < min || len(v) > max {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}

// pkceS256 is BASE64URL(SHA256(verifier)).
func pkceS256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// redirectAllowed matches got against the client's registered redirect
// URIs exactly, except that for public (native) clients a registered
// loopback http URI matches any port on the same loopback host, path and
// query (RFC 8252 §7.3).
func redirectAllowed(c *client, got string) bool {
	for _, r := range c.redirects {
		if r == got {
			return true
		}
	}
	if !c.public {
		return false
	}
	g, err := url.Parse(got)
	if err != nil || g.Scheme != "http" || g.User != nil || g.Fragment != "" || strings.Contains(got, "#") || !httpx.IsLoopbackHost(g.Hostname()) {
		return false
	}
	if p := g.Port(); p != "" {
		if n, err := parsePort(p); err != nil || n == 0 {
			return false
		}
	}
	for _, r := range c.redirects {
		u, err := url.Parse(r)
		if err != nil || u.Scheme != "http" || !httpx.IsLoopbackHost(u.Hostname()) {
			continue
		}
		if u.Hostname() == g.Hostname() && u.EscapedPath() == g.EscapedPath() && u.RawQuery == g.RawQuery {
			return true
		}
	}
	return false
}

func parsePort(p string) (int, error) {
	if len(p) > 5 {
		return 0, errors.New("port too long")
	}
	n := 0
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return 0, errors.New("port is not a number")
		}
		n = n*10 + int(p[i]-'0')
	}
	if n > 65535 {
		return 0, errors.New("port out of range")
	}
	return n, nil
}

// checkRedirectURI validates a configured redirect URI: absolute, no
// fragment or user info; http only on loopback hosts; private-use schemes
// (com.example.app:/cb) only for public clients.
func checkRedirectURI(raw string, public bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Fragment != "" || strings.Contains(raw, "#") || u.User != nil {
		return errors.New("must be an absolute URI without fragment or user info")
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return errors.New("https URI needs a host")
		}
	case "http":
		if !httpx.IsLoopbackHost(u.Hostname()) {
			return errors.New("http is allowed only on loopback hosts")
		}
	default:
		if !public || !strings.Contains(u.Scheme, ".") {
			return errors.New("private-use schemes must be reverse domain names and need a public client")
		}
	}
	return nil
}

// codeData is what an authorization code carries, sealed.
type codeData struct {
	ID        string         `json:"i"`
	Exp       int64          `json:"e"`
	ClientID  string         `json:"c"`
	Redirect  string         `json:"r"`
	Challenge string         `json:"p"`
	Resource  string         `json:"a"`
	Scopes    []string       `json:"g"`
	Subject   string         `json:"u"`
	Extra     map[string]any `json:"x,omitempty"`
	// AccessGroups: see authzRequest.AccessGroups.
	AccessGroups []string `json:"m,omitempty"`
}

// maxCodeBytes bounds a sealed code (it travels in a URL).
const maxCodeBytes = 6 << 10

// codeAAD is the purpose of sealed authorization codes. Codes are sealed
// with the code key itself (Broker.CodeKey, opened with PreviousCodeKeys
// too) and name it by its key id.
const codeAAD = "mcpauthz-authorization-code-v1"

// authorizationResponse builds the redirect for a code or an error, with
// the RFC 9207 iss parameter.
func (s *Server) authorizationResponse(redirect string, params url.Values) string {
	params.Set("iss", s.issuer)
	sep := "?"
	if strings.Contains(redirect, "?") {
		sep = "&"
	}
	return redirect + sep + params.Encode()
}

func codeExpired(d *codeData, now time.Time) bool {
	return now.Unix() >= d.Exp
}
