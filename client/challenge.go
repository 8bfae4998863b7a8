package client

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
	"github.com/mcpauthz/mcpauthz/internal/httpx"
)

// Parser limits for WWW-Authenticate.
const (
	maxChallengeHeaderBytes = 16 << 10 // all WWW-Authenticate lines together
	maxChallengeParams      = 32       // auth-params per challenge
	maxChallenges           = 16       // challenges per response
	// maxScopes bounds the scopes of one scope string, duplicates
	// included (a challenge's or a token response's): they are
	// deduplicated pairwise, and a token response may be 256 KiB (62,000
	// scopes took 35 s of CPU).
	maxScopes = 1024
)

// Challenge is one RFC 9110 §11.6.1 challenge. Scheme keeps its original
// spelling (compare with strings.EqualFold); Params keys are lower-cased and
// values are unquoted. Token68 is set instead of Params for the token68 form.
type Challenge struct {
	Scheme  string
	Token68 string
	Params  map[string]string
}

// BearerChallenge is the RFC 6750 §3 / RFC 9728 §5.1 view of a Bearer
// challenge. Empty fields were absent.
type BearerChallenge struct {
	ResourceMetadata string   // resource_metadata (RFC 9728)
	Scope            []string // scope, split on spaces
	Error            string   // error, e.g. "invalid_token", "insufficient_scope"
	ErrorDescription string   // error_description
	Realm            string   // realm
}

// ParseWWWAuthenticate parses every WWW-Authenticate field line in values
// (as found in http.Header) into challenges. It fails with an error wrapping
// [ErrChallenge] on any syntax error, a duplicate parameter name within one
// challenge (RFC 9110 §11.2), control characters, or more than 16 KiB of
// header text, 16 challenges or 32 parameters per challenge. It never panics.
func ParseWWWAuthenticate(values []string) ([]Challenge, error) {
	total := 0
	var out []Challenge
	for _, v := range values {
		total += len(v)
		if total > maxChallengeHeaderBytes {
			return nil, fmt.Errorf("%w: header too large", ErrChallenge)
		}
		p := challengeParser{s: v}
		cs, err := p.parse()
		if err != nil {
			return nil, err
		}
		out = append(out, cs...)
		if len(out) > maxChallenges {
			return nil, fmt.Errorf("%w: too many challenges", ErrChallenge)
		}
	}
	return out, nil
}

// ParseBearerChallenge returns the Bearer challenge among the
// WWW-Authenticate fields of h, or (nil, nil) when there is none. A malformed
// header is an error (wrapping [ErrChallenge]), as are two Bearer
// challenges, a token68 Bearer challenge and a scope with characters outside
// RFC 6749 §3.3.
func ParseBearerChallenge(h http.Header) (*BearerChallenge, error) {
	cs, err := ParseWWWAuthenticate(h.Values("WWW-Authenticate"))
	if err != nil {
		return nil, err
	}
	var found *Challenge
	for i := range cs {
		if !strings.EqualFold(cs[i].Scheme, "Bearer") {
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("%w: more than one Bearer challenge", ErrChallenge)
		}
		found = &cs[i]
	}
	if found == nil {
		return nil, nil
	}
	if found.Token68 != "" {
		return nil, fmt.Errorf("%w: Bearer challenge in token68 form", ErrChallenge)
	}
	bc := &BearerChallenge{
		ResourceMetadata: found.Params["resource_metadata"],
		Error:            found.Params["error"],
		ErrorDescription: found.Params["error_description"],
		Realm:            found.Params["realm"],
	}
	if s, ok := found.Params["scope"]; ok {
		scopes, err := parseScope(s)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrChallenge, err)
		}
		bc.Scope = scopes
	}
	return bc, nil
}

type challengeParser struct {
	s   string
	pos int
}

func (p *challengeParser) errf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format+" at offset %d", append([]any{ErrChallenge}, append(args, p.pos)...)...)
}

func (p *challengeParser) eof() bool { return p.pos >= len(p.s) }

func (p *challengeParser) skipOWS() {
	for p.pos < len(p.s) && (p.s[p.pos] == ' ' || p.s[p.pos] == '\t') {
		p.pos++
	}
}

// skipListSeparators skips OWS and empty list elements (RFC 9110 §5.6.1).
// It reports whether at least one comma was consumed.
func (p *challengeParser) skipListSeparators() bool {
	comma := false
	for {
		p.skipOWS()
		if p.pos < len(p.s) && p.s[p.pos] == ',' {
			p.pos++
			comma = true
			continue
		}
		return comma
	}
}

func (p *challengeParser) token() string {
	start := p.pos
	for p.pos < len(p.s) && isTChar(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

func (p *challengeParser) parse() ([]Challenge, error) {
	var out []Challenge
	p.skipListSeparators()
	for !p.eof() {
		c, err := p.challenge()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		if len(out) > maxChallenges {
			return nil, p.errf("too many challenges")
		}
		if !p.skipListSeparators() && !p.eof() {
			return nil, p.errf("expected comma")
		}
	}
	return out, nil
}

func (p *challengeParser) challenge() (Challenge, error) {
	scheme := p.token()
	if scheme == "" {
		return Challenge{}, p.errf("expected auth-scheme")
	}
	c := Challenge{Scheme: scheme}
	if p.eof() || p.s[p.pos] == ',' {
		return c, nil
	}
	if p.s[p.pos] != ' ' && p.s[p.pos] != '\t' {
		return Challenge{}, p.errf("unexpected character after auth-scheme")
	}
	p.skipOWS()
	if p.eof() || p.s[p.pos] == ',' {
		return c, nil
	}
	if t68, ok := p.tryToken68(); ok {
		c.Token68 = t68
		return c, nil
	}
	c.Params = map[string]string{}
	for {
		name, val, err := p.param()
		if err != nil {
			return Challenge{}, err
		}
		if _, dup := c.Params[name]; dup {
			return Challenge{}, p.errf("duplicate parameter %s", clip.Quote(name, core.MaxLogField))
		}
		if len(c.Params) >= maxChallengeParams {
			return Challenge{}, p.errf("too many parameters")
		}
		c.Params[name] = val
		// After a parameter: end, or a comma followed by another parameter
		// or by the next challenge.
		save := p.pos
		if !p.skipListSeparators() {
			p.pos = save
			return c, nil
		}
		if p.eof() || !p.atParam() {
			p.pos = save
			return c, nil
		}
	}
}

// tryToken68 consumes a token68 (RFC 9110 §11.2) when it is followed by
// optional whitespace and the end of input or a comma.
func (p *challengeParser) tryToken68() (string, bool) {
	i := p.pos
	for i < len(p.s) && isToken68Char(p.s[i]) {
		i++
	}
	if i == p.pos {
		return "", false
	}
	for i < len(p.s) && p.s[i] == '=' {
		i++
	}
	j := i
	for j < len(p.s) && (p.s[j] == ' ' || p.s[j] == '\t') {
		j++
	}
	if j < len(p.s) && p.s[j] != ',' {
		return "", false
	}
	v := p.s[p.pos:i]
	p.pos = i
	return v, true
}

// atParam reports whether the input at pos starts with token OWS "=".
func (p *challengeParser) atParam() bool {
	i := p.pos
	for i < len(p.s) && isTChar(p.s[i]) {
		i++
	}
	if i == p.pos {
		return false
	}
	for i < len(p.s) && (p.s[i] == ' ' || p.s[i] == '\t') {
		i++
	}
	return i < len(p.s) && p.s[i] == '='
}

func (p *challengeParser) param() (string, string, error) {
	name := p.token()
	if name == "" {
		return "", "", p.errf("expected parameter name")
	}
	p.skipOWS()
	if p.eof() || p.s[p.pos] != '=' {
		return "", "", p.errf("expected '='")
	}
	p.pos++
	p.skipOWS()
	if p.eof() {
		return "", "", p.errf("missing parameter value")
	}
	if p.s[p.pos] == '"' {
		v, err := p.quoted()
		return strings.ToLower(name), v, err
	}
	v := p.token()
	if v == "" {
		return "", "", p.errf("invalid parameter value")
	}
	return strings.ToLower(name), v, nil
}

func (p *challengeParser) quoted() (string, error) {
	p.pos++ // opening quote
	var b strings.Builder
	for p.pos < len(p.s) {
		c := p.s[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String(), nil
		case c == '\\':
			if p.pos+1 >= len(p.s) || !isQuotedPairChar(p.s[p.pos+1]) {
				return "", p.errf("invalid quoted-pair")
			}
			b.WriteByte(p.s[p.pos+1])
			p.pos += 2
		case isQDText(c):
			b.WriteByte(c)
			p.pos++
		default:
			return "", p.errf("invalid character in quoted-string")
		}
	}
	return "", p.errf("unterminated quoted-string")
}

func isTChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken68Char(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}

func isQDText(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80
}

func isQuotedPairChar(c byte) bool {
	return c == '\t' || (c >= 0x20 && c <= 0x7e) || c >= 0x80
}

// parseScope splits an RFC 6749 §3.3 scope string. Empty input gives nil.
// Repeated spaces are tolerated; other whitespace and characters outside
// scope-token are errors. Duplicates are removed, order is kept.
func parseScope(s string) ([]string, error) {
	var out []string
	n := 0
	for tok := range strings.SplitSeq(s, " ") {
		if tok == "" {
			continue
		}
		if n++; n > maxScopes {
			return nil, fmt.Errorf("more than %d scopes", maxScopes)
		}
		if !httpx.IsScopeToken(tok) {
			return nil, fmt.Errorf("invalid character in scope")
		}
		if !containsString(out, tok) {
			out = append(out, tok)
		}
	}
	return out, nil
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// unionScopes returns a followed by the members of b not in a.
func unionScopes(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, s := range b {
		if !containsString(out, s) {
			out = append(out, s)
		}
	}
	return out
}
