package core

import (
	"errors"
	"fmt"
	"strings"
)

// AudienceLister is implemented by verifiers that know which "aud" values
// they accept (core/verifier.Verifier does). [New] uses it to cross-check
// Config.Resource.
type AudienceLister interface {
	// Audiences returns every accepted audience value.
	Audiences() []string
}

// ErrResourceAudience is wrapped by [CheckResourceAudience] errors.
var ErrResourceAudience = errors.New("core: Config.Resource is not an accepted audience")

// CheckResourceAudience explains a mismatch between the resource and the
// audiences verifier v accepts: nil when v is not an [AudienceLister] or
// resource is one of its audiences, otherwise an error wrapping
// [ErrResourceAudience] that says what clients will see and how to fix it.
// [New] logs it at Warn (the mismatch is legitimate for IdPs whose audience
// is not a URL, such as Entra ID v2's client-id GUID); config loaders may
// refuse it.
func CheckResourceAudience(resource string, v TokenVerifier) error {
	al, ok := v.(AudienceLister)
	if !ok {
		return nil
	}
	auds := al.Audiences()
	if len(auds) == 0 {
		return nil
	}
	for _, a := range auds {
		if a == resource {
			return nil
		}
	}
	near := ""
	for _, a := range auds {
		if strings.EqualFold(strings.TrimSuffix(a, "/"), strings.TrimSuffix(resource, "/")) {
			near = fmt.Sprintf(" %q differs from it only in case or a trailing slash: audiences are compared exactly, so fix the typo.", a)
			break
		}
	}
	return fmt.Errorf("%w: the verifier accepts aud %q but Config.Resource is %q. MCP clients request tokens for the resource (RFC 8707), "+
		"so an IdP that honours it issues aud=%q and every such token is refused as invalid_token.%s "+
		"Add the resource to the verifier's audiences, unless the IdP cannot put the URL in aud "+
		"(Entra ID v2 always sends the app's client-id GUID): then this is expected",
		ErrResourceAudience, auds, resource, resource, near)
}

// warnResourceAudience is New's cross-check.
func (g *Guard) warnResourceAudience() {
	if err := CheckResourceAudience(g.resource, g.verifier); err != nil {
		g.log.Warn(err.Error())
	}
}
