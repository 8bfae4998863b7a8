package authserver

import (
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// loginState is a login in progress between /authorize and the upstream
// IdP's redirect back. It is not kept by the server: it travels sealed in
// the browser's login cookie (under a key derived from Broker.CodeKey), so
// the callback may land on any replica. The state parameter sent upstream
// must come back equal to UpState, which binds the IdP's answer to the
// browser that started the login.
type loginState struct {
	ID       string       `json:"i"` // random; names the login in the replay store
	Req      authzRequest `json:"q"`
	UpState  string       `json:"s"`
	Nonce    string       `json:"n"`
	Verifier string       `json:"v"` // upstream PKCE verifier
	Exp      int64        `json:"e"`
}

// consentState is what the callback learned, carried sealed in the
// consent form (the csrf field) to the consent decision, which may land on
// any replica. Login binds it to the browser's login cookie: a form is
// accepted only with the cookie of the login it was made for.
type consentState struct {
	Login   string         `json:"l"`
	Scopes  []string       `json:"g"`
	Subject string         `json:"u"`
	Extra   map[string]any `json:"x,omitempty"`
	Exp     int64          `json:"e"`
	// AccessGroups: see authzRequest.AccessGroups.
	AccessGroups []string `json:"m,omitempty"`
}

// Bounds of the sealed login state: the cookie must fit a browser's 4 KiB
// cookie limit with its name and attributes; the consent form carries at
// most an authorization code's claims.
const (
	maxLoginCookie  = 3800
	maxConsentField = maxCodeBytes + 2<<10
	maxConsentBody  = maxConsentField + 1<<10
)

// Purposes of the sealed login state (additional data of the AEAD).
const (
	loginPurpose   = "mcpauthz-login-v1"
	consentPurpose = "mcpauthz-consent-form-v1"
)

// errLoginUsed: the callback or consent decision of a login was already
// handled (the replay store holds its mark).
var errLoginUsed = errors.New("login already used")

// RevokeConsent forgets the consent subject gave clientID: the next
// authorization request shows the consent page again, at every replica
// sharing the ConsentStore. It reports whether a consent was remembered;
// an error means the store is unavailable. Issued tokens are not
// affected; their refresh token families are revoked with
// [Server.RevokeRefreshTokens].
func (s *Server) RevokeConsent(ctx context.Context, subject, clientID string) (bool, error) {
	if s.broker == nil {
		return false, nil
	}
	return s.broker.consents.Revoke(ctx, subject, clientID)
}

// pages are the HTML pages: small, no script, no external resources.
var pages = template.Must(template.New("pages").Parse(`
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>{{.Title}}</title></head><body><main>{{end}}
{{define "error"}}{{template "head" .}}
<h1>{{.Title}}</h1>
<p role="alert">{{.Message}}</p>
<p>You can close this window and return to the application.</p>
</main></body></html>{{end}}
{{define "consent"}}{{template "head" .}}
<h1>{{.Title}}</h1>
<p><strong>{{.Client}}</strong> asks to act on your behalf at:</p>
{{if .Note}}<p role="note">{{.Note}}</p>{{end}}
<p><code>{{.Resource}}</code></p>
{{if .Scopes}}<p>with these permissions:</p>
<ul>{{range .Scopes}}<li><code>{{.}}</code></li>{{end}}</ul>{{else}}<p>with no specific permissions.</p>{{end}}
<p>Signed in as <strong>{{.User}}</strong>. You will be returned to <code>{{.Redirect}}</code>.</p>
<form method="post" action="{{.Action}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</main></body></html>{{end}}`))

type pageData struct {
	Title, Message, Note   string
	Client, Resource, User string
	Redirect, Action, CSRF string
	Scopes                 []string
}

// setPageHeaders sets the security headers of every HTML page. formTarget
// is the origin a form on the page may finally reach (the client's
// redirect URI): browsers apply form-action to the redirect after submit.
func setPageHeaders(h http.Header, formTarget string) {
	csp := "default-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
	if formTarget != "" {
		csp += " " + formTarget
	}
	h.Set("Content-Security-Policy", csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Type", "text/html; charset=utf-8")
	setNoStore(h)
}

// cspSource is the CSP source expression for a redirect URI: its origin
// for http(s), its scheme for private-use schemes. It returns "" when the
// URI cannot be expressed safely (then only 'self' is allowed).
func cspSource(redirect string) string {
	u, err := url.Parse(redirect)
	if err != nil {
		return ""
	}
	switch u.Scheme {
	case "http", "https":
		if strings.ContainsAny(u.Host, " ;,'\"") {
			return ""
		}
		return u.Scheme + "://" + u.Host
	default:
		if strings.ContainsAny(u.Scheme, " ;,'\"") {
			return ""
		}
		return u.Scheme + ":"
	}
}

func (s *Server) errorPage(w http.ResponseWriter, status int, title, msg string) {
	setPageHeaders(w.Header(), "")
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, "error", pageData{Title: title, Message: msg})
}

func (s *Server) consentPage(w http.ResponseWriter, c *client, req *authzRequest, user, form string) {
	setPageHeaders(w.Header(), cspSource(req.RedirectURI))
	name := req.ClientID
	note := ""
	if c.name != "" {
		name = c.name + " (" + c.id + ")"
	}
	switch c.origin {
	case originRegistered:
		note = "This application registered itself: its name is not verified by your organization. Allow only if you started this sign-in."
	case originDocument:
		note = "This application is described by its own metadata document at the address above: its name is not verified by your organization. Allow only if you started this sign-in and trust that site."
	}
	_ = pages.ExecuteTemplate(w, "consent", pageData{
		Title: "Allow access?", Client: name, Note: note, Resource: req.Resource, User: user,
		Redirect: req.RedirectURI, Action: issuerPath(s.issuer) + "/consent", CSRF: form,
		Scopes: slices.Clone(req.Scopes),
	})
}
