package authserver

import (
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcpauthz/mcpauthz/internal/secretfile"
)

// fileBroker is the "broker" section of the configuration file. Each
// secret comes from a file (client_secret_file, code_key_file, relative to
// the configuration file's directory) or from the environment
// (client_secret: ${NAME}, code_key: ${NAME}); not both.
type fileBroker struct {
	Upstream struct {
		Issuer           string            `yaml:"issuer"`
		ClientID         string            `yaml:"client_id"`
		ClientSecret     string            `yaml:"client_secret"`
		ClientSecretFile string            `yaml:"client_secret_file"`
		Scopes           []string          `yaml:"scopes"`
		GroupsClaim      string            `yaml:"groups_claim"`
		Claims           map[string]string `yaml:"claims"`
	} `yaml:"upstream"`
	Access []struct {
		Group    string   `yaml:"group"`
		Resource string   `yaml:"resource"`
		Scopes   []string `yaml:"scopes"`
	} `yaml:"access"`
	CodeKey                 string        `yaml:"code_key"`
	CodeKeyFile             string        `yaml:"code_key_file"`
	PreviousCodeKeys        []string      `yaml:"previous_code_keys"`
	PreviousCodeKeyFiles    []string      `yaml:"previous_code_key_files"`
	RefreshIdleLifetime     time.Duration `yaml:"refresh_idle_lifetime"`
	RefreshAbsoluteLifetime time.Duration `yaml:"refresh_absolute_lifetime"`
	MaxRefreshFamilies      int           `yaml:"max_refresh_families"`
	LoginLifetime           time.Duration `yaml:"login_lifetime"`
	MaxPendingBytes         int64         `yaml:"max_pending_bytes"`
	MaxConsents             int           `yaml:"max_consents"`
}

// readSecretFile reads a secret file named by the configuration file
// (relative to its directory), refusing one that group or others may read
// or write (policy), and trims the surrounding space.
func readSecretFile(baseDir, p string, max int64, policy secretfile.Policy) (string, error) {
	if !filepath.IsAbs(p) {
		p = filepath.Join(baseDir, p)
	}
	b, err := secretfile.Read(p, max, policy)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// hintFor is modeHint for an error of a refused file mode, else "".
func hintFor(err error) string {
	if errors.Is(err, secretfile.ErrMode) {
		return modeHint
	}
	return ""
}

// secretFileErr is the configuration error for a secret file that cannot
// be read: a file mode refused by secretfile says so and how to fix it,
// anything else is "cannot be read" (never the contents).
func secretFileErr(field, what string, err error) error {
	if errors.Is(err, secretfile.ErrMode) {
		return cfgErr(field, err.Error()+hintFor(err))
	}
	return cfgErr(field, what)
}

// modeHint ends the error for a secret file with a refused mode.
const modeHint = " (on Kubernetes set defaultMode: 0400 on the secret volume; a pod fsGroup makes it 0440: then set allow_group_readable_secret_files: true)"

func (fb *fileBroker) toBroker(baseDir string, policy secretfile.Policy) (*Broker, error) {
	b := &Broker{
		Upstream: Upstream{
			Issuer: fb.Upstream.Issuer, ClientID: fb.Upstream.ClientID, Scopes: fb.Upstream.Scopes,
			GroupsClaim: fb.Upstream.GroupsClaim, Claims: fb.Upstream.Claims,
		},
		RefreshIdleLifetime: fb.RefreshIdleLifetime, RefreshAbsoluteLifetime: fb.RefreshAbsoluteLifetime,
		MaxRefreshFamilies: fb.MaxRefreshFamilies, LoginLifetime: fb.LoginLifetime,
		MaxPendingBytes: fb.MaxPendingBytes, MaxConsents: fb.MaxConsents,
	}
	for _, a := range fb.Access {
		b.Access = append(b.Access, AccessRule{Group: a.Group, Resource: a.Resource, Scopes: a.Scopes})
	}
	if fb.Upstream.ClientSecret != "" && fb.Upstream.ClientSecretFile != "" {
		return nil, cfgErr("broker.upstream.client_secret", "set client_secret or client_secret_file, not both")
	}
	if fb.Upstream.ClientSecretFile != "" {
		sec, err := readSecretFile(baseDir, fb.Upstream.ClientSecretFile, 4<<10, policy)
		if err != nil || sec == "" {
			return nil, secretFileErr("broker.upstream.client_secret_file", "cannot read a non-empty secret", err)
		}
		b.Upstream.ClientSecret = sec
	} else if fb.Upstream.ClientSecret != "" {
		b.Upstream.ClientSecret = strings.TrimSpace(fb.Upstream.ClientSecret)
		if b.Upstream.ClientSecret == "" || len(b.Upstream.ClientSecret) > 4<<10 {
			return nil, cfgErr("broker.upstream.client_secret", "must be a non-empty secret of at most 4 KiB")
		}
	}
	if fb.CodeKey != "" && fb.CodeKeyFile != "" {
		return nil, cfgErr("broker.code_key", "set code_key or code_key_file, not both")
	}
	field, k := "broker.code_key", strings.TrimSpace(fb.CodeKey)
	if fb.CodeKeyFile != "" {
		field = "broker.code_key_file"
		var err error
		if k, err = readSecretFile(baseDir, fb.CodeKeyFile, 1<<10, policy); err != nil {
			return nil, secretFileErr(field, "cannot be read", err)
		}
	}
	if fb.CodeKey != "" || fb.CodeKeyFile != "" {
		key, err := decodeCodeKey(field, k)
		if err != nil {
			return nil, err
		}
		b.CodeKey = key
	}
	if len(fb.PreviousCodeKeys) > 0 && len(fb.PreviousCodeKeyFiles) > 0 {
		return nil, cfgErr("broker.previous_code_keys", "set previous_code_keys or previous_code_key_files, not both")
	}
	for i, k := range fb.PreviousCodeKeys {
		key, err := decodeCodeKey(fmt.Sprintf("broker.previous_code_keys[%d]", i), strings.TrimSpace(k))
		if err != nil {
			return nil, err
		}
		b.PreviousCodeKeys = append(b.PreviousCodeKeys, key)
	}
	for i, p := range fb.PreviousCodeKeyFiles {
		field := fmt.Sprintf("broker.previous_code_key_files[%d]", i)
		k, err := readSecretFile(baseDir, p, 1<<10, policy)
		if err != nil {
			return nil, secretFileErr(field, "cannot be read", err)
		}
		key, err := decodeCodeKey(field, k)
		if err != nil {
			return nil, err
		}
		b.PreviousCodeKeys = append(b.PreviousCodeKeys, key)
	}
	return b, nil
}

// decodeCodeKey reads one code key: 32 bytes in standard base64.
func decodeCodeKey(field, k string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(k)
	if err != nil || len(key) != 32 {
		return nil, cfgErr(field, "must hold 32 bytes in standard base64 (openssl rand -base64 32)")
	}
	return key, nil
}
