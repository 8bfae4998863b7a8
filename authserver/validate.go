package authserver

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/mcpauthz/mcpauthz/internal/httpx"
	"github.com/mcpauthz/mcpauthz/internal/jose"
)

// reservedClaims cannot be targets of TrustedIdP.Claims.
var reservedClaims = []string{
	"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope",
	"cnf", "idp_iss", "tenant", "acr", "amr", "auth_time", "act", "may_act",
}

func (s *Server) setIssuer(raw string, authorize bool) error {
	u, err := httpx.CheckURL(raw, false)
	if err != nil {
		return cfgErr("issuer", err.Error())
	}
	p := u.Path
	if u.RawQuery != "" || strings.Contains(raw, "?") || u.RawPath != "" {
		return cfgErr("issuer", "must not have a query or percent-encoded path")
	}
	if strings.HasSuffix(raw, "/") {
		return cfgErr("issuer", `must not end with "/"`)
	}
	if p != "" && (path.Clean(p) != p || strings.Contains(p, "/.well-known")) {
		return cfgErr("issuer", "path must be clean and must not contain /.well-known")
	}
	s.issuer = raw
	s.tokenEndpoint = raw + "/token"
	s.jwksURI = raw + "/jwks.json"
	s.routes = newRouteTable(p, authorize)
	if authorize {
		s.authorizeEndpoint = raw + "/authorize"
	}
	return nil
}

func (s *Server) setResources(list []Resource, def string) error {
	if len(list) == 0 {
		return cfgErr("resources", "at least one resource is required")
	}
	s.resources = make(map[string]*resource, len(list))
	for i, r := range list {
		field := fmt.Sprintf("resources[%d]", i)
		u, err := url.Parse(r.ID)
		if r.ID == "" || err != nil || !u.IsAbs() || u.Host == "" || strings.Contains(r.ID, "#") {
			return cfgErr(field+".id", "must be an absolute URI without fragment")
		}
		if s.resources[r.ID] != nil {
			return cfgErr(field+".id", "duplicate resource "+r.ID)
		}
		for j, sc := range r.Scopes {
			if ps, err := parseScope(sc); err != nil || len(ps) != 1 {
				return cfgErr(fmt.Sprintf("%s.scopes[%d]", field, j), "invalid scope token")
			}
		}
		s.resources[r.ID] = &resource{id: r.ID, scopes: dedupe(r.Scopes), set: toSet(r.Scopes)}
	}
	s.defaultResource = def
	if def == "" {
		s.defaultResource = list[0].ID
	} else if s.resources[def] == nil {
		return cfgErr("default_resource", "must be one of resources")
	}
	return nil
}

func dedupe(list []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func checkClientID(id string) bool {
	if id == "" || len(id) > 256 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

func (s *Server) setClients(list []Client, hc *http.Client) error {
	s.clients = make(map[string]*client, len(list))
	for i, c := range list {
		field := fmt.Sprintf("clients[%d]", i)
		if !checkClientID(c.ID) {
			return cfgErr(field+".client_id", "must be 1..256 printable ASCII characters without spaces")
		}
		field = fmt.Sprintf("clients[%d] (%s)", i, c.ID)
		if s.clients[c.ID] != nil {
			return cfgErr(field+".client_id", "duplicate client")
		}
		cl := &client{id: c.ID, methods: map[string]bool{}, grants: map[string]bool{}, scopes: toSet(c.Scopes)}
		if c.SecretHash != "" {
			h, err := parseSecretHash(c.SecretHash)
			if err != nil {
				return cfgErr(field+".secret_hash", err.Error())
			}
			cl.secret = h
			cl.methods[AuthClientSecretBasic] = true
			cl.methods[AuthClientSecretPost] = true
		}
		if len(c.JWKS) > 0 && c.JWKSURL != "" {
			return cfgErr(field, "jwks and jwks_uri are mutually exclusive")
		}
		if len(c.JWKS) > 0 || c.JWKSURL != "" {
			ks, err := s.keySet(c.JWKS, c.JWKSURL, s.assertionAlgs, hc)
			if err != nil {
				return cfgErr(field+".jwks", err.Error())
			}
			cl.keys = ks
			cl.methods[AuthPrivateKeyJWT] = true
		}
		if slices.Contains(c.AuthMethods, AuthNone) {
			if len(c.AuthMethods) != 1 || len(cl.methods) > 0 {
				return cfgErr(field+".auth_methods", `"none" (public client) excludes credentials and other methods`)
			}
			cl.public = true
			cl.methods[AuthNone] = true
		}
		if len(cl.methods) == 0 {
			return cfgErr(field, "needs secret_hash, jwks or jwks_uri")
		}
		if len(c.AuthMethods) > 0 && !cl.public {
			allowed := map[string]bool{}
			for j, m := range c.AuthMethods {
				if !cl.methods[m] {
					return cfgErr(fmt.Sprintf("%s.auth_methods[%d]", field, j), fmt.Sprintf("%q is unknown or lacks credentials", m))
				}
				allowed[m] = true
			}
			cl.methods = allowed
		}
		if len(c.GrantTypes) == 0 {
			return cfgErr(field+".grant_types", "at least one grant type is required")
		}
		for j, g := range c.GrantTypes {
			switch g {
			case GrantAuthorizationCode, GrantRefreshToken:
			case GrantClientCredentials, GrantJWTBearer:
				if cl.public {
					return cfgErr(fmt.Sprintf("%s.grant_types[%d]", field, j), "a public client may use only authorization_code and refresh_token")
				}
			default:
				return cfgErr(fmt.Sprintf("%s.grant_types[%d]", field, j), fmt.Sprintf("unknown grant type %q", g))
			}
			cl.grants[g] = true
		}
		for j, sc := range c.Scopes {
			if ps, err := parseScope(sc); err != nil || len(ps) != 1 {
				return cfgErr(fmt.Sprintf("%s.scopes[%d]", field, j), "invalid scope token")
			}
		}
		for j, ru := range c.RedirectURIs {
			if err := checkRedirectURI(ru, cl.public); err != nil {
				return cfgErr(fmt.Sprintf("%s.redirect_uris[%d]", field, j), err.Error())
			}
		}
		cl.redirects = slices.Clone(c.RedirectURIs)
		cl.name = c.Name
		if len(c.Resources) > 0 {
			cl.resources = map[string]bool{}
			for j, r := range c.Resources {
				if s.resources[r] == nil {
					return cfgErr(fmt.Sprintf("%s.resources[%d]", field, j), "not a configured resource")
				}
				cl.resources[r] = true
			}
		}
		s.clients[c.ID] = cl
	}
	return nil
}

func (s *Server) setIdPs(list []TrustedIdP, hc *http.Client) error {
	s.idps = make(map[string]*idp, len(list))
	for i, p := range list {
		field := fmt.Sprintf("trusted_idps[%d]", i)
		if p.Issuer == "" || hasControl(p.Issuer) || len(p.Issuer) > 1024 {
			return cfgErr(field+".issuer", "is required")
		}
		if p.Issuer == s.issuer {
			return cfgErr(field+".issuer", "must not be this server's own issuer")
		}
		if s.idps[p.Issuer] != nil {
			return cfgErr(field+".issuer", "duplicate trusted IdP")
		}
		algs := slices.Clone(p.Algorithms)
		if algs == nil {
			algs = []string{jose.ES256, jose.RS256, jose.PS256, jose.EdDSA}
		}
		if err := jose.ValidateAlgorithms(algs); err != nil {
			return cfgErr(field+".algorithms", err.Error())
		}
		if (len(p.JWKS) > 0) == (p.JWKSURL != "") {
			return cfgErr(field, "exactly one of jwks and jwks_uri is required")
		}
		ks, err := s.keySet(p.JWKS, p.JWKSURL, algs, hc)
		if err != nil {
			return cfgErr(field+".jwks", err.Error())
		}
		claims := make(map[string]string, len(p.Claims))
		for from, to := range p.Claims {
			if from == "" || to == "" || slices.Contains(reservedClaims, to) {
				return cfgErr(field+".claims."+from, fmt.Sprintf("cannot map to %q", to))
			}
			claims[from] = to
		}
		s.idps[p.Issuer] = &idp{issuer: p.Issuer, keys: ks, algs: algs, claims: claims}
	}
	return nil
}

func (s *Server) setKeys(list []SigningKey, dev bool) error {
	if len(list) == 0 {
		if !dev {
			return cfgErr("signing_keys", "at least one signing key is required (or dev_generate_key for development)")
		}
		k, err := jose.GenerateKey(jose.ES256)
		if err != nil {
			return err
		}
		list = []SigningKey{{Signer: k}}
		s.log.Warn("authserver: DEVELOPMENT MODE: using an ephemeral, generated signing key; tokens stop verifying at restart and this must never run in production",
			"issuer", s.issuer)
	}
	keys := make([]*signingKey, 0, len(list))
	for i, k := range list {
		sk, err := newSigningKey(k)
		if err != nil {
			return cfgErr(fmt.Sprintf("signing_keys[%d]", i), err.Error())
		}
		keys = append(keys, sk)
	}
	st, err := newKeyState(keys)
	if err != nil {
		return cfgErr("signing_keys", err.Error())
	}
	s.keys.Store(st)
	return nil
}
