package introspect

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// maxNumericDate is 9999-12-31T23:59:59Z; later (or negative) dates are
// rejected as invalid rather than risking overflow.
const maxNumericDate = 253402300799

// response is the typed view of an RFC 7662 §2.2 response. encoding/json
// rejects a member of the wrong JSON type (e.g. "active": "true").
type response struct {
	Active    *bool   `json:"active"`
	Scope     *string `json:"scope"`
	ClientID  *string `json:"client_id"`
	TokenType *string `json:"token_type"`
	Sub       *string `json:"sub"`
	Iss       *string `json:"iss"`
	Jti       *string `json:"jti"`
}

// parseResponse decodes body strictly. A malformed body, or one whose
// "active" is missing or not a boolean, wraps core.ErrUnavailable: the
// server's answer cannot be trusted either way.
func parseResponse(body []byte) (*response, map[string]any, error) {
	if err := jsonscan.Validate(body, jsonscan.Options{}); err != nil {
		return nil, nil, fmt.Errorf("%w: introspection response: %w", core.ErrUnavailable, err)
	}
	var r response
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, nil, fmt.Errorf("%w: introspection response: %w", core.ErrUnavailable, err)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil || raw == nil {
		return nil, nil, fmt.Errorf("%w: introspection response is not a JSON object", core.ErrUnavailable)
	}
	if r.Active == nil {
		return nil, nil, fmt.Errorf("%w: introspection response has no boolean \"active\"", core.ErrUnavailable)
	}
	return &r, raw, nil
}

// checks is the part of Config the claim checks need.
type checks struct {
	issuer     string
	audience   []string
	allowNoAud bool
	leeway     time.Duration
}

// claimsFrom validates an active response and builds the claims. Errors
// wrap the core token sentinels (never ErrUnavailable).
func claimsFrom(r *response, raw map[string]any, ck checks, now time.Time) (*core.Claims, error) {
	if !*r.Active {
		return nil, core.ErrInactiveToken
	}
	if r.TokenType != nil && !strings.EqualFold(*r.TokenType, "Bearer") {
		return nil, fmt.Errorf("%w: token_type %q", core.ErrTokenType, *r.TokenType)
	}
	if typ, ok := raw["typ"].(string); ok && (strings.EqualFold(typ, "Refresh") || strings.EqualFold(typ, "ID")) {
		return nil, fmt.Errorf("%w: typ %q", core.ErrTokenType, typ)
	}
	if _, ok := raw["cnf"]; ok {
		return nil, fmt.Errorf("%w: sender-constrained token (cnf) presented as bearer", core.ErrTokenType)
	}
	c := &core.Claims{Raw: raw}
	if r.Iss != nil {
		if *r.Iss != ck.issuer {
			return nil, fmt.Errorf("%w: %q", core.ErrIssuer, *r.Iss)
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
	if c.Expiry, err = numericDate(raw, "exp"); err != nil {
		return nil, err
	}
	if c.NotBefore, err = numericDate(raw, "nbf"); err != nil {
		return nil, err
	}
	if c.IssuedAt, err = numericDate(raw, "iat"); err != nil {
		return nil, err
	}
	if err := checkTimes(c, now, ck.leeway); err != nil {
		return nil, err
	}
	if r.Scope != nil {
		c.Scopes = strings.Fields(*r.Scope)
	}
	if r.ClientID != nil {
		c.ClientID = *r.ClientID
	}
	if r.Sub != nil {
		c.Subject = *r.Sub
	}
	if r.Jti != nil {
		c.ID = *r.Jti
	}
	return c, nil
}

// checkTimes applies exp/nbf/iat with leeway L: now ≥ exp+L, nbf > now+L and
// iat > now+L are rejections.
func checkTimes(c *core.Claims, now time.Time, leeway time.Duration) error {
	if !c.Expiry.IsZero() && !now.Before(c.Expiry.Add(leeway)) {
		return fmt.Errorf("%w: exp %s", core.ErrExpired, c.Expiry.UTC().Format(time.RFC3339))
	}
	if !c.NotBefore.IsZero() && c.NotBefore.After(now.Add(leeway)) {
		return fmt.Errorf("%w: nbf %s", core.ErrNotYetValid, c.NotBefore.UTC().Format(time.RFC3339))
	}
	if !c.IssuedAt.IsZero() && c.IssuedAt.After(now.Add(leeway)) {
		return fmt.Errorf("%w: iat %s", core.ErrIssuedInFuture, c.IssuedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// audience returns "aud" as a list and checks it against the configured
// audiences. A string or a non-empty list of strings is accepted; [],
// [""], null, numbers and mixed lists are rejected.
func audience(raw map[string]any, ck checks) ([]string, error) {
	v, ok := raw["aud"]
	if !ok {
		if ck.allowNoAud {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: response has no aud", core.ErrAudience)
	}
	var list []string
	switch t := v.(type) {
	case string:
		list = []string{t}
	case []any:
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%w: aud has a non-string element", core.ErrAudience)
			}
			list = append(list, s)
		}
	default:
		return nil, fmt.Errorf("%w: aud is neither a string nor a list", core.ErrAudience)
	}
	for _, a := range list {
		if a != "" && slices.Contains(ck.audience, a) {
			return list, nil
		}
	}
	return nil, fmt.Errorf("%w: %q", core.ErrAudience, list)
}

// numericDate reads an RFC 7519 NumericDate; zero time when absent.
func numericDate(raw map[string]any, name string) (time.Time, error) {
	v, ok := raw[name]
	if !ok {
		return time.Time{}, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: %s is not a number", core.ErrInvalidClaims, name)
	}
	if i, err := n.Int64(); err == nil {
		if i < 0 || i > maxNumericDate {
			return time.Time{}, fmt.Errorf("%w: %s out of range", core.ErrInvalidClaims, name)
		}
		return time.Unix(i, 0), nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, fmt.Errorf("%w: %s out of range", core.ErrInvalidClaims, name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}
