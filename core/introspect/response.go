package introspect

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/claims"
	"github.com/mcpauthz/mcpauthz/internal/clip"
)

// response is the typed view of an RFC 7662 §2.2 response.
type response struct {
	Active    *bool   `json:"active"`
	Scope     *string `json:"scope"`
	ClientID  *string `json:"client_id"`
	TokenType *string `json:"token_type"`
	Sub       *string `json:"sub"`
	Iss       *string `json:"iss"`
	Jti       *string `json:"jti"`
}

// parseResponse decodes body strictly, in one pass (internal/jsonscan). A
// malformed body, a member of the wrong JSON type (e.g. "active": "true"),
// or a missing "active" wraps core.ErrUnavailable: the server's answer
// cannot be trusted either way.
func parseResponse(body []byte) (*response, core.RawClaims, error) {
	raw, err := core.ParseRawClaims(body)
	if err != nil {
		return nil, core.RawClaims{}, fmt.Errorf("%w: introspection response: %w", core.ErrUnavailable, err)
	}
	var r response
	if v, ok := raw.Get("active"); ok {
		b, isBool := v.(bool)
		if !isBool {
			return nil, core.RawClaims{}, fmt.Errorf("%w: introspection response: \"active\" is not a boolean", core.ErrUnavailable)
		}
		r.Active = &b
	}
	for _, f := range []struct {
		name string
		dst  **string
	}{{"scope", &r.Scope}, {"client_id", &r.ClientID}, {"token_type", &r.TokenType}, {"sub", &r.Sub}, {"iss", &r.Iss}, {"jti", &r.Jti}} {
		v, ok := raw.Get(f.name)
		if !ok || v == nil { // null leaves the member unset, as encoding/json did
			continue
		}
		s, isStr := v.(string)
		if !isStr {
			return nil, core.RawClaims{}, fmt.Errorf("%w: introspection response: %q is not a string", core.ErrUnavailable, f.name)
		}
		*f.dst = &s
	}
	if r.Active == nil {
		return nil, core.RawClaims{}, fmt.Errorf("%w: introspection response has no boolean \"active\"", core.ErrUnavailable)
	}
	return &r, raw, nil
}

// maxErrValue bounds the quoted text (clip.Quote: cut after escaping) of
// a value of the response in a rejection, which a negative cache entry
// keeps (charged its length, entryBytes) and the verifier logs.
const maxErrValue = 256

// checks is the part of Config the claim checks need.
type checks struct {
	issuer     string
	audience   []string
	allowNoAud bool
	leeway     time.Duration
}

// claimsFrom validates an active response and builds the claims. Errors
// wrap the core token sentinels (never ErrUnavailable).
func claimsFrom(r *response, raw core.RawClaims, ck checks, now time.Time) (*core.Claims, error) {
	if !*r.Active {
		return nil, core.ErrInactiveToken
	}
	// RFC 7662 means the token_type of RFC 6749 §7.1 ("Bearer"); Duende
	// IdentityServer (7.1 on) answers with the kind of token instead:
	// "access_token", or "refresh_token" for a refresh token.
	if r.TokenType != nil && !strings.EqualFold(*r.TokenType, "Bearer") && *r.TokenType != "access_token" {
		return nil, fmt.Errorf("%w: token_type %s", core.ErrTokenType, clip.Quote(*r.TokenType, 64))
	}
	// Keycloak names its token kinds in "typ" (an offline_access refresh
	// token is "Offline").
	v, _ := raw.Get("typ")
	if typ, ok := v.(string); ok && (strings.EqualFold(typ, "Refresh") || strings.EqualFold(typ, "Offline") || strings.EqualFold(typ, "ID")) {
		return nil, fmt.Errorf("%w: typ %q", core.ErrTokenType, typ)
	}
	// Ory Hydra (fosite) introspects refresh tokens too and tells them
	// apart only by "token_use" ("refresh_token"), with token_type Bearer;
	// Cognito's kinds are "access" and "id". Any other use is refused.
	if v, ok := raw.Get("token_use"); ok {
		if use, _ := v.(string); use != "access_token" && use != "access" {
			return nil, fmt.Errorf("%w: token_use %s", core.ErrTokenType, clip.Quote(fmt.Sprint(v), 64))
		}
	}
	if raw.Has("cnf") {
		return nil, fmt.Errorf("%w: sender-constrained token (cnf) presented as bearer", core.ErrTokenType)
	}
	c := &core.Claims{Raw: raw}
	if r.Iss != nil {
		if *r.Iss != ck.issuer {
			return nil, fmt.Errorf("%w: %s", core.ErrIssuer, clip.Quote(*r.Iss, maxErrValue))
		}
		c.Issuer = *r.Iss
	} else {
		c.Issuer = ck.issuer
	}
	aud, err := audience(raw, ck)
	if err != nil {
		return nil, err
	}
	c.Audience = aud
	ts, err := claims.ReadTimes(raw)
	if err != nil {
		return nil, err
	}
	c.Expiry, c.NotBefore, c.IssuedAt = ts.Expiry, ts.NotBefore, ts.IssuedAt
	if err := checkTimes(c, now, ck.leeway); err != nil {
		return nil, err
	}
	if r.Scope != nil {
		if c.Scopes, err = claims.Scopes("scope", *r.Scope); err != nil {
			return nil, err
		}
	}
	if r.ClientID != nil {
		c.ClientID = *r.ClientID
	}
	if r.Sub != nil {
		c.Subject = *r.Sub
	}
	// "sub" is optional in RFC 7662, and some servers name the user only
	// in "username". Without a subject the mappers take a token with a
	// client_id for that client's own (client_credentials) token, so
	// every user of the client would act as the client.
	if v, _ := raw.Get("username"); c.Subject == "" && v != nil {
		return nil, fmt.Errorf("%w: the response names a resource owner (username) but no sub; configure the server to return sub", core.ErrInvalidClaims)
	}
	if r.Jti != nil {
		c.ID = *r.Jti
	}
	return c, nil
}

// checkTimes applies exp/nbf/iat with leeway L (internal/claims): now ≥
// exp+L, nbf > now+L and iat > now+L are rejections.
func checkTimes(c *core.Claims, now time.Time, leeway time.Duration) error {
	t := claims.Times{Expiry: c.Expiry, NotBefore: c.NotBefore, IssuedAt: c.IssuedAt}
	return t.Check(now, leeway)
}

// audience returns "aud" as a list (internal/claims: a non-empty string or
// a non-empty list of non-empty strings) and checks it against the
// configured audiences; every malformed "aud" is core.ErrAudience.
func audience(raw core.RawClaims, ck checks) ([]string, error) {
	v, ok := raw.Get("aud")
	if !ok {
		if ck.allowNoAud {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: response has no aud", core.ErrAudience)
	}
	list, err := claims.StringList("aud", v)
	if err != nil {
		var e *claims.Error
		errors.As(err, &e)
		return nil, fmt.Errorf("%w: %s", core.ErrAudience, e.Detail)
	}
	for _, a := range list {
		if slices.Contains(ck.audience, a) {
			return list, nil
		}
	}
	if len(list) == 1 {
		return nil, fmt.Errorf("%w: %s", core.ErrAudience, clip.Quote(list[0], maxErrValue))
	}
	return nil, fmt.Errorf("%w: %s and %d more", core.ErrAudience, clip.Quote(list[0], maxErrValue), len(list)-1)
}
