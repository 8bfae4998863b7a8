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

// EntraConfig configures [Entra].
type EntraConfig struct {
	// AllowedTenants lists the tenant ids (GUIDs) whose tokens are accepted;
	// compared case-insensitively with the "tid" claim. REQUIRED unless
	// AllowAnyTenant is set.
	AllowedTenants []string
	// AllowAnyTenant accepts every tenant (a multi-tenant application that
	// authorizes by tenant itself, e.g. in Casbin domains). OPTIONAL, default
	// false: Entra fails without AllowedTenants, so that a multi-tenant app
	// never admits every Entra tenant by omission.
	AllowAnyTenant bool
	// AllowGroupOverage accepts user tokens whose groups were too many to
	// include ("_claim_names.groups" or "hasgroups": more than 200 groups in
	// a JWT): Principal.Groups is then empty and the attribute
	// "groups_overage" is true. OPTIONAL, default false: such tokens are
	// refused with core.ErrMapping, because an incomplete group list would
	// silently mean "in no group" (a deny rule on a group would not apply).
	// Set it only when policy does not use groups; otherwise emit only the
	// groups assigned to the application, or use app roles.
	AllowGroupOverage bool
}

// Entra returns a Mapper for Microsoft Entra ID (Azure AD) access tokens,
// v1 and v2:
//
//   - Subject: "oid" (the object id, stable across applications; "sub" is
//     pairwise per application and is kept in Claims);
//   - GUIDs (Subject, Tenant, a GUID ClientID and GUID groups) are mapped in
//     lower case, their canonical form, so that policy and session binding
//     compare them as Entra does (case-insensitively);
//   - ClientID: "azp" (v2), then "appid" (v1);
//   - Tenant: "tid", REQUIRED, a GUID, and one of AllowedTenants;
//   - Scopes: "scp" (space-delimited delegated permissions); Roles: "roles";
//     Groups: "groups" (object ids). For client principals the application
//     permissions in "roles" are also copied into Scopes, so that
//     scope-based policy applies to app-only tokens;
//   - attributes "preferred_username", "email", "acr", "amr";
//   - group overage (the token says its groups were too many to include:
//     "hasgroups" or "_claim_names.groups"): refused, unless
//     AllowGroupOverage, which maps it with Groups empty and the attribute
//     "groups_overage" = true;
//   - issuer binding: "iss" must be exactly
//     "https://login.microsoftonline.com/<tid>/v2.0" or
//     "https://sts.windows.net/<tid>/" for the token's own "tid", so a token
//     of one tenant can never pass under another tenant's issuer with a
//     multi-tenant ("common"/"organizations") verifier.
//
// Classification: "idtyp" = "app" is a client and "idtyp" = "user" a user;
// without "idtyp" a token with no "scp" whose "sub" equals its "oid" is a
// client (app-only tokens), every other token a user.
func Entra(cfg EntraConfig) (*Mapper, error) {
	allowed := make(map[string]struct{}, len(cfg.AllowedTenants))
	for _, t := range cfg.AllowedTenants {
		if !guid.Is(t) {
			return nil, fmt.Errorf("mapper: entra: allowed tenant %q is not a GUID", t)
		}
		allowed[strings.ToLower(t)] = struct{}{}
	}
	if len(allowed) == 0 && !cfg.AllowAnyTenant {
		return nil, errors.New("mapper: entra: AllowedTenants is empty and AllowAnyTenant is not set")
	}
	return Standard(Config{
		SubjectClaim:   "oid",
		ClientIDClaims: []string{"azp", "appid"},
		ScopeClaims:    []string{"scp"},
		GroupClaims:    []string{"groups"},
		RoleClaims:     []string{"roles"},
		TenantClaims:   []string{"tid"},
		AttributeClaims: map[string]string{
			"preferred_username": "preferred_username", "email": "email", "acr": "acr", "amr": "amr",
		},
		IsClient: entraIsClient,
		Checks:   entraChecks(allowed, cfg.AllowAnyTenant, cfg.AllowGroupOverage),
		Refine: func(c *core.Claims, p *core.Principal) error {
			// The checks read "tid" itself; the tenant mapped from it must
			// be that GUID too (not prefixed with a provider).
			if !guid.Is(p.Tenant) {
				return mappingErr("entra: tid missing or not a GUID")
			}
			// Object ids, tenant ids and application ids are GUIDs,
			// which Entra compares case-insensitively: one canonical
			// (lower-case) form keeps an upper-case "oid" from becoming a
			// second principal, or slipping past a deny rule.
			p.Tenant = strings.ToLower(p.Tenant)
			for _, iss := range [...]string{"https://login.microsoftonline.com/" + p.Tenant + "/v2.0", "https://sts.windows.net/" + p.Tenant + "/"} {
				if strings.EqualFold(p.Issuer, iss) {
					p.Issuer = iss
				}
			}
			p.Subject = lowerGUID(p.Subject)
			p.ClientID = lowerGUID(p.ClientID)
			p.Groups = lowerGUIDs(p.Groups)
			if p.Kind == core.PrincipalClient {
				for _, r := range p.Roles {
					if !p.HasScope(r) {
						p.Scopes = append(p.Scopes, r)
					}
				}
			}
			if cfg.AllowGroupOverage && entraGroupOverage(c) {
				if p.Attributes == nil {
					p.Attributes = map[string]any{}
				}
				p.Attributes["groups_overage"] = true
			}
			return nil
		},
	})
}

func entraIsClient(c *core.Claims, oid, _ string) (bool, error) {
	idtyp, err := optString(c, "idtyp")
	if err != nil {
		return false, err
	}
	switch idtyp {
	case "app":
		return true, nil
	case "user":
		return false, nil
	case "":
	default:
		return false, fmt.Errorf("%w: entra: unknown idtyp %s", core.ErrMapping, clip.Quote(idtyp, 128))
	}
	if _, hasScp := c.Lookup("scp"); hasScp {
		return false, nil
	}
	sub, err := optString(c, "sub")
	if err != nil {
		return false, err
	}
	return sub != "" && sub == oid, nil
}

func entraGroupOverage(c *core.Claims) bool {
	if v, ok := c.Lookup("hasgroups"); ok && v == true {
		return true
	}
	v, _ := c.Raw.Get("_claim_names")
	names, _ := v.(map[string]any)
	_, ok := names["groups"]
	return ok
}

// lowerGUID returns s in lower case when it is a GUID, else s.
func lowerGUID(s string) string {
	if guid.Is(s) {
		return strings.ToLower(s)
	}
	return s
}

// lowerGUIDs returns list with its GUIDs in lower case and the duplicates
// that makes dropped; list itself is never modified (it may share memory
// with the cached claims).
func lowerGUIDs(list []string) []string {
	if !slices.ContainsFunc(list, func(s string) bool { return lowerGUID(s) != s }) {
		return list
	}
	out := make([]string, 0, len(list))
	for _, s := range list {
		if s = lowerGUID(s); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
