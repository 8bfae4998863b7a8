package config

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/internal/testkit"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func noEnv(string) (string, bool) { return "", false }

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	testkit.Golden(t, filepath.Join("testdata", name), []byte(got), *update)
}

// summary renders what a file built, for the golden files.
func summary(t *testing.T, b *Built) string {
	t.Helper()
	g, err := core.New(b.Config)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	fmt.Fprintf(&out, "audiences: %s\n", strings.Join(b.Verifier.Audiences(), " "))
	c := b.Config
	fmt.Fprintf(&out, "guard: max_body=%d deny_code=%d origins=%v session_ttl=%v per_principal=%d retry_after=%v audit=%v authorizer=%v\n",
		g.MaxBodyBytes(), c.DenyCode, c.AllowedOrigins, c.SessionTTL, c.MaxSessionsPerPrincipal, c.RetryAfter, c.Audit != nil, b.Authorizer != nil)
	if b.Authorizer != nil {
		fmt.Fprintf(&out, "policy: %d rules\n", b.Authorizer.Stats().Rules)
	}
	var attrs []string
	for _, a := range b.Attributes {
		attrs = append(attrs, fmt.Sprintf("%s:%s=%v", a.Name, a.Type, a.Default))
	}
	fmt.Fprintf(&out, "attributes: %s\n", strings.Join(attrs, " "))
	fmt.Fprintf(&out, "telemetry: traces=%t metrics=%t object_name_bytes=%d\n", c.TracerProvider != nil, c.MeterProvider != nil, c.SpanObjectNameBytes)
	var md bytes.Buffer
	_ = json.Indent(&md, g.MetadataJSON(), "", "  ")
	fmt.Fprintf(&out, "metadata: %s\n", md.String())
	return out.String()
}

func TestGoldenFiles(t *testing.T) {
	for _, name := range []string{"full", "minimal"} {
		t.Run(name, func(t *testing.T) {
			f, dir, err := Load(filepath.Join("testdata", name+".yaml"), Options{LookupEnv: noEnv})
			if err != nil {
				t.Fatal(err)
			}
			// No-op providers: the golden shows what the telemetry section
			// lets through.
			b, err := f.Build(context.Background(), dir, Options{TracerProvider: tracenoop.NewTracerProvider(), MeterProvider: metricnoop.NewMeterProvider()})
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, name+".golden", summary(t, b))
		})
	}
}

const base = "resource: https://mcp.example.com/mcp\nissuers: [{preset: okta, domain: acme.okta.com}]\nmodel: quickstart\npolicy: {files: [testdata/policy.csv]}\n"

func TestErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"unknown top-level field", base + "resourse: x\n", "resourse: unknown field (line 5)"},
		{"unknown issuer field", strings.Replace(base, "domain: acme.okta.com", "domian: acme.okta.com", 1), "issuers[0].domian: unknown field"},
		{"unknown mapper field", base + "mapper: {subjet: sub}\n", "mapper.subjet: unknown field"},
		{"no resource", strings.Replace(base, "resource: https://mcp.example.com/mcp\n", "", 1), "resource: is required"},
		{"no issuers", strings.Replace(base, "issuers: [{preset: okta, domain: acme.okta.com}]\n", "", 1), "issuers: at least one issuer"},
		{"no model", strings.Replace(base, "model: quickstart\n", "", 1), "model: is required"},
		{"unknown model", strings.Replace(base, "model: quickstart", "model: rbacc", 1), "unknown shipped model \"rbacc\" (shipped: abac, abac_args, machine"},
		{"missing model file", strings.Replace(base, "model: quickstart", "model: nope.conf", 1), "model: open"},
		{"unknown preset", strings.Replace(base, "preset: okta", "preset: okra", 1), "unknown preset \"okra\""},
		{"field of another preset", strings.Replace(base, "domain: acme.okta.com", "domain: acme.okta.com, realm: x", 1), "realm: not a field of okta"},
		{"preset with issuer", strings.Replace(base, "domain: acme.okta.com", "domain: acme.okta.com, issuer: https://x", 1), "issuer: the okta preset sets it"},
		{"generic without issuer", strings.Replace(base, "preset: okta, domain: acme.okta.com", "jwks_uri: https://x/jwks", 1), "issuer: is required for a generic issuer"},
		{"entra with audience", strings.Replace(base, "preset: okta, domain: acme.okta.com", "preset: entra, tenant_ids: [72f988bf-86f1-41af-91ab-2d7cd011db47], client_id: 6e74172b-be56-4843-9ff4-e66a39bb12e3, audience: [x]", 1), "Entra's audience is client_id"},
		{"entra without client id", strings.Replace(base, "preset: okta, domain: acme.okta.com", "preset: entra, tenant_ids: [72f988bf-86f1-41af-91ab-2d7cd011db47]", 1), "ClientID \"\" is not a GUID"},
		{"two key sources", strings.Replace(base, "preset: okta, domain: acme.okta.com", "issuer: https://x.example, jwks_uri: https://x.example/k, discovery_url: https://x.example/d", 1), "set only one of"},
		{"bad claim path", base + "mapper: {groups: ['\"https://x/claims.teams']}\n", "malformed quoted segment"},
		{"bad require path", base + "mapper: {require: [{claim: '\"a'}]}\n", "require[0].claim"},
		{"unknown policy source", strings.Replace(base, "policy: {files: [testdata/policy.csv]}", "policy: {source: database}", 1), "unknown source \"database\" (registered: file)"},
		{"file source without files", strings.Replace(base, "policy: {files: [testdata/policy.csv]}", "policy: {watch: true}", 1), "policy.files: is required"},
		{"missing policy file", strings.Replace(base, "testdata/policy.csv", "nope.csv", 1), "policy:"},
		{"unknown store", base + "stores: {sessions: redis}\n", "unknown store \"redis\" (registered: memory)"},
		{"memory options", base + "stores: {options: {addr: x}}\n", "memory store takes no options"},
		// reviewops: a store URL's password is never written in the file.
		{"literal store password", base + "stores: {sessions: redis, options: {url: \"redis://:hunter2@10.0.0.5:6379/0\"}}\n", "stores.options.url: holds a password"},
		{"unparseable store credentials", base + "stores: {sessions: redis, options: {url: \"redis://:hu%zz@h:6379\"}}\n", "stores.options.url: holds a password"},
		{"literal sentinel password", base + "stores: {sessions: redis, options: {sentinel: {master: m, addrs: [\"s:26379\"], password: hunter2}}}\n", "stores.options.sentinel.password: holds a password"},
		{"authenticate_only with model", base + "authenticate_only: true\n", "cannot be combined"},
		{"unset env", strings.Replace(base, "acme.okta.com", `"${OKTA_DOMAIN}"`, 1), "environment variable OKTA_DOMAIN is not set"},
		{"anchors", base + "audience: &a [x]\nmetadata: {scopes_supported: *a}\n", "anchors and aliases"},
		{"two documents", base + "---\n" + base, "more than one YAML document"},
		{"alias on one issuer only", strings.Replace(base, "issuers: [{preset: okta, domain: acme.okta.com}]", "issuers: [{preset: okta, domain: acme.okta.com, alias: okta}, {issuer: https://as.example.com}]", 1), "either every issuer has an alias or none has"},
		{"two issuers without aliases", strings.Replace(base, "issuers: [{preset: okta, domain: acme.okta.com}]", "issuers: [{preset: okta, domain: acme.okta.com}, {issuer: https://as.example.com}]", 1), ""},
		{"asserts_tenant without alias", strings.Replace(base, "domain: acme.okta.com", "domain: acme.okta.com, asserts_tenant: true", 1), "needs an alias"},
		{"entra knob on okta", strings.Replace(base, "domain: acme.okta.com", "domain: acme.okta.com, allow_group_overage: true", 1), "allow_group_overage: not a field of okta"},
		{"okta http domain", strings.Replace(base, "acme.okta.com", "http://acme.okta.com", 1), "is not an https host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.yaml), Options{LookupEnv: noEnv})
			var b *Built
			if err == nil {
				b, err = f.Build(context.Background(), "", Options{})
			}
			if tc.want == "" { // builds, and core.New refuses shared policy subjects
				if err != nil {
					t.Fatal(err)
				}
				if _, err := core.New(b.Config); err == nil || !strings.Contains(err.Error(), "alias") {
					t.Fatalf("core.New = %v, want the issuer isolation error", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalid containing %q", err, tc.want)
			}
		})
	}
}

// TestEnvExpansion: secrets come from the environment, not the file.
func TestEnvExpansion(t *testing.T) {
	env := map[string]string{"OKTA_DOMAIN": "acme.okta.com", "MCP_URL": "https://mcp.example.com/mcp"}
	y := strings.NewReplacer("https://mcp.example.com/mcp", "${MCP_URL}", "acme.okta.com", `"${OKTA_DOMAIN}"`).Replace(base)
	f, err := Parse([]byte(y), Options{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Build(context.Background(), "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b.Config.Resource != env["MCP_URL"] || b.Config.Metadata.AuthorizationServers[0] != "https://acme.okta.com/oauth2/default" {
		t.Fatalf("built %q %v", b.Config.Resource, b.Config.Metadata.AuthorizationServers)
	}
}

type memSource string

func (m memSource) Load(context.Context) ([]byte, error) { return []byte(m), nil }

type closer struct{ closed *bool }

func (c closer) Close() error { *c.closed = true; return nil }

// TestRegistries: policy sources and stores come from registries passed
// by the caller, with their options.
func TestRegistries(t *testing.T) {
	y := strings.Replace(base, "policy: {files: [testdata/policy.csv]}", "policy: {source: database, options: {dsn: 'postgres://x'}}", 1) +
		"stores: {sessions: shared, options: {addr: 127.0.0.1:6379}}\n"
	var gotPolicyOpts, gotStoreOpts map[string]any
	closed := false
	opts := Options{
		PolicySources: map[string]PolicySourceFactory{"database": func(_ context.Context, o map[string]any) (casbinauthz.Source, error) {
			gotPolicyOpts = o
			return memSource("p, *, *, list, allow\n"), nil
		}},
		Stores: map[string]StoreFactory{"shared": func(_ context.Context, o map[string]any, cfg *core.Config) (io.Closer, error) {
			gotStoreOpts = o
			cfg.MaxSessions = 7
			return closer{&closed}, nil
		}},
	}
	f, err := Parse([]byte(y), Options{LookupEnv: noEnv})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Build(context.Background(), "", opts)
	if err != nil {
		t.Fatal(err)
	}
	if gotPolicyOpts["dsn"] != "postgres://x" || gotStoreOpts["addr"] != "127.0.0.1:6379" || b.Config.MaxSessions != 7 || b.Authorizer.Stats().Rules != 1 {
		t.Fatalf("policy opts %v, store opts %v, max sessions %d", gotPolicyOpts, gotStoreOpts, b.Config.MaxSessions)
	}
	if err := b.Close(); err != nil || !closed {
		t.Fatalf("Close: %v closed=%v", err, closed)
	}
	failing := Options{Stores: map[string]StoreFactory{"shared": func(context.Context, map[string]any, *core.Config) (io.Closer, error) {
		return nil, errors.New("connection refused")
	}}, PolicySources: opts.PolicySources}
	if _, err := f.Build(context.Background(), "", failing); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("failing store: %v", err)
	}
}

func TestModelText(t *testing.T) {
	for _, n := range []string{"quickstart", "rbac", "scopes"} {
		if _, err := ModelText(n, ""); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
	if _, err := ModelText("../casbinmodels/rbac.conf", ""); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"full.yaml", "minimal.yaml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(base))
	f.Add([]byte("resource: ${X}\nissuers: [{preset: entra}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, Options{LookupEnv: func(k string) (string, bool) { return "v", k == "X" }})
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err)
			}
			return
		}
		if file.Resource == "" || len(file.Issuers) == 0 {
			t.Fatal("Parse accepted a file without resource or issuers")
		}
		// Build without policy files on disk: it must fail cleanly or succeed.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel() // stops a policy watcher the input may ask for
		if _, err := file.Build(ctx, t.TempDir(), Options{}); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("Build error %v does not wrap ErrInvalid", err)
		}
	})
}
