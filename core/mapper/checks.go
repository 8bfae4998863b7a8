package mapper

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/clip"
	"github.com/mcpauthz/mcpauthz/internal/guid"
)

// Check is one named security check of an identity-provider preset: a
// refusal that does not depend on how the claims are mapped (which claim is
// the subject, where groups come from). A preset keeps its checks apart from
// its claim layout ([Config.Checks], [Mapper.Checks]) so that replacing the
// layout never drops them: verifier.IssuerConfig.Checks runs them on every
// verified token whatever mapper maps it, and only
// verifier.IssuerConfig.DisableChecks, which names them, turns one off.
//
// The checks of the presets are:
//
//   - "okta.token_shape": a token carries "uid" (a user) or has "sub" equal
//     to "cid" (a client-credentials token); any other shape is refused;
//   - "entra.access_token": the token names its client ("azp" in v2,
//     "appid" in v1), as Entra access tokens do and its ID tokens never
//     do;
//   - "entra.tenant": "tid" is a GUID and, unless AllowAnyTenant, one of
//     AllowedTenants;
//   - "entra.issuer_tenant": "iss" is the v2 or v1 issuer of the token's own
//     "tid";
//   - "entra.group_overage": a token whose groups did not fit is refused
//     (absent with AllowGroupOverage);
//   - "google.service_account": a client token (no "sub", "sub" equal to
//     "azp", or a service account's "email" or "azp" in
//     gserviceaccount.com) is refused (absent with AllowServiceAccounts);
//   - "google.verified_email": a user token has a non-empty "email" and
//     "email_verified" true;
//   - "google.hosted_domain": a user token's "hd" is one of HostedDomains
//     (present only when HostedDomains is set);
//   - "keycloak.bearer_typ" (verifier.Keycloak): the payload "typ" is
//     "Bearer", so an ID or refresh token is never taken for an access token.
type Check struct {
	// Name is "<preset>.<check>". REQUIRED, unique within a list.
	Name string
	// Fn refuses the verified claims c with an error; errors that wrap
	// neither core.ErrMapping nor core.ErrUnavailable are wrapped in
	// core.ErrMapping (401 invalid_token). REQUIRED.
	Fn func(c *core.Claims) error
}

// RunChecks runs checks on c in order and returns the first refusal,
// prefixed with the check's name and wrapping core.ErrMapping (or
// core.ErrUnavailable when the check's error does).
func RunChecks(checks []Check, c *core.Claims) error {
	for i := range checks {
		if err := checks[i].Fn(c); err != nil {
			if errors.Is(err, core.ErrMapping) || errors.Is(err, core.ErrUnavailable) {
				return fmt.Errorf("check %s: %w", checks[i].Name, err)
			}
			return fmt.Errorf("%w: check %s: %w", core.ErrMapping, checks[i].Name, err)
		}
	}
	return nil
}

// ValidateChecks reports an empty name, a nil function or a name used
// twice.
func ValidateChecks(checks []Check) error {
	seen := make(map[string]bool, len(checks))
	for _, ch := range checks {
		if ch.Name == "" || ch.Fn == nil {
			return fmt.Errorf("mapper: check %q: empty name or nil Fn", ch.Name)
		}
		if seen[ch.Name] {
			return fmt.Errorf("mapper: check %q listed twice", ch.Name)
		}
		seen[ch.Name] = true
	}
	return nil
}

// Checks returns a copy of the mapper's security checks ([Config.Checks]).
func (m *Mapper) Checks() []Check { return slices.Clone(m.cfg.Checks) }

// WithoutChecks returns a copy of m that maps claims exactly as m does but
// runs none of its [Config.Checks]. It is for callers that run the checks
// themselves on every token, as verifier.IssuerConfig.Checks does; used on
// its own it drops the preset's refusals.
func (m *Mapper) WithoutChecks() *Mapper {
	c := *m
	c.cfg.Checks = nil
	return &c
}

func oktaChecks() []Check {
	return []Check{{Name: "okta.token_shape", Fn: func(c *core.Claims) error {
		uid, err := optString(c, "uid")
		if err != nil || uid != "" {
			return err
		}
		sub, err := optString(c, "sub")
		if err != nil {
			return err
		}
		cid, err := optString(c, "cid")
		if err != nil {
			return err
		}
		if sub != "" && sub == cid {
			return nil
		}
		return mappingErr("okta: token has neither uid nor sub == cid")
	}}}
}

func entraChecks(allowed map[string]struct{}, anyTenant, allowOverage bool) []Check {
	checks := []Check{
		{Name: "entra.access_token", Fn: func(c *core.Claims) error {
			// Entra access tokens name their client ("azp" in v2, "appid"
			// in v1); its ID tokens never do, and an ID token of the
			// server's own app registration has the GUID audience of a v2
			// access token and no nonce when the login sent none.
			id, err := firstString(c, []string{"azp", "appid"})
			if err != nil {
				return err
			}
			if id == "" {
				return mappingErr("entra: token has neither azp (v2) nor appid (v1): an ID token, not an access token")
			}
			return nil
		}},
		{Name: "entra.tenant", Fn: func(c *core.Claims) error {
			tid, err := optString(c, "tid")
			if err != nil {
				return err
			}
			if !guid.Is(tid) {
				return mappingErr("entra: tid missing or not a GUID")
			}
			if _, ok := allowed[strings.ToLower(tid)]; !ok && !anyTenant {
				return fmt.Errorf("%w: entra: tenant %s not allowed", core.ErrMapping, tid)
			}
			return nil
		}},
		{Name: "entra.issuer_tenant", Fn: func(c *core.Claims) error {
			tid, err := optString(c, "tid")
			if err != nil {
				return err
			}
			iss := c.Issuer
			if iss == "" {
				if iss, err = optString(c, "iss"); err != nil {
					return err
				}
			}
			if tid == "" || iss != "https://login.microsoftonline.com/"+tid+"/v2.0" && iss != "https://sts.windows.net/"+tid+"/" {
				return fmt.Errorf("%w: entra: issuer %s does not belong to tenant %s", core.ErrMapping, clip.Quote(iss, 128), clip.Quote(tid, 128))
			}
			return nil
		}},
	}
	if !allowOverage {
		checks = append(checks, Check{Name: "entra.group_overage", Fn: func(c *core.Claims) error {
			if entraGroupOverage(c) {
				return mappingErr("entra: groups overage: the user is in more groups than the token can carry " +
					"(_claim_names.groups or hasgroups), so its group list is incomplete; emit only groups assigned " +
					"to the application, use app roles, or set AllowGroupOverage (allow_group_overage) if policy ignores groups")
			}
			return nil
		}})
	}
	return checks
}

// googleIsClient is the Google preset's classification: no "sub", "sub"
// equal to "azp", or an "email" of a service account (a domain that is
// gserviceaccount.com or ends with ".gserviceaccount.com": user-managed
// "*.iam.gserviceaccount.com", App Engine's "appspot.gserviceaccount.com",
// Compute's "developer.gserviceaccount.com"). The email rule matters for
// the ID tokens Google's token endpoint issues to a service account (a
// JWT-bearer grant with target_audience): their "azp" is the account's
// email, not its numeric "sub", so the generic rule alone would take them
// for a person whose email is verified.
func googleIsClient(c *core.Claims) (bool, error) {
	sub, err := optString(c, "sub")
	if err != nil {
		return false, err
	}
	azp, err := optString(c, "azp")
	if err != nil {
		return false, err
	}
	if sub == "" || azp != "" && sub == azp {
		return true, nil
	}
	email, err := optString(c, "email")
	if err != nil {
		return false, err
	}
	return isGoogleServiceAccountEmail(email) || isGoogleServiceAccountEmail(azp), nil
}

// isGoogleServiceAccountEmail reports an address in gserviceaccount.com or
// one of its subdomains (case-insensitively); no person's Google account
// has one.
func isGoogleServiceAccountEmail(email string) bool {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return false
	}
	dom := strings.ToLower(strings.TrimSuffix(email[at+1:], "."))
	return dom == "gserviceaccount.com" || strings.HasSuffix(dom, ".gserviceaccount.com")
}

func googleChecks(domains []string, allowServiceAccounts bool) []Check {
	var checks []Check
	if !allowServiceAccounts {
		checks = append(checks, Check{Name: "google.service_account", Fn: func(c *core.Claims) error {
			client, err := googleIsClient(c)
			if err != nil || !client {
				return err
			}
			return mappingErr("google: client (service account) tokens are not allowed")
		}})
	}
	checks = append(checks, Check{Name: "google.verified_email", Fn: func(c *core.Claims) error {
		if client, err := googleIsClient(c); err != nil || client {
			return err
		}
		email, err := optString(c, "email")
		if err != nil {
			return err
		}
		if email == "" {
			return mappingErr("google: user token has no email")
		}
		if v, _ := c.Lookup("email_verified"); v != true && v != "true" {
			return mappingErr("google: email not verified")
		}
		return nil
	}})
	if len(domains) > 0 {
		checks = append(checks, Check{Name: "google.hosted_domain", Fn: func(c *core.Claims) error {
			if client, err := googleIsClient(c); err != nil || client {
				return err
			}
			hd, err := optString(c, "hd")
			if err != nil {
				return err
			}
			for _, d := range domains {
				if hd != "" && strings.EqualFold(hd, d) {
					return nil
				}
			}
			return fmt.Errorf("%w: google: hosted domain %s not allowed", core.ErrMapping, clip.Quote(hd, 128))
		}})
	}
	return checks
}
