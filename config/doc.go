// Package config builds a complete Guard from one strict YAML file: the
// issuers (with the IdP presets of core/verifier), audiences, the claim
// mapper and its attribute schema, the Casbin model and policy source, the
// stores, audit and telemetry (which OpenTelemetry signals the providers
// in Options receive, or OTel's global providers on explicit opt-in). The CLI
// (cmd/mcpauthz) reads the same file. docs/configuration.md documents every
// field with its default.
//
// The common case is one call:
//
//	g, err := config.NewGuard(ctx, "guard.yaml", config.Options{Logger: logger})
//
// A minimal file:
//
//	resource: https://mcp.example.com/mcp
//	issuers:
//	  - preset: okta
//	    domain: acme.okta.com
//	model: quickstart
//	policy:
//	  files: [policy.csv]
//
// Parsing is strict like the authorization server's file (the same
// internal/strictyaml helper): unknown or duplicate keys, YAML anchors and
// several documents are errors that name the field. "${NAME}" in a value is
// replaced by the environment variable NAME (an unset variable is an error;
// "$${" is a literal "${"), so secrets stay out of the file.
//
// # Extension points
//
// Sources and stores that need drivers live in their own modules and are
// registered by the caller, never globally: [Options.PolicySources] maps a
// policy.source name (for example "database") to a factory returning a
// casbinauthz.Source, and [Options.Stores] maps a stores.sessions name (for
// example "redis") to a factory that installs the store into the
// core.Config being built. Unknown names are errors that list the
// registered ones.
package config
