package verifier

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// Verify checks token and returns its claims (see the package documentation
// for the rules). Errors wrap core sentinels: core.ErrUnavailable when the
// issuer's keys cannot be obtained, otherwise a token error. The returned
// Claims must be treated as read-only: cached results share Raw, Audience
// and Scopes.
func (v *Verifier) Verify(ctx context.Context, token string) (*core.Claims, error) {
	now := v.now()
	if v.cache != nil {
		if e, ok := v.cache.get(token, now); ok {
			if err := checkTimes(now, e.leeway, e.claims); err != nil {
				v.cache.remove(token)
				return nil, err
			}
			if e.keyStillTrusted() {
				c := *e.claims
				return &c, nil
			}
			// The verifying key left the issuer's key set (or the set is
			// unavailable): verify from scratch, which fails closed.
			v.cache.remove(token)
		}
	}
	var tok jose.Token // on the stack
	if err := jose.ParseCompactInto(&tok, token, jose.ParseOptions{MaxLength: v.maxLen, Algorithms: v.allAlgs}); err != nil {
		return nil, joseToCore(err)
	}
	m, err := tok.Claims()
	if err != nil {
		return nil, joseToCore(err)
	}
	// Choose the issuer from the unverified iss; only its keys are used.
	is, err := v.selectIssuer(m)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(is.algs, tok.Header.Alg) {
		return nil, claimErr(core.ErrUnsupportedAlgorithm, "%s not allowed for issuer %q", tok.Header.Alg, is.name)
	}
	pk, err := jose.VerifyToken(ctx, &tok, is.keys)
	if err != nil {
		return nil, joseToCore(err)
	}
	// From here on the claims are authentic.
	c, err := v.checkClaims(is, &tok, m, now)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		c.Memo = new(core.TokenMemo) // the Guard keeps what it derives from the token here
		v.cache.put(token, &cacheEntry{claims: c, leeway: is.leeway, keys: is.keys, key: pk}, now)
		cp := *c
		return &cp, nil
	}
	return c, nil
}

// selectIssuer maps the unverified iss to a configured issuer. For a
// "{tenantid}" issuer the token's tid must fill the template exactly.
func (v *Verifier) selectIssuer(m map[string]any) (*issuer, error) {
	iss, ok := m["iss"].(string)
	if !ok || iss == "" {
		return nil, claimErr(core.ErrIssuer, "missing or non-string iss")
	}
	if is := v.exact[iss]; is != nil {
		return is, nil
	}
	for _, is := range v.templates {
		if len(iss) <= len(is.prefix)+len(is.suffix) || !strings.HasPrefix(iss, is.prefix) || !strings.HasSuffix(iss, is.suffix) {
			continue
		}
		tid, _ := m["tid"].(string)
		if tid == "" || is.prefix+tid+is.suffix != iss {
			return nil, claimErr(core.ErrIssuer, "iss %q does not match tid for issuer template %q", iss, is.name)
		}
		if is.tenants != nil && !is.tenants[tid] {
			return nil, claimErr(core.ErrIssuer, "tenant %q not allowed", tid)
		}
		return is, nil
	}
	return nil, claimErr(core.ErrIssuer, "untrusted issuer %q", truncate(iss, 128))
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// normalizeType lowercases a typ value and drops an "application/" prefix
// (RFC 7515 §4.1.9).
func normalizeType(t string) string {
	t = strings.ToLower(t)
	return strings.TrimPrefix(t, "application/")
}

func (v *Verifier) checkClaims(is *issuer, tok *jose.Token, m map[string]any, now time.Time) (*core.Claims, error) {
	typ := normalizeType(tok.Header.Typ)
	if typ == "oauth-id-jag+jwt" || !is.types[typ] {
		return nil, claimErr(core.ErrTokenType, "typ %q not accepted", truncate(tok.Header.Typ, 64))
	}
	if _, ok := m["nonce"]; ok {
		return nil, claimErr(core.ErrTokenType, "ID token (nonce) presented as an access token")
	}
	if _, ok := m["at_hash"]; ok {
		return nil, claimErr(core.ErrTokenType, "ID token (at_hash) presented as an access token")
	}
	if _, ok := m["cnf"]; ok {
		return nil, claimErr(core.ErrInvalidClaims, "sender-constrained token (cnf) presented as a bearer token")
	}
	c := &core.Claims{
		Issuer:    m["iss"].(string), // checked by selectIssuer
		Type:      tok.Header.Typ,
		KeyID:     tok.Header.Kid,
		Algorithm: tok.Header.Alg,
		Raw:       m,
	}
	var err error
	expV, ok := m["exp"]
	if !ok {
		return nil, claimErr(core.ErrInvalidClaims, "missing exp")
	}
	if c.Expiry, err = numericDate("exp", expV); err != nil {
		return nil, err
	}
	if nbf, ok := m["nbf"]; ok {
		if c.NotBefore, err = numericDate("nbf", nbf); err != nil {
			return nil, err
		}
	}
	if iat, ok := m["iat"]; ok {
		if c.IssuedAt, err = numericDate("iat", iat); err != nil {
			return nil, err
		}
	}
	if err := checkTimes(now, is.leeway, c); err != nil {
		return nil, err
	}
	if c.Audience, err = v.checkAudience(m["aud"], m); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"sub", &c.Subject}, {"jti", &c.ID}, {"client_id", &c.ClientID}} {
		if *f.dst, err = optString(m, f.name); err != nil {
			return nil, err
		}
	}
	if c.ClientID == "" {
		if c.ClientID, err = optString(m, "azp"); err != nil {
			return nil, err
		}
	}
	if c.Scopes, err = scopes(m); err != nil {
		return nil, err
	}
	for _, name := range is.required {
		val, ok := m[name]
		if !ok || val == nil || val == "" {
			return nil, claimErr(core.ErrInvalidClaims, "missing required claim %q", name)
		}
	}
	return c, nil
}

// checkTimes applies exp, nbf and iat with one leeway: reject when
// now >= exp+leeway, nbf > now+leeway or iat > now+leeway.
func checkTimes(now time.Time, leeway time.Duration, c *core.Claims) error {
	if !now.Before(c.Expiry.Add(leeway)) {
		return claimErr(core.ErrExpired, "expired at %s", c.Expiry.UTC().Format(time.RFC3339))
	}
	late := now.Add(leeway)
	if !c.NotBefore.IsZero() && c.NotBefore.After(late) {
		return claimErr(core.ErrNotYetValid, "not valid before %s", c.NotBefore.UTC().Format(time.RFC3339))
	}
	if !c.IssuedAt.IsZero() && c.IssuedAt.After(late) {
		return claimErr(core.ErrIssuedInFuture, "issued at %s", c.IssuedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// maxNumericDate is 9999-12-31T23:59:59Z; anything later is absurd.
const maxNumericDate = 253402300799

// numericDate parses a NumericDate (RFC 7519 §2): a JSON number of seconds,
// possibly fractional, between 0 and year 9999.
func numericDate(name string, v any) (time.Time, error) {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, claimErr(core.ErrInvalidClaims, "%s is not a number", name)
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		if i < 0 || i > maxNumericDate {
			return time.Time{}, claimErr(core.ErrInvalidClaims, "%s out of range", name)
		}
		return time.Unix(i, 0), nil
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > maxNumericDate {
		return time.Time{}, claimErr(core.ErrInvalidClaims, "%s out of range", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

func optString(m map[string]any, name string) (string, error) {
	v, ok := m[name]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", claimErr(core.ErrInvalidClaims, "%s is not a string", name)
	}
	return s, nil
}

// checkAudience requires a non-empty string or a non-empty array of
// non-empty strings containing a configured audience.
func (v *Verifier) checkAudience(a any, m map[string]any) ([]string, error) {
	var list []string
	switch t := a.(type) {
	case nil:
		if _, present := m["aud"]; present {
			return nil, claimErr(core.ErrInvalidClaims, "aud is null")
		}
		return nil, claimErr(core.ErrAudience, "missing aud")
	case string:
		if t == "" {
			return nil, claimErr(core.ErrAudience, "empty aud")
		}
		list = []string{t}
	case []any:
		if len(t) == 0 {
			return nil, claimErr(core.ErrAudience, "empty aud array")
		}
		list = make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, claimErr(core.ErrInvalidClaims, "aud array has a non-string")
			}
			if s == "" {
				return nil, claimErr(core.ErrAudience, "empty string in aud")
			}
			list = append(list, s)
		}
	default:
		return nil, claimErr(core.ErrInvalidClaims, "aud is neither a string nor an array")
	}
	for _, s := range list {
		if v.normalize {
			s = normalizeAudience(s)
		}
		if v.audience[s] {
			return list, nil
		}
	}
	return nil, claimErr(core.ErrAudience, "token audience does not include this resource")
}

// scopes reads "scope" (space-delimited string, or an array of strings) or,
// when absent, "scp" (the same shapes).
func scopes(m map[string]any) ([]string, error) {
	name := "scope"
	v, ok := m[name]
	if !ok {
		name = "scp"
		if v, ok = m[name]; !ok {
			return nil, nil
		}
	}
	switch t := v.(type) {
	case string:
		return strings.Fields(t), nil
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, claimErr(core.ErrInvalidClaims, "%s has a non-string element", name)
			}
			out = append(out, strings.Fields(s)...)
		}
		return out, nil
	}
	return nil, claimErr(core.ErrInvalidClaims, "%s is neither a string nor an array", name)
}
