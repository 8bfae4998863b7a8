package mapper

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/mcpauthz/mcpauthz/core"
)

// Mapper is a configurable [core.ClaimMapper]. It is immutable after
// construction and safe for concurrent use.
type Mapper struct {
	cfg       Config
	attrNames []string // sorted keys of cfg.AttributeClaims, for determinism
	schema    []core.AttributeSpec
}

var _ core.ClaimMapper = (*Mapper)(nil)

// Standard returns a Mapper for cfg (see [Config] for the defaults). It fails
// only on an invalid Config (an empty claim path).
func Standard(cfg Config) (*Mapper, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Mapper{cfg: c}
	if m.schema, err = schemaOf(&c); err != nil {
		return nil, err
	}
	for name := range c.AttributeClaims {
		m.attrNames = append(m.attrNames, name)
	}
	sort.Strings(m.attrNames)
	return m, nil
}

// MapClaims builds the principal for verified claims c.
//
// Principal.Issuer is c.Issuer (or the "iss" claim when c.Issuer is empty)
// and must not be empty. When c.Raw holds no claims the typed fields of c (iss, sub,
// aud, client_id, scope, jti) stand in for the raw claims. Errors wrap
// [core.ErrMapping] (or [core.ErrUnavailable] if a Refine hook returns one).
func (m *Mapper) MapClaims(_ context.Context, c *core.Claims) (*core.Principal, error) {
	if c == nil {
		return nil, mappingErr("no claims")
	}
	c, err := withRaw(c)
	if err != nil {
		return nil, err
	}
	cfg := &m.cfg
	if err := RunChecks(cfg.Checks, c); err != nil {
		return nil, err
	}

	issuer := c.Issuer
	if issuer == "" {
		s, err := optString(c, "iss")
		if err != nil {
			return nil, err
		}
		issuer = s
	}
	if issuer == "" {
		return nil, mappingErr("token has no issuer")
	}
	subject, err := optString(c, cfg.SubjectClaim)
	if err != nil {
		return nil, err
	}
	clientID, err := firstString(c, cfg.ClientIDClaims)
	if err != nil {
		return nil, err
	}
	tenant, err := firstString(c, cfg.TenantClaims)
	if err != nil {
		return nil, err
	}
	provider, err := firstString(c, cfg.ProviderClaims)
	if err != nil {
		return nil, err
	}
	tenant = core.ProviderTenant(provider, tenant)

	isClient, err := m.classify(c, subject, clientID)
	if err != nil {
		return nil, err
	}
	p := &core.Principal{
		Kind:     core.PrincipalUser,
		Issuer:   issuer,
		Subject:  subject,
		Tenant:   tenant,
		ClientID: clientID,
		Scopes:   collect(c, cfg.ScopeClaims, true),
		Groups:   collect(c, cfg.GroupClaims, false),
		Roles:    collect(c, cfg.RoleClaims, false),
		Claims:   c,
	}
	if isClient {
		p.Kind = core.PrincipalClient
		if clientID == "" {
			return nil, mappingErr("client token has no client id")
		}
	} else if subject == "" {
		return nil, mappingErr("user token has no subject")
	}
	for _, name := range m.attrNames {
		if v, ok := attribute(c, cfg.AttributeClaims[name]); ok {
			if p.Attributes == nil {
				p.Attributes = make(map[string]any, len(m.attrNames))
			}
			p.Attributes[name] = v
		}
	}
	if cfg.Refine != nil {
		if err := cfg.Refine(c, p); err != nil {
			if errors.Is(err, core.ErrMapping) || errors.Is(err, core.ErrUnavailable) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %w", core.ErrMapping, err)
		}
	}
	return p, nil
}

// classify applies IsClient or the default rule of the package documentation.
func (m *Mapper) classify(c *core.Claims, subject, clientID string) (bool, error) {
	cfg := &m.cfg
	if cfg.IsClient != nil {
		ok, err := cfg.IsClient(c, subject, clientID)
		if err != nil {
			if errors.Is(err, core.ErrMapping) || errors.Is(err, core.ErrUnavailable) {
				return false, err
			}
			return false, fmt.Errorf("%w: %w", core.ErrMapping, err)
		}
		return ok, nil
	}
	for path, want := range cfg.ClientClaims {
		if s, ok := c.String(path); ok && s == want {
			return true, nil
		}
	}
	if subject == "" {
		return true, nil
	}
	return !cfg.IgnoreSubjectEqualsClientID && clientID != "" && subject == clientID, nil
}

func mappingErr(msg string) error {
	return fmt.Errorf("%w: %s", core.ErrMapping, msg)
}
