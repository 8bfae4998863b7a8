package authserver

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
)

// AssertionTypeJWTBearer is the client_assertion_type of private_key_jwt
// (RFC 7523 §2.2).
const AssertionTypeJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// authenticateClient identifies and authenticates the client with exactly
// one method: HTTP Basic, client_secret in the body, or a client assertion.
// More than one method is invalid_request (RFC 6749 §2.3); none, or a
// failed one, is invalid_client (401).
//
// Failed authentication is throttled per claimed client id and source
// address (see [RateLimit]); the client's grant limit is charged only after
// it has authenticated, by the caller.
func (s *Server) authenticateClient(ctx context.Context, h http.Header, source string, form map[string]string, ev *auditEvent) (*client, *oauthError) {
	c, oe := s.authenticate(ctx, h, source, form, ev)
	if oe != nil {
		// Steps still queued (the failure check) come first, as when
		// they run before the credential is checked.
		if a := admissionFrom(ctx); a != nil {
			if foe := a.flush(ctx); foe != nil {
				oe = foe
			}
		}
		if oe.status == http.StatusUnauthorized && !errors.Is(oe.cause, errReplayed) {
			s.authFailed(ctx, ev.clientID, source)
		}
	}
	return c, oe
}

func (s *Server) authenticate(ctx context.Context, h http.Header, source string, form map[string]string, ev *auditEvent) (*client, *oauthError) {
	authz := h.Values("Authorization")
	if len(authz) > 1 {
		return nil, errRequest("more than one Authorization header", nil)
	}
	usedBasic := len(authz) == 1
	hasPost := form["client_secret"] != ""
	hasJWT := form["client_assertion"] != "" || form["client_assertion_type"] != ""
	n := 0
	for _, b := range []bool{usedBasic, hasPost, hasJWT} {
		if b {
			n++
		}
	}
	if n > 1 {
		return nil, errRequest("more than one client authentication method", nil)
	}
	formID := form["client_id"]
	switch {
	case usedBasic:
		ev.authMethod = AuthClientSecretBasic
		id, secret, ok, err := parseBasic(authz[0])
		if !ok || err != nil {
			oe := errClient("client authentication failed", err)
			if !ok {
				oe = errClient("unsupported authentication scheme", nil)
			}
			oe.basic = true
			return nil, oe
		}
		ev.clientID = id
		if formID != "" && formID != id {
			return nil, errRequest("client_id does not match the Authorization header", nil)
		}
		return s.checkSecret(ctx, source, id, secret, AuthClientSecretBasic)
	case hasPost:
		ev.authMethod = AuthClientSecretPost
		if formID == "" {
			return nil, errRequest("client_id is required with client_secret", nil)
		}
		ev.clientID = formID
		return s.checkSecret(ctx, source, formID, form["client_secret"], AuthClientSecretPost)
	case hasJWT:
		ev.authMethod = AuthPrivateKeyJWT
		return s.checkAssertion(ctx, source, formID, form["client_assertion_type"], form["client_assertion"], ev)
	}
	ev.clientID = formID
	return nil, errClient("client authentication is required", nil)
}

// checkSecret compares a presented secret with the stored hash. An unknown
// client, a client without a secret and a client not registered for method
// all cost one salted SHA-256 and one constant-time comparison, and all get
// the same error.
func (s *Server) checkSecret(ctx context.Context, source, id, secret, method string) (*client, *oauthError) {
	if oe := s.preAuth(ctx, id, source); oe != nil {
		return nil, oe
	}
	c, err := s.credentialedClient(ctx, id) // never a metadata document: those clients have no secret
	if err != nil {
		oe := errUnavailable(http.StatusServiceUnavailable, "client registry unavailable", err)
		oe.retryAfter = 5
		return nil, oe
	}
	h := s.dummySecret
	if c != nil && c.secret != nil {
		h = c.secret
	}
	s.secretChecks.Add(1)
	match := h.matches(secret)
	if !match || c == nil || c.secret == nil || !c.methods[method] {
		oe := errClient("client authentication failed", nil)
		oe.basic = method == AuthClientSecretBasic
		return nil, oe
	}
	return c, nil
}

// checkAssertion authenticates a private_key_jwt client (RFC 7523 §3 as
// tightened by draft-ietf-oauth-rfc7523bis):
//
//   - client_assertion_type is exactly AssertionTypeJWTBearer;
//   - typ is absent, "JWT" or "client-authentication+jwt";
//   - iss = sub = a registered client allowed to use private_key_jwt, and
//     equal to the client_id parameter when one is sent;
//   - the signature verifies with the client's registered keys, with an
//     algorithm from Config.ClientAssertionAlgorithms allowed by the key;
//   - aud is the issuer identifier (a string or a one-element array; one
//     trailing slash tolerated; the token endpoint URL only with
//     AllowTokenEndpointAudience);
//   - exp is present, not past, and at most MaxAssertionLifetime ahead;
//     iat and nbf, when present, are not in the future;
//   - jti is present and has not been used before (replay store).
func (s *Server) checkAssertion(ctx context.Context, source, formID, typ, raw string, ev *auditEvent) (*client, *oauthError) {
	if typ != AssertionTypeJWTBearer {
		return nil, errClient("unsupported client_assertion_type", nil)
	}
	if raw == "" {
		return nil, errRequest("client_assertion is missing", nil)
	}
	p, err := parseJWT(raw, s.assertionAlgs)
	if err != nil {
		return nil, errClient("malformed client assertion", err)
	}
	if t := p.typ(); t != "" && !typIs(t, "JWT") && !typIs(t, "client-authentication+jwt") {
		return nil, errClient("client assertion has the wrong typ", errors.New("typ "+truncateForLog(t)))
	}
	iss, err := p.claims.requiredStr("iss")
	if err != nil {
		return nil, errClient("invalid client assertion", err)
	}
	sub, err := p.claims.requiredStr("sub")
	if err != nil {
		return nil, errClient("invalid client assertion", err)
	}
	ev.clientID = sub
	if iss != sub {
		return nil, errClient("client assertion iss and sub differ", nil)
	}
	if formID != "" && formID != sub {
		return nil, errClient("client_id does not match the client assertion", nil)
	}
	if oe := s.preAuth(ctx, sub, source); oe != nil {
		return nil, oe
	}
	c := s.clients[sub]
	s.assertionChecks.Add(1)
	if c == nil || !c.methods[AuthPrivateKeyJWT] {
		// Same answer and comparable work as a registered client whose
		// signature does not verify: one verification with a throwaway key.
		_ = p.verify(ctx, s.dummyKeys)
		return nil, errClient("client authentication failed", errors.New("unknown client or private_key_jwt not registered"))
	}
	if err := p.verify(ctx, c.keys); err != nil {
		if isUnavailable(err) {
			// Answered as an unknown id is (docs/security.md): a 503 would
			// tell anyone that the id exists and its key endpoint is down.
			s.log.ErrorContext(ctx, "authserver: client key set unavailable; assertion refused as invalid_client", "client_id", c.id, "error", err.Error())
		}
		return nil, errClient("client authentication failed", err)
	}
	aud, err := p.claims.singleAudience()
	if err != nil {
		return nil, errClient("invalid client assertion audience", err)
	}
	if aud != s.issuer && aud != s.issuer+"/" && (!s.allowTEAud || aud != s.tokenEndpoint) {
		return nil, errClient("client assertion audience is not this authorization server", nil)
	}
	exp, err := p.claims.checkTimes(timeRule{now: s.now(), leeway: s.leeway, maxLifetime: s.maxAssertion})
	if err != nil {
		return nil, errClient("client assertion is not valid now", err)
	}
	jti, err := p.claims.jti()
	if err != nil {
		return nil, errClient("invalid client assertion", err)
	}
	ev.assertionJTI = jti
	// A replayed assertion is a failed authentication: the refusal charges
	// the failure buckets itself, as the step may be answered later.
	refuse := func(GrantStepsResult) *oauthError {
		s.authFailed(ctx, sub, source)
		return errClient("client assertion already used", errReplayed)
	}
	if oe := s.step(ctx, GrantStep{Kind: StepConsume, Key: replay.Key("client_assertion", c.id, jti), Exp: exp.Add(s.replayHold)}, refuse); oe != nil {
		return nil, oe
	}
	return c, nil
}

// consume records a one-time identifier until exp + leeway + replay
// clock skew. A replay is
// invalid_grant; a store failure is 503 temporarily_unavailable (fail
// closed).
func (s *Server) consume(ctx context.Context, key string, exp time.Time) *oauthError {
	return s.step(ctx, GrantStep{Kind: StepConsume, Key: key, Exp: exp.Add(s.replayHold)}, refuseReplay)
}

func refuseReplay(GrantStepsResult) *oauthError {
	return errGrant("assertion already used", errReplayed)
}
