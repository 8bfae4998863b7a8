package authserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Login cookie names: the __Host- prefix needs Secure, so the loopback
// development issuer (http) uses the plain name.
const (
	loginCookieSecure   = "__Host-mcpauthz-login"
	loginCookieInsecure = "mcpauthz-login"
	maxCookieValue      = 64
)

func (b *broker) cookieName() string {
	if b.secure {
		return loginCookieSecure
	}
	return loginCookieInsecure
}

func (b *broker) setLoginCookie(w http.ResponseWriter, id string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: b.cookieName(), Value: id, Path: "/", MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: b.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (b *broker) clearLoginCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: b.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: b.secure, SameSite: http.SameSiteLaxMode,
	})
}

// loginCookie returns the login id from the request's cookie, or "".
func (b *broker) loginCookie(r *http.Request) string {
	c, err := r.Cookie(b.cookieName())
	if err != nil || len(c.Value) == 0 || len(c.Value) > maxCookieValue {
		return ""
	}
	return c.Value
}

// serveAuthorize is the authorization endpoint (RFC 6749 §4.1.1 with
// OAuth 2.1 and MCP 2025-11-25 rules). Without a broker it refuses every
// request (serveAuthorizeStub).
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	if s.broker == nil {
		serveAuthorizeStub(w, r)
		return
	}
	var raw string
	switch r.Method {
	case http.MethodGet:
		raw = r.URL.RawQuery
	case http.MethodPost:
		if r.URL.RawQuery != "" || checkFormContentType(r.Header.Get("Content-Type")) != nil {
			s.errorPage(w, http.StatusBadRequest, "Invalid request", "The authorization request is malformed.")
			return
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, maxAuthorizeQuery+1))
		if err != nil {
			s.errorPage(w, http.StatusBadRequest, "Invalid request", "The authorization request could not be read.")
			return
		}
		raw = string(b)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ctx := r.Context()
	req, _, ae := s.parseAuthorizeRequest(ctx, raw, s.clientAddr(r))
	if ae != nil {
		s.logAuthorize(ctx, req, ae.code+": "+ae.desc)
		if !ae.redirect {
			s.errorPage(w, http.StatusBadRequest, "Invalid request", "This application sent an invalid sign-in request: "+ae.desc+".")
			return
		}
		s.redirectError(w, req, ae.code, ae.desc)
		return
	}
	if oe := s.authorizeLimit(ctx, s.clientAddr(r)); oe != nil {
		if oe.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(oe.retryAfter))
		}
		s.errorPage(w, oe.status, "Sign-in unavailable", "Too many sign-in attempts. Try again in a minute.")
		return
	}
	_, oc, err := s.broker.upstream(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "authserver.broker upstream unavailable", "error", err)
		s.errorPage(w, http.StatusServiceUnavailable, "Sign-in unavailable", "The identity provider cannot be reached. Try again in a minute.")
		return
	}
	now := s.now()
	t := &loginTxn{
		id: randomToken(), req: *req, upState: randomToken(), nonce: randomToken(),
		verifier: oauth2.GenerateVerifier(), exp: now.Add(s.broker.loginTTL),
	}
	if err := s.broker.pending.put(t, now); err != nil {
		s.log.WarnContext(ctx, "authserver.broker login refused", "error", err)
		w.Header().Set("Retry-After", "30")
		s.errorPage(w, http.StatusServiceUnavailable, "Sign-in unavailable", "Too many sign-ins are in progress. Try again in a minute.")
		return
	}
	s.broker.setLoginCookie(w, t.id, s.broker.loginTTL)
	setNoStore(w.Header())
	http.Redirect(w, r, oc.AuthCodeURL(t.upState, oidc.Nonce(t.nonce), oauth2.S256ChallengeOption(t.verifier)), http.StatusFound)
}

func (s *Server) redirectError(w http.ResponseWriter, req *authzRequest, code, desc string) {
	v := url.Values{"error": {code}, "error_description": {desc}}
	if req.State != "" {
		v.Set("state", req.State)
	}
	setNoStore(w.Header())
	w.Header().Set("Location", s.authorizationResponse(req.RedirectURI, v))
	w.WriteHeader(http.StatusSeeOther)
}

func (s *Server) logAuthorize(ctx context.Context, req *authzRequest, outcome string) {
	attrs := []any{"outcome", truncateForLog(outcome)}
	if req != nil {
		attrs = append(attrs, "client_id", truncateForLog(req.ClientID), "resource", truncateForLog(req.Resource))
	}
	s.log.InfoContext(ctx, "authserver.authorize", attrs...)
}

// serveCallback receives the upstream authorization response, verifies the
// ID token, applies the access policy and shows the consent page (or, when
// consent is remembered, redirects with a code).
func (s *Server) serveCallback(w http.ResponseWriter, r *http.Request) {
	if !allowGet(w, r) {
		return
	}
	b := s.broker
	ctx := r.Context()
	now := s.now()
	id := b.loginCookie(r)
	q := r.URL.Query()
	var t *loginTxn
	if id != "" {
		t = b.pending.get(id, now)
	}
	if t == nil || t.loggedIn || !equalSecret(q.Get("state"), t.upState) {
		s.logAuthorize(ctx, nil, "callback without a matching login (state or cookie)")
		s.errorPage(w, http.StatusBadRequest, "Sign-in failed", "This sign-in is unknown or has expired. Start again from the application.")
		return
	}
	if e := q.Get("error"); e != "" {
		b.pending.take(id, now)
		b.clearLoginCookie(w)
		s.logAuthorize(ctx, &t.req, "upstream error "+e)
		s.redirectError(w, &t.req, "access_denied", "the identity provider did not authenticate the user")
		return
	}
	p, oc, err := b.upstream(ctx)
	if err != nil {
		s.errorPage(w, http.StatusServiceUnavailable, "Sign-in unavailable", "The identity provider cannot be reached. Try again in a minute.")
		return
	}
	uctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, b.hc), 10*time.Second)
	defer cancel()
	tok, err := oc.Exchange(uctx, q.Get("code"), oauth2.VerifierOption(t.verifier))
	if err != nil {
		b.pending.take(id, now)
		s.log.WarnContext(ctx, "authserver.broker upstream code exchange failed", "error", err)
		s.errorPage(w, http.StatusBadGateway, "Sign-in failed", "The identity provider did not complete the sign-in. Start again from the application.")
		return
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: b.up.ClientID, Now: s.now}).Verify(uctx, rawID)
	if err == nil && !equalSecret(idt.Nonce, t.nonce) {
		err = errors.New("nonce mismatch")
	}
	var cl claimSet
	if err == nil {
		cl, err = idTokenClaims(rawID)
	}
	if err != nil {
		b.pending.take(id, now)
		s.log.WarnContext(ctx, "authserver.broker ID token refused", "error", err)
		s.errorPage(w, http.StatusBadGateway, "Sign-in failed", "The identity provider's answer could not be verified.")
		return
	}
	sub := idt.Subject
	groups, _, gerr := cl.strList(b.groupsClaim)
	extra, perr := provenance(b.upIdP, cl)
	if gerr != nil || perr != nil || sub == "" || sub == t.req.ClientID {
		b.pending.take(id, now)
		s.errorPage(w, http.StatusBadGateway, "Sign-in failed", "The identity provider's answer could not be used.")
		return
	}
	c, _ := s.lookupClient(ctx, t.req.ClientID, s.clientAddr(r))
	if c == nil { // a registered client forgotten, or a document refused, during the login
		b.pending.take(id, now)
		b.clearLoginCookie(w)
		s.errorPage(w, http.StatusBadRequest, "Sign-in failed", "This application is no longer registered. Start again from the application.")
		return
	}
	res := s.resources[t.req.Resource]
	allowed, matched := b.allowedScopes(groups, res.id)
	var scopes []string
	var oe *oauthError
	if matched {
		def := res.scopes
		if t.req.Scope == "" {
			// no scope: the resource's scopes, as far as the user may have them
			def = intersect(def, toSet(allowed))
		}
		scopes, oe = decideScopes(intersect(def, toSet(allowed), c.scopes, res.set), t.req.Scope, s.strictScopes)
	}
	if !matched || oe != nil {
		b.pending.take(id, now)
		b.clearLoginCookie(w)
		s.logAuthorize(ctx, &t.req, errBrokerRefused.Error())
		s.log.InfoContext(ctx, "authserver.broker refused", "sub", truncateForLog(sub), "client_id", c.id, "resource", res.id)
		s.errorPage(w, http.StatusForbidden, "Access denied", "Your organization's access policy does not allow you to use this application with "+res.id+". Ask your administrator for access.")
		return
	}
	t.loggedIn, t.subject, t.extra, t.csrf = true, sub, extra, randomToken()
	t.req.Scopes = scopes
	if e, ok := cl["email"].(string); ok && len(e) <= 256 {
		t.display = e // shown on the consent page only
	}
	if b.consents.covers(sub, c.id, res.id, scopes) {
		b.pending.take(id, now)
		b.clearLoginCookie(w)
		s.finishAuthorization(w, r, t)
		return
	}
	if err := b.pending.put(t, now); err != nil {
		s.errorPage(w, http.StatusServiceUnavailable, "Sign-in unavailable", "Too many sign-ins are in progress. Try again in a minute.")
		return
	}
	s.consentPage(ctx, w, t)
}

// idTokenClaims decodes the payload of an already verified ID token with
// JSON numbers kept exact (claimSet's convention).
func idTokenClaims(raw string) (claimSet, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errors.New("ID token is not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var cl claimSet
	if err := dec.Decode(&cl); err != nil {
		return nil, err
	}
	return cl, nil
}

// serveConsent receives the consent form.
func (s *Server) serveConsent(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	b := s.broker
	now := s.now()
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<10))
	var f map[string]string
	if err == nil && checkFormContentType(r.Header.Get("Content-Type")) == nil {
		f, err = parseForm(string(body))
	} else if err == nil {
		err = errors.New("not a form")
	}
	id := b.loginCookie(r)
	var t *loginTxn
	if err == nil && id != "" {
		t = b.pending.get(id, now)
	}
	if t == nil || !t.loggedIn || !equalSecret(f["csrf"], t.csrf) {
		s.logAuthorize(r.Context(), nil, "consent without a matching login (cookie or CSRF token)")
		s.errorPage(w, http.StatusForbidden, "Request refused", "This consent form is unknown or has expired. Start again from the application.")
		return
	}
	if b.pending.take(id, now) == nil {
		s.errorPage(w, http.StatusForbidden, "Request refused", "This consent form was already used.")
		return
	}
	b.clearLoginCookie(w)
	switch f["decision"] {
	case "allow":
		b.consents.remember(t.subject, t.req.ClientID, t.req.Resource, t.req.Scopes)
		s.finishAuthorization(w, r, t)
	default:
		s.logAuthorize(r.Context(), &t.req, "consent denied")
		s.redirectError(w, &t.req, "access_denied", "the user denied the request")
	}
}

// finishAuthorization seals a code and redirects to the client.
func (s *Server) finishAuthorization(w http.ResponseWriter, r *http.Request, t *loginTxn) {
	d := &codeData{
		ID: newTokenID(), Exp: s.now().Add(DefaultCodeLifetime).Unix(), ClientID: t.req.ClientID,
		Redirect: t.req.RedirectURI, Challenge: t.req.Challenge, Resource: t.req.Resource,
		Scopes: t.req.Scopes, Subject: t.subject, Extra: t.extra,
	}
	code, err := s.broker.codes.seal(d)
	if err != nil {
		s.log.ErrorContext(r.Context(), "authserver.broker cannot issue code", "error", err)
		s.redirectError(w, &t.req, codeServerError, "cannot issue an authorization code")
		return
	}
	s.logAuthorize(r.Context(), &t.req, "code issued")
	v := url.Values{"code": {code}}
	if t.req.State != "" {
		v.Set("state", t.req.State)
	}
	setNoStore(w.Header())
	w.Header().Set("Location", s.authorizationResponse(t.req.RedirectURI, v))
	w.WriteHeader(http.StatusSeeOther)
}

// authorizeLimit charges the source address's login bucket: logins that
// reach the upstream IdP (and take server-side state) are limited per
// source at the grant rate (RateLimit.PerSecond/Burst). A failing limiter
// refuses (503).
func (s *Server) authorizeLimit(ctx context.Context, source string) *oauthError {
	if s.limits == nil {
		return nil
	}
	d, err := s.limits.store.Allow(ctx, "authorize|"+source, s.limits.grant)
	if err != nil {
		return limiterDown(err)
	}
	if !d.Allowed {
		return tooMany(d.RetryAfter, "too many authorization requests")
	}
	return nil
}
