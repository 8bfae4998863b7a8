package verifier

import "sort"

// TrustedIssuers returns the configured issuers ("iss" values and
// "{tenantid}" templates, not IssuerConfig.EquivalentIssuers, which
// verified tokens never carry as Claims.Issuer), sorted. It implements core.IssuerLister, so
// core.New can refuse a configuration in which two issuers would share
// policy subjects.
func (v *Verifier) TrustedIssuers() []string {
	out := make([]string, 0, len(v.exact)+len(v.templates))
	for name, is := range v.exact {
		if name == is.name { // not an equivalent issuer: tokens carry is.name
			out = append(out, name)
		}
	}
	for _, t := range v.templates {
		out = append(out, t.name)
	}
	sort.Strings(out)
	return out
}
