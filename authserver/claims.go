package authserver

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/claims"
)

// maxJTILength caps "jti" values recorded in the replay store.
const maxJTILength = 256

var errClaim = errors.New("invalid claim")

// claimSet is a strictly decoded JWT claims set (numbers are json.Number).
type claimSet map[string]any

// str returns a string claim; present is false when the claim is absent.
// A present non-string value is an error.
func (c claimSet) str(name string) (v string, present bool, err error) {
	raw, ok := c[name]
	if !ok {
		return "", false, nil
	}
	s, ok := raw.(string)
	if !ok {
		return "", true, fmt.Errorf("%w: %q is not a string", errClaim, name)
	}
	return s, true, nil
}

// requiredStr returns a non-empty string claim.
func (c claimSet) requiredStr(name string) (string, error) {
	s, present, err := c.str(name)
	if err != nil {
		return "", err
	}
	if !present || s == "" {
		return "", fmt.Errorf("%w: %q is missing", errClaim, name)
	}
	return s, nil
}

// numericDate returns a NumericDate claim (internal/claims: a non-negative
// JSON number below year 10000).
func (c claimSet) numericDate(name string) (t time.Time, present bool, err error) {
	t, present, err = claims.Date(c, name)
	return t, present, asClaimErr(err)
}

// strList returns a claim that is a string or a non-empty array of
// non-empty strings (as "aud" and "resource" are; internal/claims).
func (c claimSet) strList(name string) (list []string, present bool, err error) {
	raw, ok := c[name]
	if !ok {
		return nil, false, nil
	}
	list, err = claims.StringList(name, raw)
	if err != nil {
		return nil, true, fmt.Errorf("%w: %q must be a non-empty string or array of non-empty strings", errClaim, name)
	}
	return list, true, nil
}

// asClaimErr maps an internal/claims error onto errClaim.
func asClaimErr(err error) error {
	var e *claims.Error
	if errors.As(err, &e) {
		return fmt.Errorf("%w: %s", errClaim, e.Detail)
	}
	return err
}

// singleAudience returns "aud" when it is a string or an array of exactly
// one string.
func (c claimSet) singleAudience() (string, error) {
	aud, present, err := c.strList("aud")
	if err != nil {
		return "", err
	}
	if !present {
		return "", fmt.Errorf("%w: \"aud\" is missing", errClaim)
	}
	if len(aud) != 1 {
		return "", fmt.Errorf("%w: \"aud\" has %d values, want exactly one", errClaim, len(aud))
	}
	return aud[0], nil
}

// jti returns a required "jti" of 1..256 bytes.
func (c claimSet) jti() (string, error) {
	j, err := c.requiredStr("jti")
	if err != nil {
		return "", err
	}
	if len(j) > maxJTILength {
		return "", fmt.Errorf("%w: \"jti\" longer than %d bytes", errClaim, maxJTILength)
	}
	return j, nil
}

// timeRule describes the lifetime checks for an assertion.
type timeRule struct {
	now         time.Time
	leeway      time.Duration
	maxLifetime time.Duration
	requireIAT  bool
}

// checkTimes validates exp (required), iat and nbf. It returns exp.
//
//   - now >= exp + leeway: expired;
//   - nbf > now + leeway: not yet valid;
//   - iat > now + leeway: issued in the future;
//   - exp - iat > maxLifetime (when iat is present): lifetime too long;
//   - exp - now > maxLifetime + leeway: lifetime too long (bounds assertions
//     without iat, and iat values in the past combined with a far exp).
func (c claimSet) checkTimes(r timeRule) (time.Time, error) {
	exp, present, err := c.numericDate("exp")
	if err != nil {
		return time.Time{}, err
	}
	if !present {
		return time.Time{}, fmt.Errorf("%w: \"exp\" is missing", errClaim)
	}
	nbf, _, err := c.numericDate("nbf")
	if err != nil {
		return time.Time{}, err
	}
	iat, present, err := c.numericDate("iat")
	if err != nil {
		return time.Time{}, err
	}
	if err := (claims.Times{Expiry: exp, NotBefore: nbf, IssuedAt: iat}).Check(r.now, r.leeway); err != nil {
		return time.Time{}, asClaimErr(err)
	}
	if !present && r.requireIAT {
		return time.Time{}, fmt.Errorf("%w: \"iat\" is missing", errClaim)
	}
	if present {
		if !exp.After(iat) {
			return time.Time{}, fmt.Errorf("%w: \"exp\" is not after \"iat\"", errClaim)
		}
		if exp.Sub(iat) > r.maxLifetime {
			return time.Time{}, fmt.Errorf("%w: lifetime %s exceeds %s", errClaim, exp.Sub(iat), r.maxLifetime)
		}
	}
	if exp.Sub(r.now) > r.maxLifetime+r.leeway {
		return time.Time{}, fmt.Errorf("%w: expires too far in the future", errClaim)
	}
	return exp, nil
}

// typIs compares a JOSE "typ" with a media type, case-insensitively and
// with the optional "application/" prefix (RFC 7515 §4.1.9).
func typIs(typ, want string) bool {
	if len(typ) > len("application/") && strings.EqualFold(typ[:len("application/")], "application/") {
		typ = typ[len("application/"):]
	}
	return strings.EqualFold(typ, want)
}
