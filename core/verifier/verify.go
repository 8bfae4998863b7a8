package verifier

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/mapper"
	jwtclaims "github.com/mcpauthz/mcpauthz/internal/claims"
	"github.com/mcpauthz/mcpauthz/internal/clip"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// Verify checks token and returns its claims (see the package documentation
// for the rules). Errors wrap core sentinels: core.ErrUnavailable when the
// issuer's keys cannot be obtained, otherwise a token error. The returned
// Claims must be treated as read-only: with the cache enabled every request
// carrying the token gets the same *core.Claims (fields, slices, Raw and
// Memo); copy it to change anything.
func (v *Verifier) Verify(ctx context.Context, token string) (*core.Claims, error) {
	c, err := v.verify(ctx, token)
	if err != nil {
		v.diag.report(err)
	}
	return c, err
}

// VerifyCached is Verify answered from the verified-token cache alone
// (core.CachedVerifier): hit is false, and nothing is recorded, when the
// token is not cached or its verifying key left the issuer's key set; then
// Verify verifies it. Only tokens that parsed as compact JWS are cached.
//
// With the default clock a hit is decided on a reading at most
// clockGranularity (1 ms) old that must pass over its whole interval (see
// coarseClock); otherwise, and for a Config.Now clock, on a fresh reading.
func (v *Verifier) VerifyCached(ctx context.Context, token string) (*core.Claims, bool, error) {
	if v.cache == nil {
		return nil, false, nil
	}
	if v.clock != nil {
		if e := v.cache.lookup(token); e != nil {
			if r := v.clock.read(); e.coarseOK(&r) && e.keyStillTrusted(v.clock.base, r.upper()) {
				v.lookups.Record(ctx, true)
				return e.claims, true, nil // shared, read-only (see Verify)
			}
		}
	}
	// Not cached, or near an edge of its window: decided exactly.
	c, hit, err := v.cached(ctx, token, v.now(), false)
	if err != nil {
		v.diag.report(err)
	}
	return c, hit, err
}

// cached answers token from the cache: hit is false when the token is not
// there or must be verified from scratch. A miss is counted in the lookup
// metric only when countMiss is set (VerifyCached leaves that to Verify).
func (v *Verifier) cached(ctx context.Context, token string, now time.Time, countMiss bool) (*core.Claims, bool, error) {
	e, ok := v.cache.get(token, now)
	if ok {
		// Outside the entry's time window (cache.go), checkTimes names
		// the failing claim; inside it, it would pass.
		if !e.timesOK(now) {
			if err := checkTimes(now, e.leeway, e.claims); err != nil {
				v.lookups.Record(ctx, true)
				v.cache.remove(token)
				return nil, true, &core.TokenRefusalError{Issuer: e.claims.Issuer, Audience: e.claims.Audience, Err: err}
			}
		}
		if e.keyStillTrusted(now, 0) {
			v.lookups.Record(ctx, true)
			return e.claims, true, nil // shared, read-only (see Verify)
		}
		// The verifying key left the issuer's key set (or the set is
		// unavailable): verify from scratch, which fails closed.
		v.cache.remove(token)
	}
	if countMiss {
		v.lookups.Record(ctx, false)
	}
	return nil, false, nil
}

func (v *Verifier) verify(ctx context.Context, token string) (*core.Claims, error) {
	now := v.now()
	if v.cache != nil {
		if c, hit, err := v.cached(ctx, token, now, true); hit {
			return c, err
		}
	}
	var tok jose.Token // on the stack
	raw, err := v.parse(&tok, token)
	if err != nil {
		return nil, err
	}
	// Choose the issuer from the unverified iss; only its keys are used.
	iss, is, err := v.selectIssuer(raw)
	if err != nil {
		return nil, refused(raw, err)
	}
	if !slices.Contains(is.algs, tok.Header.Alg) {
		return nil, refused(raw, claimErr(core.ErrUnsupportedAlgorithm, "%s not allowed for issuer %q", tok.Header.Alg, is.name))
	}
	pk, err := verifySignature(ctx, is, &tok, token)
	if err != nil {
		return nil, refused(raw, err)
	}
	// From here on the claims are authentic.
	c, err := v.checkClaims(is, &tok, iss, raw, now)
	if err != nil {
		return nil, refused(raw, err)
	}
	if err := mapper.RunChecks(is.checks, c); err != nil {
		return nil, refused(raw, err)
	}
	if v.cache != nil {
		// The Guard keeps what it derives from the token here, charged to
		// the entry so MaxBytes bounds it too.
		e := &cacheEntry{claims: c, leeway: is.leeway, key: pk}
		e.kc, _ = is.keys.(keyContainer)
		c.Memo = core.NewTokenMemo(func(n int) bool { return v.cache.charge(token, e, n, v.now()) })
		v.cache.put(token, e, now)
	}
	return c, nil
}

// parse reads token into *tok without cryptography. The header is parsed
// by jose; the payload is validated strictly and indexed in one pass by
// core.ParseRawClaimsText, which decodes nothing and keeps the payload jose
// decoded for this token (no copy): the registered claims are read from it
// by checkClaims, the others on demand.
func (v *Verifier) parse(tok *jose.Token, token string) (core.RawClaims, error) {
	if err := jose.ParseCompactInto(tok, token, jose.ParseOptions{MaxLength: v.maxLen, Algorithms: v.allAlgs, RawPayload: true, Headers: &v.headers}); err != nil {
		return core.RawClaims{}, joseToCore(err)
	}
	raw, err := core.ParseRawClaimsText(tok.PayloadString())
	if err != nil {
		return core.RawClaims{}, fmt.Errorf("%w: payload: %w", core.ErrMalformedToken, err)
	}
	return raw, nil
}

// verifySignature checks tok's signature with the issuer's keys and returns
// the key that verified it (nil for a caller-managed KeySet).
func verifySignature(ctx context.Context, is *issuer, tok *jose.Token, raw string) (*jose.PublicKey, error) {
	if is.custom == nil {
		pk, err := jose.VerifyToken(ctx, tok, is.keys)
		if err != nil {
			return nil, joseToCore(err)
		}
		return pk, nil
	}
	payload, err := is.custom.VerifySignature(ctx, raw)
	if err != nil {
		return nil, joseToCore(err)
	}
	if !bytes.Equal(payload, tok.Payload) {
		return nil, claimErr(core.ErrSignature, "key set returned a different payload")
	}
	return nil, nil
}

// selectIssuer maps the unverified iss to a configured issuer and returns
// both. For a "{tenantid}" issuer the token's tid must fill the template
// exactly.
func (v *Verifier) selectIssuer(raw core.RawClaims) (string, *issuer, error) {
	s, ok := raw.GetString("iss")
	if !ok || s == "" {
		return "", nil, claimErr(core.ErrIssuer, "missing or non-string iss")
	}
	is, err := v.pickIssuer(raw, s)
	if err == nil && !is.template {
		s = is.name // an equivalent issuer is the issuer itself
	}
	return s, is, err
}

func (v *Verifier) pickIssuer(raw core.RawClaims, iss string) (*issuer, error) {
	if is := v.exact[iss]; is != nil {
		return is, nil
	}
	for _, is := range v.templates {
		if len(iss) <= len(is.prefix)+len(is.suffix) || !strings.HasPrefix(iss, is.prefix) || !strings.HasSuffix(iss, is.suffix) {
			continue
		}
		tid, _ := raw.GetString("tid")
		if tid == "" || is.prefix+tid+is.suffix != iss {
			return nil, claimErr(core.ErrIssuer, "iss %s does not match tid for issuer template %q", clip.Quote(iss, 128), is.name)
		}
		if is.tenants != nil && !is.tenants[strings.ToLower(tid)] {
			return nil, claimErr(core.ErrIssuer, "tenant %s not allowed", clip.Quote(tid, 128))
		}
		return is, nil
	}
	return nil, v.mismatch(core.ErrIssuer, "iss", []string{iss}, nil, "untrusted issuer %s%s", clip.Quote(iss, 128), v.entraV1Hint(iss))
}

// normalizeType lowercases a typ value and drops an "application/" prefix
// (RFC 7515 §4.1.9).
func normalizeType(t string) string {
	t = strings.ToLower(t)
	return strings.TrimPrefix(t, "application/")
}

func (v *Verifier) checkClaims(is *issuer, tok *jose.Token, iss string, raw core.RawClaims, now time.Time) (*core.Claims, error) {
	typ := normalizeType(tok.Header.Typ)
	if typ == "oauth-id-jag+jwt" || !is.types[typ] {
		return nil, v.mismatch(core.ErrTokenType, "typ", []string{tok.Header.Typ}, is, "typ %s not accepted", clip.Quote(tok.Header.Typ, 128))
	}
	if raw.Has("nonce") {
		return nil, claimErr(core.ErrTokenType, "ID token (nonce) presented as an access token")
	}
	if raw.Has("at_hash") {
		return nil, claimErr(core.ErrTokenType, "ID token (at_hash) presented as an access token")
	}
	if raw.Has("cnf") {
		return nil, claimErr(core.ErrInvalidClaims, "sender-constrained token (cnf) presented as a bearer token")
	}
	// One allocation for the Claims and a one-audience list (the usual
	// "aud" string).
	blk := &claimsBlock{c: core.Claims{
		Issuer:    iss,
		Type:      tok.Header.Typ,
		KeyID:     tok.Header.Kid,
		Algorithm: tok.Header.Alg,
		Raw:       raw,
	}}
	c := &blk.c
	if !raw.Has("exp") {
		return nil, claimErr(core.ErrInvalidClaims, "missing exp")
	}
	ts, err := jwtclaims.ReadTimes(raw)
	if err != nil {
		return nil, err
	}
	c.Expiry, c.NotBefore, c.IssuedAt = ts.Expiry, ts.NotBefore, ts.IssuedAt
	if err := checkTimes(now, is.leeway, c); err != nil {
		return nil, err
	}
	if c.Audience, err = v.checkAudience(is, raw, blk.aud[:0]); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"sub", &c.Subject}, {"jti", &c.ID}, {"client_id", &c.ClientID}} {
		if *f.dst, err = optString(raw, f.name); err != nil {
			return nil, err
		}
	}
	if c.ClientID == "" {
		if c.ClientID, err = optString(raw, "azp"); err != nil {
			return nil, err
		}
	}
	if c.Scopes, err = jwtclaims.TokenScopes(raw); err != nil {
		return nil, err
	}
	for _, name := range is.required {
		if !present(raw, name) {
			return nil, claimErr(core.ErrInvalidClaims, "missing required claim %q", name)
		}
	}
	return c, nil
}

// present reports whether the claim name is there and neither null nor
// "". A string (the usual case) is checked without boxing it.
func present(raw core.RawClaims, name string) bool {
	if s, ok := raw.GetString(name); ok {
		return s != ""
	}
	val, ok := raw.Get(name)
	return ok && val != nil
}

// checkTimes applies exp, nbf and iat with one leeway (internal/claims):
// reject when now >= exp+leeway, nbf > now+leeway or iat > now+leeway.
func checkTimes(now time.Time, leeway time.Duration, c *core.Claims) error {
	t := jwtclaims.Times{Expiry: c.Expiry, NotBefore: c.NotBefore, IssuedAt: c.IssuedAt}
	return t.Check(now, leeway)
}

func optString(raw core.RawClaims, name string) (string, error) {
	if s, ok := raw.GetString(name); ok {
		return s, nil
	}
	if raw.Has(name) {
		return "", claimErr(core.ErrInvalidClaims, "%s is not a string", name)
	}
	return "", nil
}

// claimsBlock is a Claims allocated with room for one audience.
type claimsBlock struct {
	c   core.Claims
	aud [1]string
}

// checkAudience requires "aud": a non-empty string or a non-empty array of
// non-empty strings (internal/claims) containing an audience of issuer is
// (IssuerConfig.Audience, else Config.Audience). A string audience is
// appended to one (a slice with room for it).
func (v *Verifier) checkAudience(is *issuer, raw core.RawClaims, one []string) ([]string, error) {
	accepted := v.audience
	if is.audience != nil {
		accepted = is.audience
	}
	var list []string
	if s, ok := raw.GetString("aud"); ok && s != "" {
		list = append(one, s)
	} else {
		a, ok := raw.Get("aud")
		if !ok {
			return nil, claimErr(core.ErrAudience, "missing aud")
		}
		var err error
		if list, err = jwtclaims.StringList("aud", a); err != nil {
			return nil, err
		}
	}
	for _, s := range list {
		if v.normalize {
			s = normalizeAudience(s)
		}
		if accepted[s] {
			return list, nil
		}
	}
	return nil, v.mismatch(core.ErrAudience, "aud", list, is, "token audience does not include this resource")
}
