package authserver

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
)

// TypeIDJAG is the JOSE "typ" of an Identity Assertion JWT Authorization
// Grant.
const TypeIDJAG = "oauth-id-jag+jwt"

// grantJWTBearer validates an ID-JAG presented with the jwt-bearer grant
// (RFC 7523 §2.1, draft-ietf-oauth-identity-assertion-authz-grant §4.4,
// MCP Enterprise-Managed Authorization §5). Every failure is invalid_grant
// except an unacceptable resource parameter (invalid_target), unusable
// scopes (invalid_scope) and an unreachable key set or replay store (503).
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
	if err := p.verify(ctx, idp.keys); err != nil {
		if isUnavailable(err) {
			oe := errUnavailable(http.StatusServiceUnavailable, "identity provider keys unavailable", err)
			oe.retryAfter = 5
			return nil, oe
		}
		return nil, errGrant("ID-JAG signature is invalid", err)
	}
	cl := p.claims
	if jti, _, _ := cl.str("jti"); len(jti) <= maxJTILength {
		ev.jti = jti
	}
	aud, err := cl.singleAudience()
	if err != nil {
		return nil, errGrant("invalid ID-JAG audience", err)
	}
	if aud != s.issuer {
		return nil, errGrant("ID-JAG audience is not this authorization server", nil)
	}
	exp, err := cl.checkTimes(timeRule{now: s.now(), leeway: s.leeway, maxLifetime: s.maxAssertion, requireIAT: true})
	if err != nil {
		return nil, errGrant("ID-JAG is not valid now", err)
	}
	sub, err := cl.requiredStr("sub")
	if err != nil {
		return nil, errGrant("invalid ID-JAG", err)
	}
	ev.sub = sub
	cid, err := cl.requiredStr("client_id")
	if err != nil {
		return nil, errGrant("invalid ID-JAG", err)
	}
	if cid != c.id {
		return nil, errGrant("ID-JAG was issued to another client", nil)
	}
	if sub == c.id {
		// A user subject equal to the client id would make the token look
		// like a client_credentials token to resource servers.
		return nil, errGrant("ID-JAG subject collides with the client id", nil)
	}
	if _, present := cl["cnf"]; present {
		return nil, errGrant("sender-constrained ID-JAGs are not supported", nil)
	}
	jti, err := cl.jti()
	if err != nil {
		return nil, errGrant("invalid ID-JAG", err)
	}
	r, oe := s.selectResourceIDJAG(c, cl, form["resource"])
	if oe != nil {
		return nil, oe
	}
	ev.resource = r.id
	jagScope, _, err := cl.str("scope")
	if err != nil {
		return nil, errGrant("invalid ID-JAG scope", err)
	}
	jagScopes, err := parseScope(jagScope)
	if err != nil {
		return nil, errGrant("invalid ID-JAG scope", err)
	}
	available := intersect(jagScopes, c.scopes, r.set)
	scopes, oe := decideScopes(available, form["scope"], s.strictScopes)
	if oe != nil {
		return nil, oe
	}
	ev.scopes = scopes
	extra, err := provenance(idp, cl)
	if err != nil {
		return nil, errGrant("invalid ID-JAG", err)
	}
	if oe := s.consume(ctx, replay.Key("idjag", iss, jti), exp); oe != nil {
		return nil, oe
	}
	return &grant{subject: sub, resource: r.id, scopes: scopes, extra: extra}, nil
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
