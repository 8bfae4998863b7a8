package core

import (
	"errors"
	"fmt"
	"strings"
)

// IssuerTenantPlaceholder marks the tenant segment of a multi-tenant issuer
// template ("https://login.microsoftonline.com/{tenantid}/v2.0"); it is the
// same as verifier.TenantPlaceholder.
const IssuerTenantPlaceholder = "{tenantid}"

// IssuerLister is implemented by a TokenVerifier that knows the issuers it
// trusts (verifier.Verifier does). New uses it to refuse configurations in
// which two issuers would share policy subjects.
type IssuerLister interface {
	// TrustedIssuers returns the configured "iss" values and templates.
	TrustedIssuers() []string
}

// IssuerIsolator is implemented by an Authorizer that namespaces policy
// subjects and domains by issuer (casbinauthz with Config.Issuers). It
// returns nil when principals of the listed issuers can never match rules
// written for one another's principals, groups, roles or tenants.
type IssuerIsolator interface {
	IsolatesIssuers(issuers []string) error
}

// ErrSharedSubjects is returned by New when the verifier trusts more than
// one issuer (or a "{tenantid}" template) and the Authorizer does not
// isolate them, unless Config.InsecureSharedSubjects is set.
var ErrSharedSubjects = errors.New("core: issuers would share policy subjects")

// checkIssuerIsolation is the §3 check of New.
func checkIssuerIsolation(cfg *Config) error {
	if cfg.Authorizer == nil || cfg.InsecureSharedSubjects {
		return nil
	}
	il, ok := cfg.Verifier.(IssuerLister)
	if !ok {
		return nil
	}
	issuers := il.TrustedIssuers()
	shared := len(issuers) > 1
	for _, iss := range issuers {
		if strings.Contains(iss, IssuerTenantPlaceholder) {
			shared = true
		}
	}
	if !shared {
		return nil
	}
	iso, ok := cfg.Authorizer.(IssuerIsolator)
	if !ok {
		return fmt.Errorf("%w: the verifier trusts %s and the Authorizer does not namespace subjects by issuer (casbinauthz: Config.Issuers); set InsecureSharedSubjects only if every issuer is one administrative domain", ErrSharedSubjects, strings.Join(issuers, ", "))
	}
	if err := iso.IsolatesIssuers(issuers); err != nil {
		return fmt.Errorf("%w: %w", ErrSharedSubjects, err)
	}
	return nil
}
