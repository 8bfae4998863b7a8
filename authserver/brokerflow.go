package authserver

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
	"github.com/mcpauthz/mcpauthz/internal/httpx"
	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// Login cookie names: the __Host- prefix needs Secure, so the loopback
// development issuer (http) uses the plain name.
const (
	loginCookieSecure   = "__Host-mcpauthz-login"
	loginCookieInsecure = "mcpauthz-login"
)

func (b *broker) cookieName() string {
	if b.secure {
		return loginCookieSecure
	}
	return loginCookieInsecure
}

func (b *broker) setLoginCookie(w http.ResponseWriter, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: b.cookieName(), Value: value, Path: "/", MaxAge: int(maxAge / time.Second),
		HttpOnly: true, Secure: b.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (b *broker) clearLoginCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: b.cookieName(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: b.secure, SameSite: http.SameSiteLaxMode,
	})
}

// login opens the request's login cookie: nil when it is absent, does not
// authenticate under this issuer's key, or has expired.
func (b *broker) login(r *http.Request, now time.Time) *loginState {
	c, err := r.Cookie(b.cookieName())
	if err != nil || len(c.Value) == 0 || len(c.Value) > maxLoginCookie {
		return nil
	}
	var t loginState
	if b.logins.open(c.Value, &t) != nil || t.ID == "" || now.Unix() >= t.Exp {
		return nil
	}
	return &t
}

// once marks a step of a login (callback or consent) as done in the
// shared replay store, so that each happens once at whichever replica:
// errLoginUsed when it already happened, another error when the store is
// unavailable (fail closed).
func (s *Server) once(ctx context.Context, step, id string, exp int64) error {
	err := s.replay.CheckAndStore(ctx, "login-"+step+"|"+id, time.Unix(exp, 0).Add(s.replayHold))
	if errors.Is(err, replay.ErrReplay) {
		return errLoginUsed
	}
	return err
}

// onceFailed shows the page for a failed once.
func (s *Server) onceFailed(ctx context.Context, w http.ResponseWriter, err error) {
	if errors.Is(err, errLoginUsed) {
		s.errorPage(w, http.StatusBadRequest, "Sign-in failed", "This sign-in was already used. Start again from the application.")
		return
	}
	s.log.WarnContext(ctx, "authserver.broker replay store unavailable", "error", err)
	w.Header().Set("Retry-After", "5")
	s.errorPage(w, http.StatusServiceUnavailable, "Sign-in unavailable", "Sign-in is temporarily unavailable. Try again in a minute.")
}

// storeDown shows the 503 page of an unavailable store.
func (s *Server) storeDown(ctx context.Context, w http.ResponseWriter, what string, err error) {
	s.log.WarnContext(ctx, "authserver.broker "+what+" unavailable", "error", err)
	w.Header().Set("Retry-After", "5")
	s.errorPage(w, http.StatusServiceUnavailable, "Sign-in unavailable", "Sign-in is temporarily unavailable. Try again in a minute.")
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
	req, _, ae := s.parseAuthorizeRequest(ctx, raw, s.sourceOf(r))
	if ae != nil {
		s.logAuthorize(ctx, req, ae.code+": "+ae.desc)
		if ae.unavailable {
			s.storeDown(ctx, w, "client registry", errClientStore)
			return
		}
		if !ae.redirect {
			s.errorPage(w, http.StatusBadRequest, "Invalid request", "This application sent an invalid sign-in request: "+ae.desc+".")
			return
		}
		s.redirectError(w, req, ae.code, ae.desc)
		return
	}
	if oe := s.authorizeLimit(ctx, s.sourceOf(r)); oe != nil {
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
	t := &loginState{
		ID: randomToken(), Req: *req, UpState: randomToken(), Nonce: randomToken(),
		Verifier: oauth2.GenerateVerifier(), Exp: s.now().Add(s.broker.loginTTL).Unix(),
	}
	cookie, err := s.broker.logins.seal(t)
	if err != nil {
		// only an oversized request (a long state, scope or client id)
		s.logAuthorize(ctx, req, "login state too large")
		s.errorPage(w, http.StatusBadRequest, "Invalid request", "This application sent a sign-in request that is too large.")
		return
	}
	s.broker.setLoginCookie(w, cookie, s.broker.loginTTL)
	setNoStore(w.Header())
	http.Redirect(w, r, oc.AuthCodeURL(t.UpState, oidc.Nonce(t.Nonce), oauth2.S256ChallengeOption(t.Verifier)), http.StatusFound)
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
// consent is remembered, redirects with a code). The login comes from the
// sealed cookie, so any replica can answer; the replay store makes each
// login's callback happen once, marked after the ID token is verified (a
// replayed callback is refused by the upstream, whose code is spent, or
// by the mark).
func (s *Server) serveCallback(w http.ResponseWriter, r *http.Request) {
	if !httpx.AllowGet(w, r) {
		return
	}
	b := s.broker
	ctx := r.Context()
	q := r.URL.Query()
	t := b.login(r, s.now())
	if t == nil || !equalSecret(q.Get("state"), t.UpState) {
		s.logAuthorize(ctx, nil, "callback without a matching login (state or cookie)")
		s.errorPage(w, http.StatusBadRequest, "Sign-in failed", "This sign-in is unknown or has expired. Start again from the application.")
		return
	}
	if e := q.Get("error"); e != "" {
		b.clearLoginCookie(w)
		s.logAuthorize(ctx, &t.Req, "upstream error "+truncateForLog(e))
		s.redirectError(w, &t.Req, "access_denied", "the identity provider did not authenticate the user")
		return
	}
	p, oc, err := b.upstream(ctx)
	if err != nil {
		s.errorPage(w, http.StatusServiceUnavailable, "Sign-in unavailable", "The identity provider cannot be reached. Try again in a minute.")
		return
	}
	uctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, b.hc), 10*time.Second)
	defer cancel()
	tok, err := oc.Exchange(uctx, q.Get("code"), oauth2.VerifierOption(t.Verifier))
	if err != nil {
		b.clearLoginCookie(w)
		s.log.WarnContext(ctx, "authserver.broker upstream code exchange failed", "error", err)
		s.errorPage(w, http.StatusBadGateway, "Sign-in failed", "The identity provider did not complete the sign-in. Start again from the application.")
		return
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: b.up.ClientID, Now: s.now}).Verify(uctx, rawID)
	if err == nil && !equalSecret(idt.Nonce, t.Nonce) {
		err = errors.New("nonce mismatch")
	}
	var cl claimSet
	if err == nil {
		cl, err = idTokenClaims(rawID)
	}
	if err != nil {
		b.clearLoginCookie(w)
		s.log.WarnContext(ctx, "authserver.broker ID token refused", "error", err)
		s.errorPage(w, http.StatusBadGateway, "Sign-in failed", "The identity provider's answer could not be verified.")
		return
	}
	// Marked once the upstream vouched for the login, not before: anyone
	// can start a login and call back with a forged code or an error, and
	// the mark shares its replay partition with every user's logins and
	// codes, so an anonymous flood would fill it.
	if err := s.once(ctx, "callback", t.ID, t.Exp); err != nil {
		s.onceFailed(ctx, w, err)
		return
	}
	sub := idt.Subject
	groups, _, gerr := cl.strList(b.groupsClaim)
	extra, perr := provenance(b.upIdP, cl)
	if gerr != nil || perr != nil || sub == "" || sub == t.Req.ClientID {
		b.clearLoginCookie(w)
		s.errorPage(w, http.StatusBadGateway, "Sign-in failed", "The identity provider's answer could not be used.")
		return
	}
	c, err := s.lookupClient(ctx, t.Req.ClientID, s.sourceOf(r))
	if errors.Is(err, errClientStore) {
		s.storeDown(ctx, w, "client registry", err)
		return
	}
	if c == nil { // a registered client forgotten, or a document refused, during the login
		b.clearLoginCookie(w)
		s.errorPage(w, http.StatusBadRequest, "Sign-in failed", "This application is no longer registered. Start again from the application.")
		return
	}
	res := s.resources[t.Req.Resource]
	allowed, matched := b.allowedScopes(groups, res.id)
	var scopes []string
	var oe *oauthError
	if matched {
		def := res.scopes
		if t.Req.Scope == "" {
			// no scope: the resource's scopes, as far as the user may have them
			def = intersect(def, toSet(allowed))
		}
		scopes, oe = decideScopes(intersect(def, toSet(allowed), c.scopes, res.set), t.Req.Scope, s.strictScopes)
	}
	if !matched || oe != nil {
		b.clearLoginCookie(w)
		s.logAuthorize(ctx, &t.Req, errBrokerRefused.Error())
		s.log.InfoContext(ctx, "authserver.broker refused", "sub", truncateForLog(sub), "client_id", c.id, "resource", res.id)
		s.errorPage(w, http.StatusForbidden, "Access denied", "Your organization's access policy does not allow you to use this application with "+res.id+". Ask your administrator for access.")
		return
	}
	t.Req.Scopes, t.Req.AccessGroups = scopes, b.accessGroups(groups, res.id)
	covered, err := b.consents.Covers(ctx, Consent{Subject: sub, ClientID: c.id, Resource: res.id, Scopes: scopes})
	if err != nil {
		s.storeDown(ctx, w, "consent store", err)
		return
	}
	if covered {
		b.clearLoginCookie(w)
		s.finishAuthorization(w, r, &t.Req, sub, extra)
		return
	}
	form, err := b.forms.seal(&consentState{Login: t.ID, Scopes: scopes, Subject: sub, Extra: extra, Exp: t.Exp, AccessGroups: t.Req.AccessGroups})
	if err != nil {
		b.clearLoginCookie(w)
		s.log.WarnContext(ctx, "authserver.broker consent form refused", "error", err)
		s.errorPage(w, http.StatusBadGateway, "Sign-in failed", "The identity provider's answer could not be used.")
		return
	}
	user := sub
	if e, ok := cl["email"].(string); ok && len(e) <= 256 {
		user = e // shown on the consent page only
	}
	s.consentPage(w, c, &t.Req, user, form)
}

// idTokenClaims decodes the payload of an already verified ID token with
// the one strict JSON scanner (internal/jsonscan): one JSON object, no
// duplicate or case-variant claim names, valid UTF-8, no trailing data, and
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
	m, err := jsonscan.DecodeObject(b, jsonscan.Options{})
	if err != nil {
		return nil, fmt.Errorf("ID token payload: %w", err)
	}
	return claimSet(m), nil
}

// serveConsent receives the consent form. The form's sealed state must
// belong to the login in the browser's cookie; the replay store makes each
// login's decision happen once, at whichever replica.
func (s *Server) serveConsent(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	b := s.broker
	ctx := r.Context()
	now := s.now()
	// Bounded before parsing: a body over maxConsentBody (9 KiB) is 413,
	// whether its Content-Length says so or the read does.
	var body []byte
	err := httpx.ErrTooLarge
	if r.ContentLength <= maxConsentBody {
		body, err = httpx.ReadBounded(r.Body, maxConsentBody)
	}
	if errors.Is(err, httpx.ErrTooLarge) {
		s.errorPage(w, http.StatusRequestEntityTooLarge, "Request refused", "The consent form is too large.")
		return
	}
	var f map[string]string
	if err == nil && checkFormContentType(r.Header.Get("Content-Type")) == nil {
		f, err = parseForm(string(body))
	} else if err == nil {
		err = errors.New("not a form")
	}
	var t *loginState
	var cs consentState
	if err == nil {
		t = b.login(r, now)
	}
	if t == nil || b.forms.open(f["csrf"], &cs) != nil || !equalSecret(cs.Login, t.ID) || now.Unix() >= cs.Exp {
		s.logAuthorize(ctx, nil, "consent without a matching login (cookie or CSRF token)")
		s.errorPage(w, http.StatusForbidden, "Request refused", "This consent form is unknown or has expired. Start again from the application.")
		return
	}
	if err := s.once(ctx, "consent", t.ID, t.Exp); err != nil {
		if errors.Is(err, errLoginUsed) {
			s.errorPage(w, http.StatusForbidden, "Request refused", "This consent form was already used.")
			return
		}
		s.onceFailed(ctx, w, err)
		return
	}
	b.clearLoginCookie(w)
	t.Req.Scopes, t.Req.AccessGroups = cs.Scopes, cs.AccessGroups
	switch f["decision"] {
	case "allow":
		if err := b.consents.Remember(ctx, Consent{Subject: cs.Subject, ClientID: t.Req.ClientID, Resource: t.Req.Resource, Scopes: cs.Scopes}); err != nil {
			s.storeDown(ctx, w, "consent store", err)
			return
		}
		s.finishAuthorization(w, r, &t.Req, cs.Subject, cs.Extra)
	default:
		s.logAuthorize(ctx, &t.Req, "consent denied")
		s.redirectError(w, &t.Req, "access_denied", "the user denied the request")
	}
}

// finishAuthorization seals a code and redirects to the client.
func (s *Server) finishAuthorization(w http.ResponseWriter, r *http.Request, req *authzRequest, subject string, extra map[string]any) {
	d := &codeData{
		ID: newTokenID(), Exp: s.now().Add(DefaultCodeLifetime).Unix(), ClientID: req.ClientID,
		Redirect: req.RedirectURI, Challenge: req.Challenge, Resource: req.Resource,
		Scopes: req.Scopes, Subject: subject, Extra: extra, AccessGroups: req.AccessGroups,
	}
	code, err := s.broker.codes.seal(d)
	if err != nil {
		s.log.ErrorContext(r.Context(), "authserver.broker cannot issue code", "error", err)
		s.redirectError(w, req, codeServerError, "cannot issue an authorization code")
		return
	}
	s.logAuthorize(r.Context(), req, "code issued")
	v := url.Values{"code": {code}}
	if req.State != "" {
		v.Set("state", req.State)
	}
	setNoStore(w.Header())
	w.Header().Set("Location", s.authorizationResponse(req.RedirectURI, v))
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
