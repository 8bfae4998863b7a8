package authserver

import (
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/secretfile"
	"github.com/mcpauthz/mcpauthz/internal/strictyaml"
)

// maxConfigBytes caps the configuration file size.
const maxConfigBytes = 4 << 20

// fileConfig is the documented file format (YAML, or JSON since YAML is a
// superset). Keys are snake_case; unknown keys are errors.
type fileConfig struct {
	Issuer                     string            `yaml:"issuer"`
	DefaultResource            string            `yaml:"default_resource"`
	Resources                  []fileResource    `yaml:"resources"`
	Clients                    []fileClient      `yaml:"clients"`
	TrustedIdPs                []fileIdP         `yaml:"trusted_idps"`
	SigningKeys                []fileKey         `yaml:"signing_keys"`
	DevGenerateKey             bool              `yaml:"dev_generate_key"`
	AccessTokenLifetime        time.Duration     `yaml:"access_token_lifetime"`
	MaxAssertionLifetime       time.Duration     `yaml:"max_assertion_lifetime"`
	Leeway                     time.Duration     `yaml:"leeway"`
	ReplayClockSkew            time.Duration     `yaml:"replay_clock_skew"`
	StrictScopes               bool              `yaml:"strict_scopes"`
	AllowTokenEndpointAudience bool              `yaml:"allow_token_endpoint_audience"`
	OmitAuthorizationEndpoint  bool              `yaml:"omit_authorization_endpoint"`
	ClientAssertionAlgorithms  []string          `yaml:"client_assertion_algorithms"`
	MaxBodyBytes               int64             `yaml:"max_body_bytes"`
	RateLimit                  fileRateLimit     `yaml:"rate_limit"`
	ReplayCache                fileReplayCache   `yaml:"replay_cache"`
	Broker                     *fileBroker       `yaml:"broker"`
	Registration               *fileRegistration `yaml:"registration"`
	ClientMetadataDocuments    *fileDocuments    `yaml:"client_metadata_documents"`
	BehindProxy                bool              `yaml:"behind_proxy"`
	TrustedProxies             []string          `yaml:"trusted_proxies"`
	Stores                     fileStores        `yaml:"stores"`
	// AllowGroupReadableSecretFiles accepts secret and key files with the
	// group-read bit (0640, 0440): see secretfile.Policy.
	AllowGroupReadableSecretFiles bool `yaml:"allow_group_readable_secret_files"`
}

type fileResource struct {
	ID     string   `yaml:"id"`
	Scopes []string `yaml:"scopes"`
}

type fileClient struct {
	ClientID     string   `yaml:"client_id"`
	SecretHash   string   `yaml:"secret_hash"`
	JWKS         any      `yaml:"jwks"`
	JWKSURI      string   `yaml:"jwks_uri"`
	AuthMethods  []string `yaml:"auth_methods"`
	GrantTypes   []string `yaml:"grant_types"`
	Scopes       []string `yaml:"scopes"`
	Resources    []string `yaml:"resources"`
	RedirectURIs []string `yaml:"redirect_uris"`
	Name         string   `yaml:"name"`
}

type fileIdP struct {
	Issuer     string            `yaml:"issuer"`
	JWKS       any               `yaml:"jwks"`
	JWKSURI    string            `yaml:"jwks_uri"`
	Algorithms []string          `yaml:"algorithms"`
	Claims     map[string]string `yaml:"claims"`
}

type fileKey struct {
	File string `yaml:"file"`
	KID  string `yaml:"kid"`
	Alg  string `yaml:"alg"`
}

type fileRateLimit struct {
	PerSecond                 float64 `yaml:"per_second"`
	Burst                     int     `yaml:"burst"`
	FailedAuthPerSecond       float64 `yaml:"failed_auth_per_second"`
	FailedAuthBurst           int     `yaml:"failed_auth_burst"`
	FailedAuthGlobalPerSecond float64 `yaml:"failed_auth_global_per_second"`
	FailedAuthGlobalBurst     int     `yaml:"failed_auth_global_burst"`
	MaxKeys                   int     `yaml:"max_keys"`
	Disabled                  bool    `yaml:"disabled"`
	SourcePrefixIPv4          int     `yaml:"source_prefix_ipv4"`
	SourcePrefixIPv6          int     `yaml:"source_prefix_ipv6"`
}

// fileRegistration is the "registration" section (RFC 7591).
type fileRegistration struct {
	LoopbackRedirects bool          `yaml:"loopback_redirects"`
	RedirectHosts     []string      `yaml:"redirect_hosts"`
	GrantTypes        []string      `yaml:"grant_types"`
	Scopes            []string      `yaml:"scopes"`
	Resources         []string      `yaml:"resources"`
	AllowConfidential bool          `yaml:"allow_confidential"`
	PerSource         fileLimit     `yaml:"per_source"`
	Global            fileLimit     `yaml:"global"`
	MaxBytes          int64         `yaml:"max_bytes"`
	IdleLifetime      time.Duration `yaml:"idle_lifetime"`
	MaxPerSubject     int           `yaml:"max_per_subject"`
}

// fileDocuments is the "client_metadata_documents" section.
type fileDocuments struct {
	AllowHosts       []string      `yaml:"allow_hosts"`
	AllowNetworks    []string      `yaml:"allow_networks"`
	DevAllowInsecure bool          `yaml:"dev_allow_insecure"`
	RootCAsFile      string        `yaml:"root_cas_file"`
	MaxBytes         int64         `yaml:"max_bytes"`
	Timeout          time.Duration `yaml:"timeout"`
	DefaultTTL       time.Duration `yaml:"default_ttl"`
	MaxTTL           time.Duration `yaml:"max_ttl"`
	CacheBytes       int64         `yaml:"cache_bytes"`
	FetchLimit       fileLimit     `yaml:"fetch_limit"`
	FetchPerSource   fileLimit     `yaml:"fetch_limit_per_source"`
	Scopes           []string      `yaml:"scopes"`
	Resources        []string      `yaml:"resources"`
}

type fileLimit struct {
	PerSecond float64 `yaml:"per_second"`
	Burst     int     `yaml:"burst"`
}

type fileReplayCache struct {
	MaxEntries int `yaml:"max_entries"`
}

// LoadConfig reads a configuration file (YAML or JSON) and returns the
// Config it describes. Signing key files named in it are read too; relative
// paths are resolved against the file's directory. Logger, HTTPClient and
// Now are left nil for the caller to set. See [ParseConfig] for the format.
func LoadConfig(path string) (Config, error) {
	data, err := strictyaml.ReadFile(path, maxConfigBytes)
	if err != nil {
		return Config{}, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	return ParseConfig(data, filepath.Dir(path))
}

// ParseConfig parses a configuration document. baseDir resolves relative
// signing key paths. "${NAME}" in any value is replaced by the environment
// variable NAME first, exactly as in the Guard's file (internal/strictyaml):
// an unset variable is an error naming the field, never an empty string;
// "$${" is a literal "${". Parsing is strict: unknown keys, duplicate keys, YAML
// aliases, multiple documents and wrongly typed values are errors naming
// the path of the field (e.g. "clients[1].grant_types"). Durations use Go
// syntax ("10m", "30s").
//
// Example:
//
//	issuer: https://mcp.example.com/oauth
//	resources:
//	  - id: https://mcp.example.com/mcp
//	    scopes: [mcp:tools, mcp:resources:read]
//	signing_keys:
//	  - file: as-key.pem          # PEM (PKCS#8, EC or PKCS#1) or a private JWK
//	clients:
//	  - client_id: reporting-agent     # ${NAME} works in any value
//	    secret_hash: sha256$...   # from HashSecret
//	    grant_types: [client_credentials]
//	    scopes: [mcp:tools]
//	  - client_id: chat-app
//	    jwks_uri: https://chat.example.com/jwks.json
//	    grant_types: [urn:ietf:params:oauth:grant-type:jwt-bearer]
//	    scopes: [mcp:tools, mcp:resources:read]
//	trusted_idps:
//	  - issuer: https://acme.okta.com
//	    jwks_uri: https://acme.okta.com/oauth2/v1/keys
//	    claims: {groups: groups, email: email}
//	access_token_lifetime: 10m
//	rate_limit: {per_second: 10, burst: 20, failed_auth_per_second: 1, failed_auth_burst: 10,
//	             failed_auth_global_per_second: 100, failed_auth_global_burst: 200, max_keys: 10000}
//	replay_cache: {max_entries: 100000}
//	registration:                 # RFC 7591, needs broker; off when absent
//	  loopback_redirects: true
//	  redirect_hosts: [app.example.com, "*.tools.example.com"]
//	  per_source: {per_second: 0.0167, burst: 10}
//	  max_per_subject: 16         # clients one user's uses keep from eviction
//	client_metadata_documents:    # https client_id URLs, needs broker; off when absent
//	  allow_hosts: ["*.example.com"]   # default: any public host
//	  max_bytes: 5120
//	  timeout: 5s
//
// ParseConfig and LoadConfig accept only the memory stores (stores.kind
// absent or "memory"); shared stores need [Load] and a registered
// [StoreFactory].
func ParseConfig(data []byte, baseDir string) (Config, error) {
	return parseConfig(data, baseDir, os.LookupEnv)
}

// parseConfig is ParseConfig with lookup for the environment.
func parseConfig(data []byte, baseDir string, lookup func(string) (string, bool)) (Config, error) {
	cfg, st, err := parseFile(data, baseDir, lookup)
	if err != nil {
		return Config{}, err
	}
	if err := refuseStores(st); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// parseFile parses a document into a Config without stores, and its
// stores: section. lookup nil means os.LookupEnv.
func parseFile(data []byte, baseDir string, lookup func(string) (string, bool)) (Config, fileStores, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var fc fileConfig
	if err := strictyaml.Decode(data, &fc, strictyaml.Options{LookupEnv: lookup}); err != nil {
		return Config{}, fileStores{}, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	if fc.Broker != nil {
		// The inline secrets must come from the environment: the file
		// itself never holds one. Read the document again unexpanded.
		var raw fileConfig
		if err := strictyaml.Decode(data, &raw, strictyaml.Options{}); err != nil {
			return Config{}, fileStores{}, fmt.Errorf("%w: %v", ErrInvalidConfig, err)
		}
		secrets := []struct{ path, raw, v string }{
			{"broker.upstream.client_secret", raw.Broker.Upstream.ClientSecret, fc.Broker.Upstream.ClientSecret},
			{"broker.code_key", raw.Broker.CodeKey, fc.Broker.CodeKey},
		}
		for i, k := range raw.Broker.PreviousCodeKeys {
			secrets = append(secrets, struct{ path, raw, v string }{fmt.Sprintf("broker.previous_code_keys[%d]", i), k, fc.Broker.PreviousCodeKeys[i]})
		}
		for _, f := range secrets {
			switch {
			case f.raw == "":
			case !strictyaml.IsEnvRef(f.raw):
				return Config{}, fileStores{}, cfgErr(f.path, "must be exactly ${NAME} (an environment variable); a secret is never written in the file")
			case strings.TrimSpace(f.v) == "":
				return Config{}, fileStores{}, cfgErr(f.path, "the environment variable "+f.raw+" is empty")
			}
		}
	}
	if err := refuseLiteralPasswords(data, fc.Stores); err != nil {
		return Config{}, fileStores{}, err
	}
	cfg, err := fc.toConfig(baseDir)
	return cfg, fc.Stores, err
}

// refuseLiteralPasswords refuses a stores.options value that is a URL with
// a password written in the file (redis://:secret@host): like the broker's
// secrets, it must be exactly ${NAME}. st is the expanded section.
func refuseLiteralPasswords(data []byte, st fileStores) error {
	if len(st.Options) == 0 {
		return nil
	}
	var raw fileConfig
	if err := strictyaml.Decode(data, &raw, strictyaml.Options{}); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidConfig, err)
	}
	if k, found := strictyaml.LiteralURLPassword(raw.Stores.Options); found {
		return cfgErr("stores.options."+k, "holds a password: write the password, or the whole URL, as exactly ${NAME} (an environment variable); a secret is never written in the file")
	}
	return nil
}

func (fc *fileConfig) toConfig(baseDir string) (Config, error) {
	cfg := Config{
		Issuer:                     fc.Issuer,
		DefaultResource:            fc.DefaultResource,
		DevGenerateKey:             fc.DevGenerateKey,
		AccessTokenLifetime:        fc.AccessTokenLifetime,
		MaxAssertionLifetime:       fc.MaxAssertionLifetime,
		Leeway:                     fc.Leeway,
		ReplayClockSkew:            fc.ReplayClockSkew,
		StrictScopes:               fc.StrictScopes,
		AllowTokenEndpointAudience: fc.AllowTokenEndpointAudience,
		OmitAuthorizationEndpoint:  fc.OmitAuthorizationEndpoint,
		ClientAssertionAlgorithms:  fc.ClientAssertionAlgorithms,
		MaxBodyBytes:               fc.MaxBodyBytes,
		RateLimit:                  RateLimit(fc.RateLimit),
	}
	switch {
	case len(fc.TrustedProxies) > 0 && !fc.BehindProxy:
		return Config{}, cfgErr("trusted_proxies", "needs behind_proxy: true")
	case len(fc.TrustedProxies) > 0:
		trusted, err := parseTrustedProxies(fc.TrustedProxies)
		if err != nil {
			return Config{}, err
		}
		cfg.ClientAddress = ForwardedForFrom(trusted)
	case fc.BehindProxy:
		// Reading X-Forwarded-For from every peer lets a client that
		// reaches a replica directly pick a new address per request and
		// escape the failed-authentication lockout and the budgets: the
		// file must say which peers are the load balancers.
		return Config{}, cfgErr("behind_proxy", "needs trusted_proxies: the load balancers' addresses or networks (e.g. [10.0.0.0/8]); "+
			"to trust every peer, only when no client can reach this server but through the load balancer, write trusted_proxies: [0.0.0.0/0, \"::/0\"]")
	}
	for _, r := range fc.Resources {
		cfg.Resources = append(cfg.Resources, Resource(r))
	}
	for i, c := range fc.Clients {
		jwks, err := strictyaml.InlineJSON(c.JWKS)
		if err != nil {
			return Config{}, cfgErr(fmt.Sprintf("clients[%d].jwks", i), err.Error())
		}
		cfg.Clients = append(cfg.Clients, Client{
			ID: c.ClientID, SecretHash: c.SecretHash, JWKS: jwks, JWKSURL: c.JWKSURI,
			AuthMethods: c.AuthMethods, GrantTypes: c.GrantTypes, Scopes: c.Scopes, Resources: c.Resources,
			RedirectURIs: c.RedirectURIs, Name: c.Name,
		})
	}
	for i, p := range fc.TrustedIdPs {
		jwks, err := strictyaml.InlineJSON(p.JWKS)
		if err != nil {
			return Config{}, cfgErr(fmt.Sprintf("trusted_idps[%d].jwks", i), err.Error())
		}
		cfg.TrustedIdPs = append(cfg.TrustedIdPs, TrustedIdP{
			Issuer: p.Issuer, JWKS: jwks, JWKSURL: p.JWKSURI, Algorithms: p.Algorithms, Claims: p.Claims,
		})
	}
	policy := secretfile.Policy{AllowGroupRead: fc.AllowGroupReadableSecretFiles}
	for i, k := range fc.SigningKeys {
		if k.File == "" {
			return Config{}, cfgErr(fmt.Sprintf("signing_keys[%d].file", i), "is required")
		}
		p := k.File
		if !filepath.IsAbs(p) {
			p = filepath.Join(baseDir, p)
		}
		sk, err := loadSigningKey(p, policy)
		if err != nil {
			return Config{}, cfgErr(fmt.Sprintf("signing_keys[%d].file", i), err.Error()+hintFor(err))
		}
		sk.KeyID, sk.Algorithm = k.KID, k.Alg
		cfg.SigningKeys = append(cfg.SigningKeys, sk)
	}
	cfg.ReplayCacheMaxEntries = fc.ReplayCache.MaxEntries
	if r := fc.Registration; r != nil {
		cfg.Registration = &Registration{
			LoopbackRedirects: r.LoopbackRedirects, RedirectHosts: r.RedirectHosts, GrantTypes: r.GrantTypes,
			Scopes: r.Scopes, Resources: r.Resources, AllowConfidential: r.AllowConfidential,
			PerSource: Limit(r.PerSource), Global: Limit(r.Global), MaxBytes: r.MaxBytes, IdleLifetime: r.IdleLifetime,
			MaxPerSubject: r.MaxPerSubject,
		}
	}
	if fc.Broker != nil {
		b, err := fc.Broker.toBroker(baseDir, policy)
		if err != nil {
			return Config{}, err
		}
		cfg.Broker = b
	}
	if d := fc.ClientMetadataDocuments; d != nil {
		cfg.ClientMetadataDocuments = &ClientMetadataDocuments{
			AllowHosts: d.AllowHosts, AllowNetworks: d.AllowNetworks, DevAllowInsecure: d.DevAllowInsecure,
			MaxBytes: d.MaxBytes, Timeout: d.Timeout, DefaultTTL: d.DefaultTTL, MaxTTL: d.MaxTTL,
			CacheBytes: d.CacheBytes, FetchLimit: Limit(d.FetchLimit), FetchLimitPerSource: Limit(d.FetchPerSource), Scopes: d.Scopes, Resources: d.Resources,
		}
		if d.RootCAsFile != "" {
			p := d.RootCAsFile
			if !filepath.IsAbs(p) {
				p = filepath.Join(baseDir, p)
			}
			pem, err := os.ReadFile(p)
			pool := x509.NewCertPool()
			if err != nil || !pool.AppendCertsFromPEM(pem) {
				return Config{}, cfgErr("client_metadata_documents.root_cas_file", "cannot read PEM certificates")
			}
			cfg.ClientMetadataDocuments.RootCAs = pool
		}
	}
	return cfg, nil
}
