package demo

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// Config is the configuration shared by the examples.
type Config struct {
	// Addr is the listen address. Flag -addr, env MCP_ADDR; default
	// 127.0.0.1:8080.
	Addr string
	// Resource is the canonical URL of the MCP endpoint (the token audience).
	// Flag -resource, env MCP_RESOURCE; default "http://<bound address>/mcp".
	Resource string
	// Issuer is the issuer URL of the IdP / authorization server; its keys
	// are discovered from its metadata. Flag -issuer, env MCP_ISSUER;
	// REQUIRED.
	Issuer string
	// Model is a casbinmodels model name. Flag -model, env MCP_MODEL;
	// default "scopes".
	Model string
	// PolicyFile is a Casbin policy CSV, hot-reloaded. Flag -policy, env
	// MCP_POLICY; default: the model's sample policy.
	PolicyFile string
}

// ParseFlags reads the configuration of the example called name from args,
// with defaults from getenv (os.Getenv; nil reads no environment).
func ParseFlags(name string, args []string, getenv func(string) string) (Config, error) {
	env := func(k, def string) string {
		if getenv != nil {
			if v := getenv(k); v != "" {
				return v
			}
		}
		return def
	}
	var c Config
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.Addr, "addr", env("MCP_ADDR", "127.0.0.1:8080"), "listen address")
	fs.StringVar(&c.Resource, "resource", env("MCP_RESOURCE", ""), `canonical MCP endpoint URL (default "http://<addr>/mcp")`)
	fs.StringVar(&c.Issuer, "issuer", env("MCP_ISSUER", ""), "token issuer URL (REQUIRED)")
	fs.StringVar(&c.Model, "model", env("MCP_MODEL", "scopes"), "casbinmodels model name")
	fs.StringVar(&c.PolicyFile, "policy", env("MCP_POLICY", ""), "Casbin policy CSV (default: the model's sample policy)")
	if err := fs.Parse(args); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("%s: unexpected arguments %q", name, fs.Args())
	}
	if c.Issuer == "" {
		return Config{}, errors.New(name + ": -issuer (or MCP_ISSUER) is required")
	}
	return c, nil
}
