package authserver

import (
	"container/list"
	"context"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// loginTxn is a login in progress, kept server-side and found through the
// login cookie (which holds only its random id).
type loginTxn struct {
	id       string
	req      authzRequest
	upState  string
	nonce    string
	verifier string
	exp      time.Time

	// set after the upstream login
	loggedIn bool
	subject  string
	extra    map[string]any
	csrf     string
	display  string // e-mail for the consent page
	size     int64
}

func (t *loginTxn) bytes() int64 {
	n := 256 + len(t.id) + len(t.req.ClientID) + len(t.req.RedirectURI) + len(t.req.State) +
		len(t.req.Challenge) + len(t.req.Resource) + len(t.req.Scope) + len(t.upState) + len(t.nonce) +
		len(t.verifier) + len(t.subject) + len(t.csrf) + len(t.display)
	for _, sc := range t.req.Scopes {
		n += len(sc) + 16
	}
	for k, v := range t.extra {
		n += len(k) + approxSize(v)
	}
	return int64(n)
}

func approxSize(v any) int {
	switch x := v.(type) {
	case string:
		return len(x) + 16
	case []any:
		n := 24
		for _, e := range x {
			n += approxSize(e)
		}
		return n
	case []string:
		n := 24
		for _, e := range x {
			n += len(e) + 16
		}
		return n
	case map[string]any:
		n := 48
		for k, e := range x {
			n += len(k) + approxSize(e)
		}
		return n
	default:
		return 32
	}
}

var errPendingFull = errors.New("too many logins in progress")

// pendingStore holds logins in progress, bounded in bytes; expired entries
// are dropped lazily. When full of live entries, new logins fail (503).
type pendingStore struct {
	mu    sync.Mutex
	max   int64
	used  int64
	byID  map[string]*list.Element // of *loginTxn, in creation order
	order *list.List
}

func newPendingStore(max int64) *pendingStore {
	return &pendingStore{max: max, byID: map[string]*list.Element{}, order: list.New()}
}

// put adds t or replaces the entry with its id.
func (p *pendingStore) put(t *loginTxn, now time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pruneLocked(now)
	t.size = t.bytes()
	e := p.byID[t.id]
	delta := t.size
	if e != nil {
		delta -= e.Value.(*loginTxn).size
	}
	if p.used+delta > p.max {
		return errPendingFull
	}
	p.used += delta
	if e != nil {
		e.Value = t
	} else {
		p.byID[t.id] = p.order.PushBack(t)
	}
	return nil
}

// get returns a copy of the live entry id, or nil.
func (p *pendingStore) get(id string, now time.Time) *loginTxn {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.byID[id]
	if e == nil {
		return nil
	}
	t := e.Value.(*loginTxn)
	if !now.Before(t.exp) {
		return nil
	}
	c := *t
	return &c
}

// take removes and returns the entry id (single use), or nil.
func (p *pendingStore) take(id string, now time.Time) *loginTxn {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.byID[id]
	if e == nil {
		return nil
	}
	t := e.Value.(*loginTxn)
	p.order.Remove(e)
	delete(p.byID, id)
	p.used -= t.size
	if !now.Before(t.exp) {
		return nil
	}
	return t
}

func (p *pendingStore) pruneLocked(now time.Time) {
	// Entries share one lifetime, so creation order is expiry order.
	for e := p.order.Front(); e != nil; e = p.order.Front() {
		t := e.Value.(*loginTxn)
		if now.Before(t.exp) {
			return
		}
		p.order.Remove(e)
		delete(p.byID, t.id)
		p.used -= t.size
	}
}

// consentStore remembers, per user and client, the resource scopes the
// user consented to. Bounded in entries; the oldest is forgotten first.
type consentStore struct {
	mu    sync.Mutex
	max   int
	m     map[string]*list.Element
	order *list.List
}

type consentEntry struct {
	key    string
	grants map[string]bool // resource + " " + scope, and resource + " " for scope-less grants
}

func newConsentStore(max int) *consentStore {
	return &consentStore{max: max, m: map[string]*list.Element{}, order: list.New()}
}

func consentKey(sub, clientID string) string { return sub + "\x00" + clientID }

func (c *consentStore) covers(sub, clientID, resource string, scopes []string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.m[consentKey(sub, clientID)]
	if e == nil {
		return false
	}
	g := e.Value.(*consentEntry).grants
	if !g[resource+" "] {
		return false
	}
	for _, sc := range scopes {
		if !g[resource+" "+sc] {
			return false
		}
	}
	return true
}

func (c *consentStore) remember(sub, clientID, resource string, scopes []string) {
	if c.max == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k := consentKey(sub, clientID)
	e := c.m[k]
	if e == nil {
		for c.order.Len() >= c.max {
			old := c.order.Front()
			c.order.Remove(old)
			delete(c.m, old.Value.(*consentEntry).key)
		}
		e = c.order.PushBack(&consentEntry{key: k, grants: map[string]bool{}})
		c.m[k] = e
	}
	g := e.Value.(*consentEntry).grants
	if len(g) > 256 {
		clear(g) // bounded per entry: start over
	}
	g[resource+" "] = true
	for _, sc := range scopes {
		g[resource+" "+sc] = true
	}
}

func (c *consentStore) revoke(sub, clientID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := consentKey(sub, clientID)
	e := c.m[k]
	if e == nil {
		return false
	}
	c.order.Remove(e)
	delete(c.m, k)
	return true
}

// RevokeConsent forgets the consent subject gave clientID: the next
// authorization request shows the consent page again. It reports whether
// a consent was remembered. Issued tokens are not affected; their refresh
// token families are revoked with [Server.RevokeRefreshTokens].
func (s *Server) RevokeConsent(subject, clientID string) bool {
	if s.broker == nil {
		return false
	}
	return s.broker.consents.revoke(subject, clientID)
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

func (s *Server) consentPage(ctx context.Context, w http.ResponseWriter, t *loginTxn) {
	setPageHeaders(w.Header(), cspSource(t.req.RedirectURI))
	user := t.subject
	if t.display != "" {
		user = t.display
	}
	name := t.req.ClientID
	note := ""
	if c, _ := s.lookupClient(ctx, t.req.ClientID, ""); c != nil {
		if c.name != "" {
			name = c.name + " (" + c.id + ")"
		}
		switch c.origin {
		case originRegistered:
			note = "This application registered itself: its name is not verified by your organization. Allow only if you started this sign-in."
		case originDocument:
			note = "This application is described by its own metadata document at the address above: its name is not verified by your organization. Allow only if you started this sign-in and trust that site."
		}
	}
	_ = pages.ExecuteTemplate(w, "consent", pageData{
		Title: "Allow access?", Client: name, Note: note, Resource: t.req.Resource, User: user,
		Redirect: t.req.RedirectURI, Action: issuerPath(s.issuer) + "/consent", CSRF: t.csrf,
		Scopes: slices.Clone(t.req.Scopes),
	})
}
