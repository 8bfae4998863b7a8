package devidp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// User is a demo identity.
type User struct {
	Name       string   `json:"name"`
	Email      string   `json:"email"`
	Groups     []string `json:"groups"`
	Department string   `json:"department,omitempty"`
}

// Client is an application registered at the IdP: the MCP client (agent)
// that logs users in and requests ID-JAGs.
type Client struct {
	ID           string   // client_id at the IdP
	Secret       string   // client secret (client_secret_basic or client_secret_post)
	RedirectURIs []string // exact-match redirect URIs; loopback URIs may use any port
	// ResourceClientID is the client's id at the MCP authorization server,
	// written into the ID-JAG "client_id" claim. Default: ID.
	ResourceClientID string
}

// Server is an MCP server the enterprise has registered at its IdP: the
// "registry of approved MCP servers" of the seed documents.
type Server struct {
	Name                string // policy name, e.g. "demo"
	Resource            string // RFC 8707 resource identifier of the MCP endpoint
	AuthorizationServer string // issuer of the MCP server's authorization server (ID-JAG "aud")
}

// Config configures the development IdP.
type Config struct {
	Issuer       string        // REQUIRED: the IdP's base URL, e.g. http://127.0.0.1:9001
	Users        []User        // REQUIRED
	Password     string        // REQUIRED: the shared demo password
	Clients      []Client      // REQUIRED
	Servers      []Server      // REQUIRED
	PolicyFile   string        // REQUIRED: path of the admin policy (JSON), read on every exchange
	IDJAGTTL     time.Duration // OPTIONAL: default 5 minutes
	IDTokenTTL   time.Duration // OPTIONAL: default 1 hour
	Logger       *slog.Logger  // OPTIONAL: default discards
	Now          func() time.Time
	KeyID        string // OPTIONAL: default derived from the key
	ExtraIDClaim map[string]any
}

// Policy is the IdP admin policy: which users and groups may obtain ID-JAGs
// for which MCP servers, and with which scopes. Access is denied unless a
// grant matches.
type Policy struct {
	Grants []Grant `json:"grants"`
}

// Grant allows Users or members of Groups to use Server with at most Scopes.
type Grant struct {
	Server string   `json:"server"` // a Server.Name, or "*"
	Users  []string `json:"users,omitempty"`
	Groups []string `json:"groups,omitempty"`
	Scopes []string `json:"scopes"`
}

// LoadPolicy reads and validates a policy file. Unknown fields are errors.
func LoadPolicy(path string) (*Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("devidp: read policy: %w", err)
	}
	return ParsePolicy(b)
}

// ParsePolicy parses policy JSON strictly.
func ParsePolicy(b []byte) (*Policy, error) {
	var p Policy
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("devidp: parse policy: %w", err)
	}
	for i, g := range p.Grants {
		if g.Server == "" {
			return nil, fmt.Errorf("devidp: policy grants[%d]: server is required", i)
		}
		if len(g.Users) == 0 && len(g.Groups) == 0 {
			return nil, fmt.Errorf("devidp: policy grants[%d]: users or groups required", i)
		}
	}
	return &p, nil
}

// Allowed returns the scopes the policy lets u use on server s (the union of
// every matching grant) and whether any grant matched.
func (p *Policy) Allowed(u *User, s *Server) ([]string, bool) {
	var scopes []string
	matched := false
	for _, g := range p.Grants {
		if g.Server != "*" && g.Server != s.Name {
			continue
		}
		if !contains(g.Users, u.Name) && !intersects(g.Groups, u.Groups) {
			continue
		}
		matched = true
		for _, sc := range g.Scopes {
			if !contains(scopes, sc) {
				scopes = append(scopes, sc)
			}
		}
	}
	return scopes, matched
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func intersects(a, b []string) bool {
	for _, v := range a {
		if contains(b, v) {
			return true
		}
	}
	return false
}
