package devidp

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"time"
)

type authCode struct {
	user          string
	clientID      string
	redirectURI   string
	codeChallenge string
	nonce         string
	expires       time.Time
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Dev IdP login (NOT FOR PRODUCTION)</title></head>
<body style="font-family:sans-serif;max-width:32em;margin:2em auto">
<h1>Development IdP</h1>
<p><strong>Not for production.</strong> Pick a demo user; the password is printed by the quickstart.</p>
{{if .Error}}<p style="color:#b00">{{.Error}}</p>{{end}}
<form method="post" action="{{.Action}}">
{{range .Users}}<label><input type="radio" name="username" value="{{.Name}}"> {{.Name}} ({{range $i, $g := .Groups}}{{if $i}}, {{end}}{{$g}}{{end}})</label><br>{{end}}
<p><label>Password <input type="password" name="password"></label></p>
{{range $k, $v := .Params}}<input type="hidden" name="{{$k}}" value="{{$v}}">{{end}}
<button type="submit">Log in</button>
</form></body></html>`))

// authRequest holds the validated parameters of an authorization request.
type authRequest struct {
	clientID, redirectURI, state, challenge, nonce string
}

func (idp *IdP) parseAuthRequest(q url.Values) (*authRequest, string) {
	ar := &authRequest{
		clientID: q.Get("client_id"), redirectURI: q.Get("redirect_uri"), state: q.Get("state"),
		challenge: q.Get("code_challenge"), nonce: q.Get("nonce"),
	}
	c := idp.client(ar.clientID)
	switch {
	case c == nil:
		return nil, "unknown client_id"
	case !redirectAllowed(c.RedirectURIs, ar.redirectURI):
		return nil, "redirect_uri is not registered for this client"
	case q.Get("response_type") != "code":
		return nil, "response_type must be code"
	case q.Get("code_challenge_method") != "S256" || len(ar.challenge) < 43:
		return nil, "PKCE with code_challenge_method=S256 is required"
	}
	return ar, ""
}

func (idp *IdP) serveLoginPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if _, msg := idp.parseAuthRequest(q); msg != "" {
		http.Error(w, "invalid authorization request: "+msg, http.StatusBadRequest)
		return
	}
	params := map[string]string{}
	for _, k := range []string{"client_id", "redirect_uri", "state", "code_challenge", "code_challenge_method", "nonce", "response_type", "scope"} {
		params[k] = q.Get(k)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = loginPage.Execute(w, map[string]any{"Users": idp.cfg.Users, "Params": params, "Action": idp.cfg.Issuer + "/login"})
}

func (idp *IdP) serveLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	ar, msg := idp.parseAuthRequest(r.PostForm)
	if msg != "" {
		http.Error(w, "invalid authorization request: "+msg, http.StatusBadRequest)
		return
	}
	u := idp.user(r.PostForm.Get("username"))
	if u == nil || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("password")), []byte(idp.cfg.Password)) != 1 {
		idp.log.Info("devidp login failed", "user", r.PostForm.Get("username"))
		http.Error(w, "login failed", http.StatusUnauthorized)
		return
	}
	code := randomString(24)
	idp.mu.Lock()
	idp.codes[code] = &authCode{user: u.Name, clientID: ar.clientID, redirectURI: ar.redirectURI,
		codeChallenge: ar.challenge, nonce: ar.nonce, expires: idp.now().Add(time.Minute)}
	idp.mu.Unlock()
	idp.log.Info("devidp login", "user", u.Name, "client_id", ar.clientID)
	target, _ := url.Parse(ar.redirectURI)
	v := target.Query()
	v.Set("code", code)
	if ar.state != "" {
		v.Set("state", ar.state)
	}
	v.Set("iss", idp.cfg.Issuer)
	target.RawQuery = v.Encode()
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// takeCode returns and deletes a pending code (codes are one-time).
func (idp *IdP) takeCode(code string) *authCode {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	c := idp.codes[code]
	delete(idp.codes, code)
	if c == nil || idp.now().After(c.expires) {
		return nil
	}
	return c
}

// redirectAllowed matches exactly, except that loopback redirect URIs may use
// any port (RFC 8252 §7.3).
func redirectAllowed(registered []string, got string) bool {
	gu, err := url.Parse(got)
	if err != nil || got == "" {
		return false
	}
	for _, reg := range registered {
		if reg == got {
			return true
		}
		ru, err := url.Parse(reg)
		if err != nil {
			continue
		}
		if isLoopback(ru.Hostname()) && ru.Scheme == gu.Scheme && ru.Hostname() == gu.Hostname() && ru.Path == gu.Path && gu.RawQuery == "" && gu.Fragment == "" {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	return host == "127.0.0.1" || host == "::1" || host == "localhost"
}
