package casbinauthz

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/mcpauthz/mcpauthz/core"
)

// Issuer configures how the principals of one trusted issuer appear in
// policy. See Config.Issuers.
type Issuer struct {
	// Issuer is the exact "iss" value, or a template with one "{tenantid}"
	// segment (as in verifier.IssuerConfig). REQUIRED.
	Issuer string
	// Alias names the issuer in policy: subjects become
	// "<alias>/user:<sub>", "<alias>/group:<g>", ... and domains
	// "<alias>" or "<alias>/<tenant>". REQUIRED; letters, digits, ".", "_"
	// and "-", starting with a letter or digit.
	Alias string
	// AssertsTenant trusts the principal's tenant (the "tid"/"tenant" claim,
	// Principal.Tenant) from this issuer. OPTIONAL; default false: the
	// domain is the issuer alone and a tenant claim is ignored, so a token
	// cannot claim another issuer's tenant. For a "{tenantid}" template the
	// tenant is always the one the verified "iss" contains, whatever this
	// field says.
	AssertsTenant bool
}

// ErrIssuer marks an issuer configuration that lets principals of
// different issuers share subjects or domains.
var ErrIssuer = errors.New("casbinauthz: issuer isolation")

// ReasonUnknownIssuer is the denial reason for a principal whose issuer is
// not in Config.Issuers.
const ReasonUnknownIssuer = "issuer not configured for policy"

var aliasRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// issuerSet resolves principals to their issuer namespace.
type issuerSet struct {
	exact      map[string]*Issuer
	templates  []*Issuer
	namespaced bool // more than one issuer or a template: prefix subjects and domains
}

func newIssuerSet(list []Issuer) (*issuerSet, error) {
	if len(list) == 0 {
		return nil, nil
	}
	s := &issuerSet{exact: map[string]*Issuer{}}
	aliases := map[string]bool{}
	for i := range list {
		is := list[i]
		if is.Issuer == "" || !aliasRE.MatchString(is.Alias) {
			return nil, fmt.Errorf("%w: Config.Issuers[%d]: Issuer is required and Alias must match %s", ErrIssuer, i, aliasRE)
		}
		if aliases[is.Alias] {
			return nil, fmt.Errorf("%w: Config.Issuers: alias %q is used twice", ErrIssuer, is.Alias)
		}
		aliases[is.Alias] = true
		switch n := strings.Count(is.Issuer, core.IssuerTenantPlaceholder); {
		case n > 1:
			return nil, fmt.Errorf("%w: Config.Issuers[%d]: more than one %s", ErrIssuer, i, core.IssuerTenantPlaceholder)
		case n == 1:
			s.templates = append(s.templates, &is)
		default:
			if s.exact[is.Issuer] != nil {
				return nil, fmt.Errorf("%w: Config.Issuers: %q is listed twice", ErrIssuer, is.Issuer)
			}
			s.exact[is.Issuer] = &is
		}
	}
	s.namespaced = len(list) > 1 || len(s.templates) > 0
	return s, nil
}

// resolve returns the issuer of p and the tenant it may assert ("" when
// none); ok is false for an issuer not configured.
func (s *issuerSet) resolve(p *core.Principal) (is *Issuer, tenant string, ok bool) {
	if is = s.exact[p.Issuer]; is != nil {
		if is.AssertsTenant {
			tenant = p.Tenant
		}
		return is, tenant, true
	}
	for _, t := range s.templates {
		pre, suf, _ := strings.Cut(t.Issuer, core.IssuerTenantPlaceholder)
		if len(p.Issuer) > len(pre)+len(suf) && strings.HasPrefix(p.Issuer, pre) && strings.HasSuffix(p.Issuer, suf) {
			tid := p.Issuer[len(pre) : len(p.Issuer)-len(suf)]
			if !strings.ContainsAny(tid, "/?#") {
				return t, tid, true
			}
		}
	}
	return nil, "", false
}

// domain is the "dom" request token under Config.Issuers. Namespaced, it
// is the principal's namespace: "<alias>", or "<alias>/<tenant>" with the
// tenant escaped (see escapeTenant).
func (s *issuerSet) domain(is *Issuer, tenant string, p *core.Principal) string {
	if !s.namespaced {
		if tenant != "" {
			return tenant
		}
		return p.Issuer
	}
	if tenant == "" {
		return is.Alias
	}
	if strings.Contains(tenant, ":") {
		// A tenant never looks like a typed subject ("user:x"), so
		// "<alias>/<segment>/..." is a tenant exactly when <segment> has
		// no ":".
		return is.Alias + "/" + strings.ReplaceAll(escapeTenant(tenant), ":", "%3A")
	}
	return is.Alias + "/" + escapeTenant(tenant)
}

// escapeTenant escapes "%" and "/" in a tenant ("%25", "%2F"), so that a
// namespace "<alias>/<tenant>" followed by "/<subject>" always splits one
// way.
func escapeTenant(t string) string {
	if !strings.ContainsAny(t, "%/") {
		return t
	}
	return strings.NewReplacer("%", "%25", "/", "%2F").Replace(t)
}

// namespace prefixes every typed subject with "<ns>/" (ns is the domain of
// a namespaced principal); AnySubject stays, and "<alias>/*" (every
// principal of the issuer) and "<ns>/*" (every principal of the tenant)
// are added.
func namespace(alias, ns string, subs []string) []string {
	out := make([]string, 0, len(subs)+2)
	for _, s := range subs {
		if s == AnySubject {
			out = append(out, AnySubject, alias+"/"+AnySubject)
			if ns != alias {
				out = append(out, ns+"/"+AnySubject)
			}
			continue
		}
		out = append(out, ns+"/"+s)
	}
	return out
}

// IsolatesIssuers implements core.IssuerIsolator: it returns nil when
// every issuer the verifier trusts is in Config.Issuers, so no two of them
// share subjects or domains, and an error wrapping ErrIssuer otherwise.
// core.New calls it when the verifier trusts more than one issuer or a
// "{tenantid}" issuer.
func (a *Authorizer) IsolatesIssuers(issuers []string) error {
	if a.issuers == nil {
		return fmt.Errorf("%w: the verifier trusts %d issuers (%s) but Config.Issuers is empty: subjects and domains would be shared; set Config.Issuers with an alias per issuer", ErrIssuer, len(issuers), strings.Join(issuers, ", "))
	}
	var missing []string
	for _, iss := range issuers {
		_, inExact := a.issuers.exact[iss]
		if !inExact && !slices.ContainsFunc(a.issuers.templates, func(t *Issuer) bool { return t.Issuer == iss }) {
			missing = append(missing, iss)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: trusted issuers missing from Config.Issuers: %s", ErrIssuer, strings.Join(missing, ", "))
	}
	if len(issuers) > 1 && !a.issuers.namespaced {
		return fmt.Errorf("%w: more than one trusted issuer but subjects are not namespaced", ErrIssuer)
	}
	return nil
}
