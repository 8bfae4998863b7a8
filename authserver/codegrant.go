package authserver

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
)

// tokenClient identifies the client of a token request. Public clients
// (AuthNone) of the authorization code and refresh token grants send only
// client_id; everyone else authenticates (authenticateClient).
func (s *Server) tokenClient(ctx context.Context, r *http.Request, gt string, form map[string]string, ev *auditEvent) (*client, *oauthError) {
	if gt == GrantAuthorizationCode || gt == GrantRefreshToken {
		c, err := s.lookupClient(ctx, form["client_id"], s.sourceOf(r))
		if errors.Is(err, errClientStore) {
			oe := errUnavailable(http.StatusServiceUnavailable, "client registry unavailable", err)
			oe.retryAfter = 5
			return nil, oe
		}
		noCreds := len(r.Header.Values("Authorization")) == 0 && form["client_secret"] == "" &&
			form["client_assertion"] == "" && form["client_assertion_type"] == ""
		if c != nil && c.public {
			ev.clientID, ev.authMethod = c.id, AuthNone
			if !noCreds {
				return nil, errClient("a public client must not send credentials", nil)
			}
			return c, nil
		}
	}
	c, oe := s.authenticateClient(ctx, r.Header, s.sourceOf(r), form, ev)
	if oe == nil && c.public {
		return nil, errClient("client authentication failed", nil)
	}
	return c, oe
}

// grantAuthorizationCode redeems a code (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3,
// RFC 7636 §4.6, RFC 8707 §2.2).
func (s *Server) grantAuthorizationCode(ctx context.Context, c *client, form map[string]string, ev *auditEvent) (*grant, *oauthError) {
	if s.broker == nil {
		return nil, newErr(http.StatusBadRequest, codeUnsupportedGrantType, "unsupported grant_type", nil)
	}
	raw := form["code"]
	if raw == "" {
		return nil, errRequest("code is missing", nil)
	}
	verifier := form["code_verifier"]
	if verifier == "" {
		return nil, errRequest("code_verifier is missing", nil)
	}
	d := &codeData{}
	if err := s.broker.codes.open(raw, d); err != nil {
		return nil, errGrant("invalid authorization code", err)
	}
	ev.sub, ev.resource, ev.jti = d.Subject, d.Resource, d.ID
	now := s.now()
	switch {
	case codeExpired(d, now):
		return nil, errGrant("authorization code expired", nil)
	case d.ClientID != c.id:
		return nil, errGrant("authorization code was issued to another client", nil)
	case form["redirect_uri"] != d.Redirect:
		return nil, errGrant("redirect_uri does not match the authorization request", nil)
	case !validPKCE(verifier, 43, 128) || !equalSecret(pkceS256(verifier), d.Challenge):
		return nil, errGrant("PKCE verification failed", nil)
	}
	if res := form["resource"]; res != "" && res != d.Resource {
		return nil, errTarget("resource differs from the authorization request", nil)
	}
	if s.resources[d.Resource] == nil || (c.resources != nil && !c.resources[d.Resource]) {
		return nil, errTarget("the client may not obtain tokens for this resource", nil)
	}
	if oe := s.consume(ctx, "code|"+d.ID, time.Unix(d.Exp, 0)); oe != nil {
		if errors.Is(oe.cause, errReplayed) {
			// RFC 6749 §4.1.2: revoke what the code already produced. The
			// mark covers a first redemption still under way: it checks
			// the mark after saving its family (issueRefresh).
			_ = s.replay.CheckAndStore(ctx, replayedCodeKey(d.ID), time.Unix(d.Exp, 0).Add(s.replayHold))
			_ = s.broker.refresh.RevokeFamily(ctx, d.ID)
			return nil, errGrant("authorization code already used", oe.cause)
		}
		return nil, oe
	}
	scopes := d.Scopes
	if form["scope"] != "" {
		var oe *oauthError
		if scopes, oe = decideScopes(d.Scopes, form["scope"], s.strictScopes); oe != nil {
			return nil, oe
		}
	}
	ev.scopes = scopes
	s.markClientUsed(ctx, c, d.Subject)
	g := &grant{subject: d.Subject, resource: d.Resource, scopes: scopes, extra: d.Extra}
	if c.grants[GrantRefreshToken] {
		g.refreshFamily = &RefreshFamily{
			ID: d.ID, ClientID: c.id, Subject: d.Subject, Resource: d.Resource,
			Scopes: d.Scopes, Extra: d.Extra, Created: now, LastUsed: now, AccessGroups: d.AccessGroups,
		}
		g.codeExp = time.Unix(d.Exp, 0)
	}
	return g, nil
}

// grantRefreshToken rotates a refresh token (OAuth 2.1 §4.3). The request
// is validated against the family (Peek) before the token is spent, so a
// refused request (wrong resource, bad scope) leaves the token usable and a
// corrected retry is not taken for reuse. Refusals that end the family
// (another client, expired, client or resource no longer allowed) revoke it.
func (s *Server) grantRefreshToken(ctx context.Context, c *client, form map[string]string, ev *auditEvent) (*grant, *oauthError) {
	if s.broker == nil {
		return nil, newErr(http.StatusBadRequest, codeUnsupportedGrantType, "unsupported grant_type", nil)
	}
	raw := form["refresh_token"]
	if raw == "" || len(raw) > 256 {
		return nil, errRequest("refresh_token is missing or malformed", nil)
	}
	tok, ok := parseRefreshToken(raw)
	if !ok {
		// not handle.generation.secret (tokens of the earlier opaque
		// format included): nothing to look up
		return nil, errGrant("invalid refresh token", ErrRefreshUnknown)
	}
	store := s.broker.refresh
	next, nextTok := tok.next()
	now := s.now()
	f, err := store.Peek(ctx, tok)
	if errors.Is(err, ErrRefreshReused) {
		_, err = store.Rotate(ctx, tok, nextTok.SecretHash, now) // revokes the family
	}
	if oe := s.refreshStoreErr(ctx, c, err); oe != nil {
		return nil, oe
	}
	ev.sub, ev.resource = f.Subject, f.Resource
	revoke := func(desc string) (*grant, *oauthError) {
		_ = store.RevokeFamily(ctx, f.ID)
		return nil, errGrant(desc, nil)
	}
	switch {
	case f.ClientID != c.id:
		return revoke("refresh token was issued to another client")
	case now.Sub(f.LastUsed) >= s.broker.refreshIdle:
		return revoke("refresh token expired (idle)")
	case now.Sub(f.Created) >= s.broker.refreshAbs:
		return revoke("refresh token expired")
	case !c.grants[GrantRefreshToken]:
		return revoke("the client may not use refresh tokens")
	}
	if s.resources[f.Resource] == nil || (c.resources != nil && !c.resources[f.Resource]) {
		return revoke("resource no longer available")
	}
	// The broker's access rules as they are now: a family from a login
	// keeps only the scopes the rules still give the groups that matched
	// then, and ends when none matches any more.
	available := intersect(f.Scopes, c.scopes, s.resources[f.Resource].set)
	if f.AccessGroups != nil {
		allowed, matched := s.broker.allowedScopes(f.AccessGroups, f.Resource)
		if !matched {
			return revoke("the user's access rule was removed")
		}
		available = intersect(available, toSet(allowed))
	}
	// Refusals that leave the token usable.
	if res := form["resource"]; res != "" && res != f.Resource {
		return nil, errTarget("resource differs from the original grant", nil)
	}
	// scopes may only narrow (RFC 6749 §6), and never beyond today's config
	scopes, oe := decideScopes(available, form["scope"], s.strictScopes)
	if oe != nil {
		return nil, oe
	}
	// Spend the token. A concurrent rotation of the same token wins the
	// race and this one counts as reuse (the store revokes the family).
	rf, err := store.Rotate(ctx, tok, nextTok.SecretHash, now)
	if oe := s.refreshStoreErr(ctx, c, err); oe != nil {
		return nil, oe
	}
	if rf.ID != f.ID {
		return revoke("refresh token changed family")
	}
	ev.scopes = scopes
	s.markClientUsed(ctx, c, f.Subject)
	return &grant{subject: f.Subject, resource: f.Resource, scopes: scopes, extra: f.Extra, refreshToken: next}, nil
}

// markClientUsed records a registered client's authenticated use (a code
// or refresh token redeemed): it protects the client from eviction and
// restarts its idle lifetime. Lookups alone do not, since anyone can make
// them. A failure costs nothing but that, so it is only logged.
func (s *Server) markClientUsed(ctx context.Context, c *client, subject string) {
	if c.origin != originRegistered {
		return
	}
	if err := s.registrar.store.MarkUsed(ctx, c.id, subject); err != nil {
		s.log.WarnContext(ctx, "authserver.register cannot mark the client used", "client_id", c.id, "error", err)
	}
}

// refreshStoreErr maps a RefreshStore error to the token response.
func (s *Server) refreshStoreErr(ctx context.Context, c *client, err error) *oauthError {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrRefreshReused):
		s.log.WarnContext(ctx, "authserver.refresh reuse: family revoked", "client_id", c.id)
		return errGrant("refresh token was already used; its family is revoked", err)
	case errors.Is(err, ErrRefreshUnknown):
		return errGrant("invalid refresh token", err)
	}
	oe := errUnavailable(http.StatusServiceUnavailable, "refresh token store unavailable", err)
	oe.retryAfter = 5
	return oe
}

// issueRefresh starts the refresh family of a code grant and returns its
// first token.
func (s *Server) issueRefresh(ctx context.Context, g *grant) (string, *oauthError) {
	if g.refreshFamily == nil {
		return g.refreshToken, nil
	}
	tok, t := newRefreshToken()
	if err := s.broker.refresh.Save(ctx, t, *g.refreshFamily); err != nil {
		oe := errUnavailable(http.StatusServiceUnavailable, "refresh token store unavailable", err)
		oe.retryAfter = 5
		return "", oe
	}
	// A replay of the code seen while this redemption was under way
	// revoked nothing yet: set the mark first and revoke if it was set.
	if err := s.replay.CheckAndStore(ctx, replayedCodeKey(g.refreshFamily.ID), g.codeExp.Add(s.replayHold)); err != nil {
		_ = s.broker.refresh.RevokeFamily(ctx, g.refreshFamily.ID)
		if errors.Is(err, replay.ErrReplay) {
			return "", errGrant("authorization code already used", errReplayed)
		}
		oe := errUnavailable(http.StatusServiceUnavailable, "replay protection unavailable", err)
		oe.retryAfter = 5
		return "", oe
	}
	return tok, nil
}

// replayedCodeKey marks, in the replay store, a code redeemed more than
// once (and, set by its first redemption, one that started a family).
func replayedCodeKey(id string) string { return "code-family|" + id }
