package authserver

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"
)

// TypeIDJAG is the JOSE "typ" of an Identity Assertion JWT Authorization
// Grant.
const TypeIDJAG = "oauth-id-jag+jwt"

// grantJWTBearer validates an ID-JAG presented with the jwt-bearer grant
// (RFC 7523 §2.1, draft-ietf-oauth-identity-assertion-authz-grant §4.4,
// MCP Enterprise-Managed Authorization §5). Every failure is invalid_grant
// except an unacceptable resource parameter (invalid_target), unusable
// scopes (invalid_scope) and an unreachable key set or replay store (503).
//
// The answers are those of checking the signature first and the claims
// after: a claim refusal is returned only for an ID-JAG whose signature
// verifies. The work is ordered for a GrantStepsSender store, whose round
// trip then runs while the signature is verified and the access token
// signed: the IdP's keys are obtained first (a key set that cannot be
// fetched answers 503 before anything is recorded), the claims are checked
// unverified, and when they all pass the request's batch (failure check,
// grant charge, client assertion jti, and this ID-JAG's replay key) is
// sent before the signature is verified. Once the keys are at hand,
// verification needs nothing that can fail for a genuine ID-JAG, so the
// only ID-JAGs whose key is recorded and that are then refused are forged
// ones. Other stores record the key after the signature verified.
//
// Recording the key before the signature is verified (Sender stores only)
// is safe for these reasons:
//   - The key is idjagKey's, "idjag|<client id>|<iss>|<jti>", and the
//     client id is the authenticated client's (the client_id claim must
//     equal it before anything is sent). Another client, authenticated or
//     not, can never record a key in this client's namespace, and a
//     genuine ID-JAG is bound to one client id, so exactly-once holds for
//     it as before.
//   - Only a client that authenticated sends a batch, and its grant charge
//     comes before the key in the batch: a refused charge records nothing.
//     A forged ID-JAG costs its client one grant.
//   - When the signature then fails, the batch's answer is collected (its
//     refusal, if any, is the answer) and the key it recorded is deleted
//     if it still holds this request's random value (StepRelease, one more
//     round trip on this path only; a value so that a key that expired
//     meanwhile and was recorded by another request stays) before the
//     request is refused, so a forged ID-JAG with a victim's jti from the
//     same client does not refuse the genuine one sent after it. One sent
//     while the forged one is being verified (microseconds, the keys being
//     at hand) is refused as a replay; only a holder of this client's
//     credentials who knows the jti can cause that, and such a holder
//     could redeem the ID-JAG itself if it had it.
//   - The key's lifetime is exp + leeway, and exp was checked to be at
//     most MaxAssertionLifetime + leeway ahead (a later exp is refused
//     before anything is sent).
//   - No access token is returned before the batch answered that every
//     step passed (issueChecked).
func (s *Server) grantJWTBearer(ctx context.Context, c *client, form map[string]string, ev *auditEvent) (*grant, *oauthError) {
	raw := form["assertion"]
	if raw == "" {
		return nil, errRequest("assertion is missing", nil)
	}
	p, err := parseJWT(raw, allAlgorithms)
	if err != nil {
		return nil, errGrant("malformed assertion", err)
	}
	if !typIs(p.typ(), TypeIDJAG) {
		return nil, errGrant("assertion is not an ID-JAG", errors.New("typ "+truncateForLog(p.typ())))
	}
	iss, err := p.claims.requiredStr("iss")
	if err != nil {
		return nil, errGrant("invalid ID-JAG", err)
	}
	ev.iss = iss
	idp := s.idps[iss]
	if idp == nil || iss == s.issuer {
		return nil, errGrant("ID-JAG issuer is not trusted", nil)
	}
	if !slices.Contains(idp.algs, p.alg()) {
		return nil, errGrant("ID-JAG algorithm not allowed", errors.New("alg "+p.alg()))
	}
	keys, err := p.keysFor(ctx, idp.keys)
	if err != nil {
		if isUnavailable(err) {
			oe := errUnavailable(http.StatusServiceUnavailable, "identity provider keys unavailable", err)
			oe.retryAfter = 5
			return nil, oe
		}
		return nil, errGrant("ID-JAG signature is invalid", err)
	}
	// claims, unverified; their audit fields are kept only once verified
	var pre auditEvent
	g, jti, exp, coe := s.idjagClaims(c, idp, p.claims, form, &pre)
	adm := admissionFrom(ctx)
	early := coe == nil && adm.streams()
	var mark string // this request's value of the key, for release
	if early {
		mark = newTokenID()
		st := GrantStep{Kind: StepConsume, Key: idjagKey(c.id, iss, jti), Exp: exp.Add(s.leeway), Value: mark}
		if oe := s.step(ctx, st, refuseReplay); oe != nil {
			return nil, oe
		}
		adm.start(ctx)
	}
	if err := p.verifyWith(keys); err != nil {
		if early {
			// A refusal of the batch comes first; a batch that passed
			// recorded this forged ID-JAG's key: delete it.
			if oe := adm.flush(ctx); oe != nil {
				return nil, oe
			}
			adm.release(ctx, idjagKey(c.id, iss, jti), mark)
		}
		return nil, errGrant("ID-JAG signature is invalid", err)
	}
	ev.jti, ev.sub, ev.resource, ev.scopes = pre.jti, pre.sub, pre.resource, pre.scopes
	if coe != nil {
		return nil, coe
	}
	if !early {
		if oe := s.consume(ctx, idjagKey(c.id, iss, jti), exp); oe != nil {
			return nil, oe
		}
	}
	return g, nil
}

// idjagKey is the replay key of an ID-JAG: the authenticated client's id
// (which the ID-JAG's client_id claim equals), its issuer and its jti, so
// that a client can only record keys in its own namespace. The memory
// store's partition (replay.Partition) is "idjag|<client id>".
func idjagKey(clientID, iss, jti string) string {
	return "idjag|" + clientID + "|" + iss + "|" + jti
}

// idjagClaims checks the claims of an ID-JAG from idp for client c, in the
// order of the checks made after its signature, filling ev's jti, sub,
// resource and scopes as they are known. It returns the grant, the jti and
// the expiry.
func (s *Server) idjagClaims(c *client, idp *idp, cl claimSet, form map[string]string, ev *auditEvent) (*grant, string, time.Time, *oauthError) {
	fail := func(oe *oauthError) (*grant, string, time.Time, *oauthError) { return nil, "", time.Time{}, oe }
	if jti, _, _ := cl.str("jti"); len(jti) <= maxJTILength {
		ev.jti = jti
	}
	aud, err := cl.singleAudience()
	if err != nil {
		return fail(errGrant("invalid ID-JAG audience", err))
	}
	if aud != s.issuer {
		return fail(errGrant("ID-JAG audience is not this authorization server", nil))
	}
	exp, err := cl.checkTimes(timeRule{now: s.now(), leeway: s.leeway, maxLifetime: s.maxAssertion, requireIAT: true})
	if err != nil {
		return fail(errGrant("ID-JAG is not valid now", err))
	}
	sub, err := cl.requiredStr("sub")
	if err != nil {
		return fail(errGrant("invalid ID-JAG", err))
	}
	ev.sub = sub
	cid, err := cl.requiredStr("client_id")
	if err != nil {
		return fail(errGrant("invalid ID-JAG", err))
	}
	if cid != c.id {
		return fail(errGrant("ID-JAG was issued to another client", nil))
	}
	if sub == c.id {
		// A user subject equal to the client id would make the token look
		// like a client_credentials token to resource servers.
		return fail(errGrant("ID-JAG subject collides with the client id", nil))
	}
	if _, present := cl["cnf"]; present {
		return fail(errGrant("sender-constrained ID-JAGs are not supported", nil))
	}
	jti, err := cl.jti()
	if err != nil {
		return fail(errGrant("invalid ID-JAG", err))
	}
	r, oe := s.selectResourceIDJAG(c, cl, form["resource"])
	if oe != nil {
		return fail(oe)
	}
	ev.resource = r.id
	jagScope, _, err := cl.str("scope")
	if err != nil {
		return fail(errGrant("invalid ID-JAG scope", err))
	}
	jagScopes, err := parseScope(jagScope)
	if err != nil {
		return fail(errGrant("invalid ID-JAG scope", err))
	}
	available := intersect(jagScopes, c.scopes, r.set)
	scopes, oe := decideScopes(available, form["scope"], s.strictScopes)
	if oe != nil {
		return fail(oe)
	}
	ev.scopes = scopes
	extra, err := provenance(idp, cl)
	if err != nil {
		return fail(errGrant("invalid ID-JAG", err))
	}
	return &grant{subject: sub, resource: r.id, scopes: scopes, extra: extra}, jti, exp, nil
}

// selectResourceIDJAG picks the audience of the access token. Every
// resource the ID-JAG names must be served here (else invalid_grant). The
// request's resource parameter, when sent, must be among them (else
// invalid_target). Without a parameter: the ID-JAG's only resource, or the
// default resource if the ID-JAG lists it. An ID-JAG without a resource
// claim is accepted only when exactly one resource is configured.
func (s *Server) selectResourceIDJAG(c *client, cl claimSet, requested string) (*resource, *oauthError) {
	list, present, err := cl.strList("resource")
	if err != nil {
		return nil, errGrant("invalid ID-JAG resource", err)
	}
	var id string
	if !present {
		if len(s.resources) != 1 {
			return nil, errGrant("ID-JAG has no resource", nil)
		}
		id = s.defaultResource
		if requested != "" && requested != id {
			return nil, errTarget("unknown resource", nil)
		}
	} else {
		for _, r := range list {
			if s.resources[r] == nil {
				return nil, errGrant("ID-JAG resource is not served by this authorization server", nil)
			}
		}
		switch {
		case requested != "":
			if !slices.Contains(list, requested) {
				return nil, errTarget("resource is not granted by the ID-JAG", nil)
			}
			id = requested
		case len(list) == 1:
			id = list[0]
		case slices.Contains(list, s.defaultResource):
			id = s.defaultResource
		default:
			return nil, errTarget("resource parameter is required", nil)
		}
	}
	if c.resources != nil && !c.resources[id] {
		return nil, errTarget("the client may not obtain tokens for this resource", nil)
	}
	return s.resources[id], nil
}

// provenance returns the extra access-token claims for an ID-JAG grant:
// idp_iss, tenant, acr, amr and auth_time when present and well-typed, and
// the IdP's configured claim mappings.
func provenance(p *idp, cl claimSet) (map[string]any, error) {
	extra := map[string]any{"idp_iss": p.issuer}
	for _, name := range []string{"tenant", "acr"} {
		if v, present, err := cl.str(name); err != nil {
			return nil, err
		} else if present && v != "" {
			extra[name] = v
		}
	}
	if _, present := cl["amr"]; present {
		amr, _, err := cl.strList("amr")
		if err != nil {
			return nil, err
		}
		extra["amr"] = amr
	}
	if at, present, err := cl.numericDate("auth_time"); err != nil {
		return nil, err
	} else if present {
		extra["auth_time"] = at.Unix()
	}
	for from, to := range p.claims {
		if v, ok := cl[from]; ok {
			extra[to] = v
		}
	}
	return extra, nil
}
