package mapper

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mcpauthz/mcpauthz/core"
)

// Config lists the claim paths a [Mapper] reads. Paths are resolved with
// [core.Claims.Lookup]. For every list field, nil selects the documented
// default and an empty non-nil slice disables the field.
type Config struct {
	// SubjectClaim is the user identifier. OPTIONAL, default "sub".
	SubjectClaim string

	// ClientIDClaims name the OAuth client; the first one present with a
	// non-empty string value wins. OPTIONAL, default ["client_id", "azp"].
	ClientIDClaims []string

	// ScopeClaims are merged into Principal.Scopes. A string value is split on
	// spaces (RFC 6749 §3.3), a list keeps its string elements. OPTIONAL,
	// default ["scope", "scp"].
	ScopeClaims []string

	// GroupClaims are merged into Principal.Groups (string = one group, list
	// = its string elements). OPTIONAL, default ["groups"].
	GroupClaims []string

	// RoleClaims are merged into Principal.Roles, like GroupClaims.
	// OPTIONAL, default ["roles"].
	RoleClaims []string

	// TenantClaims select Principal.Tenant: the first one present with a
	// non-empty string value wins. OPTIONAL, default ["tid", "tenant"].
	TenantClaims []string

	// ProviderClaims name the upstream identity provider of tokens that an
	// authorization server minted from an assertion: the first one present
	// with a non-empty string value is prefixed to Principal.Tenant
	// ("<provider>" or "<provider>|<tenant>"). OPTIONAL, default ["idp_iss"],
	// the provenance claim of the embedded authorization server. Its tokens
	// all carry "iss" = the authorization server, so without the provider
	// the same "sub" (or the same self-declared "tenant") from two trusted
	// IdPs would be one principal (Principal.ID, session binding, audit,
	// Casbin domain).
	ProviderClaims []string

	// AttributeClaims maps an attribute name to a claim path, copied into
	// Principal.Attributes when present: strings, booleans and numbers (as
	// json.Number) are kept as they are, lists keep their string elements
	// (as []string), objects and nulls are skipped. OPTIONAL, default none.
	AttributeClaims map[string]string

	// AttributeSpecs types AttributeClaims entries and sets their defaults
	// (see [Mapper.AttributeSchema]). An entry must name an AttributeClaims
	// attribute. OPTIONAL; names without a spec are declared as strings
	// with default "", except "amr" (strings, default []) and
	// "email_verified" (bool, default false).
	AttributeSpecs []core.AttributeSpec

	// ClientClaims marks client tokens: a token is a client when the claim at
	// a key path is a JSON string equal to the value, e.g.
	// {"idtyp": "app"} (Entra) or {"gty": "client-credentials"} (Auth0).
	// OPTIONAL, default none. Ignored when IsClient is set.
	ClientClaims map[string]string

	// IgnoreSubjectEqualsClientID turns off rule 3 of the default
	// classification (sub == client id ⇒ client). Set it for providers whose
	// subjects are user-chosen and may equal a client id. OPTIONAL, default
	// false. Ignored when IsClient is set.
	IgnoreSubjectEqualsClientID bool

	// IsClient replaces the default classification (see the package
	// documentation). It receives the verified claims with the subject and
	// client id already resolved; an error rejects the token. OPTIONAL.
	IsClient func(c *core.Claims, subject, clientID string) (bool, error)

	// Refine runs after the standard mapping and may adjust the principal
	// (for example copy roles into scopes) or reject it. An error that does
	// not already wrap core.ErrMapping or core.ErrUnavailable is wrapped in
	// core.ErrMapping. OPTIONAL.
	Refine func(c *core.Claims, p *core.Principal) error

	// Checks are named security checks run on the claims before anything
	// is mapped; the first refusal rejects the token (see [Check]). The
	// presets put their refusals here, apart from the claim layout.
	// OPTIONAL, default none.
	Checks []Check
}

// withDefaults returns a copy of cfg with defaults applied and the slices and
// maps cloned, so that later changes by the caller have no effect.
func (cfg Config) withDefaults() (Config, error) {
	out := cfg
	if out.SubjectClaim == "" {
		out.SubjectClaim = "sub"
	}
	out.ClientIDClaims = listOrDefault(cfg.ClientIDClaims, "client_id", "azp")
	out.ScopeClaims = listOrDefault(cfg.ScopeClaims, "scope", "scp")
	out.GroupClaims = listOrDefault(cfg.GroupClaims, "groups")
	out.RoleClaims = listOrDefault(cfg.RoleClaims, "roles")
	out.TenantClaims = listOrDefault(cfg.TenantClaims, "tid", "tenant")
	out.ProviderClaims = listOrDefault(cfg.ProviderClaims, "idp_iss")
	out.AttributeClaims = cloneMap(cfg.AttributeClaims)
	out.ClientClaims = cloneMap(cfg.ClientClaims)
	out.AttributeSpecs = slices.Clone(cfg.AttributeSpecs)
	out.Checks = slices.Clone(cfg.Checks)
	if err := ValidateChecks(out.Checks); err != nil {
		return Config{}, err
	}

	lists := [][]string{out.ClientIDClaims, out.ScopeClaims, out.GroupClaims, out.RoleClaims, out.TenantClaims, out.ProviderClaims}
	for _, l := range lists {
		if slices.Contains(l, "") {
			return Config{}, errors.New("mapper: empty claim path in Config")
		}
		for _, p := range l {
			if err := core.ValidateClaimPath(p); err != nil {
				return Config{}, fmt.Errorf("mapper: %w", err)
			}
		}
	}
	if err := core.ValidateClaimPath(out.SubjectClaim); err != nil {
		return Config{}, fmt.Errorf("mapper: SubjectClaim: %w", err)
	}
	for name, path := range out.AttributeClaims {
		if name == "" || path == "" {
			return Config{}, fmt.Errorf("mapper: AttributeClaims entry %q → %q: empty name or path", name, path)
		}
		if err := core.ValidateClaimPath(path); err != nil {
			return Config{}, fmt.Errorf("mapper: AttributeClaims[%q]: %w", name, err)
		}
	}
	for path := range out.ClientClaims {
		if path == "" {
			return Config{}, errors.New("mapper: ClientClaims has an empty claim path")
		}
	}
	return out, nil
}

func listOrDefault(l []string, def ...string) []string {
	if l == nil {
		return def
	}
	return slices.Clone(l)
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
