package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

// metadataConfig is the -config file of the metadata command.
type metadataConfig struct {
	// Resource is the canonical MCP endpoint URI. REQUIRED.
	Resource string `json:"resource"`
	// Metadata holds the RFC 9728 members (authorization_servers, ...).
	Metadata core.ProtectedResourceMetadata `json:"metadata"`
	// MCPExtensions becomes the "mcp_extensions" member. OPTIONAL.
	MCPExtensions map[string]any `json:"mcp_extensions,omitempty"`
}

func metadataCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("metadata", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", `the Guard's YAML configuration (guard.yaml), or a JSON file: {"resource": "https://mcp.example.com/mcp", "metadata": {"authorization_servers": [...], ...}, "mcp_extensions": {...}} (REQUIRED)`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "mcpauthz metadata: "+format+"\n", a...)
		return 2
	}
	if *cfgPath == "" || fs.NArg() > 0 {
		fs.Usage()
		return fail("-config is required")
	}
	var g *core.Guard
	if ext := filepath.Ext(*cfgPath); ext == ".yaml" || ext == ".yml" {
		// The Guard's own configuration file: the document it would serve.
		f, dir, err := config.Load(*cfgPath, config.Options{})
		if err != nil {
			return fail("%v", err)
		}
		f.Stores = config.FileStores{} // the document does not depend on them
		b, err := f.Build(context.Background(), dir, config.Options{})
		if err != nil {
			return fail("%v", err)
		}
		if g, err = core.New(b.Config); err != nil {
			return fail("%v", err)
		}
		return printMetadata(stdout, g, fail)
	}
	raw, err := readSmall(*cfgPath)
	if err != nil {
		return fail("%v", err)
	}
	if err := jsonscan.Validate(raw, jsonscan.Options{}); err != nil {
		return fail("%s: %v", *cfgPath, err)
	}
	var cfg metadataConfig
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return fail("%s: %v", *cfgPath, err)
	}
	cfg.Metadata.MCPExtensions = cfg.MCPExtensions
	// The Guard validates and serialises the document exactly as it serves it.
	g, err = core.New(core.Config{
		Resource: cfg.Resource, Verifier: noVerifier{}, AuthenticateOnly: true, Metadata: cfg.Metadata,
	})
	if err != nil {
		return fail("%v", err)
	}
	return printMetadata(stdout, g, fail)
}

// printMetadata prints the document g serves and where.
func printMetadata(stdout io.Writer, g *core.Guard, fail func(string, ...any) int) int {
	var out bytes.Buffer
	if err := json.Indent(&out, g.MetadataJSON(), "", "  "); err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(stdout, "# served at %s\n", g.MetadataURL())
	for _, p := range g.MetadataPaths() {
		fmt.Fprintf(stdout, "# path %s\n", p)
	}
	out.WriteByte('\n')
	_, _ = stdout.Write(out.Bytes())
	return 0
}

// noVerifier satisfies core.Config; the metadata command never verifies.
type noVerifier struct{}

func (noVerifier) Verify(context.Context, string) (*core.Claims, error) {
	return nil, errors.New("mcpauthz metadata: no verifier")
}
