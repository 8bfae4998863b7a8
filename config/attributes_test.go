package config_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/coretest"
)

const abacPolicy = `p, *, server, connect, true, allow
p, *, tool:secret, call, true, allow
p, *, tool:secret, call, r.attrs.clearance < 3, deny
p, *, tool:ship, call, true, allow
p, *, tool:ship, call, r.attrs.on_call != true, deny
p, *, tool:rm, call, true, allow
p, *, tool:rm, call, !('mfa' in r.attrs.amr), deny
p, *, tool:eu, call, r.attrs.region == 'eu', allow
`

// writeGuard writes guard.yaml (issuer on idp) and policy.csv into a fresh
// directory and returns the file's path.
func writeGuard(t *testing.T, idp *coretest.IdP, mapper, policy string) string {
	t.Helper()
	dir := t.TempDir()
	yaml := "resource: https://mcp.example.com/mcp\nissuers:\n  - issuer: " + idp.Issuer() + "\n    jwks_uri: " + idp.JWKSURL() +
		"\n" + mapper + "model: abac\npolicy: {files: [policy.csv]}\n"
	for name, data := range map[string]string{"guard.yaml": yaml, "policy.csv": policy} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "guard.yaml")
}

const schemaMapper = `mapper:
  attributes: {clearance: ext.clearance, on_call: ext.on_call, amr: amr, region: ext.region}
  attribute_schema:
    clearance: {type: number, default: 0}
    on_call: {type: bool}
    amr: {type: strings, default: []}
    region: {type: string, default: eu}
`

// TestAttributeSchemaDecisions: the file's attribute schema reaches the
// policy. Deny rules whose condition reads an attribute the token does not
// carry see its declared default, so they deny (never an evaluation error,
// never an allow); a default can also allow; a mistyped value is a deny.
func TestAttributeSchemaDecisions(t *testing.T) {
	t.Parallel()
	idp := coretest.NewIdP(t)
	g, err := config.NewGuard(context.Background(), writeGuard(t, idp, schemaMapper, abacPolicy), config.Options{HTTPClient: idp.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	const aud = "https://mcp.example.com/mcp"
	mint := func(ext map[string]any, extra map[string]any) string {
		c := map[string]any{"sub": "alice", "aud": aud, "client_id": "app", "scope": "mcp:tools"}
		if ext != nil {
			c["ext"] = ext
		}
		for k, v := range extra {
			c[k] = v
		}
		return idp.Mint(c)
	}
	for _, tc := range []struct {
		name  string
		tok   string
		tool  string
		allow bool
	}{
		{"clearance missing: default 0 < 3 denies", mint(nil, nil), "secret", false},
		{"clearance 2 denies", mint(map[string]any{"clearance": 2}, nil), "secret", false},
		{"clearance 5 allows", mint(map[string]any{"clearance": 5}, nil), "secret", true},
		{"clearance as a string denies", mint(map[string]any{"clearance": "5"}, nil), "secret", false},
		{"on_call missing: default false denies", mint(nil, nil), "ship", false},
		{"on_call true allows", mint(map[string]any{"on_call": true}, nil), "ship", true},
		{"amr missing: default [] denies", mint(nil, nil), "rm", false},
		{"amr with mfa allows", mint(nil, map[string]any{"amr": []any{"pwd", "mfa"}}), "rm", true},
		{"region missing: default eu allows", mint(nil, nil), "eu", true},
		{"region us denies", mint(map[string]any{"region": "us"}, nil), "eu", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("Content-Type", "application/json")
			h.Set("Accept", "application/json, text/event-stream")
			h.Set("Mcp-Protocol-Version", "2025-11-25")
			h.Set("Authorization", "Bearer "+tc.tok)
			body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tc.tool + `","arguments":{}}}`
			_, err := g.Check(context.Background(), &core.Request{Method: http.MethodPost, Path: "/mcp", Header: h, Body: []byte(body)})
			if tc.allow && err != nil {
				t.Fatalf("denied: %v", err)
			}
			if !tc.allow {
				var ce *core.Error
				if !errors.As(err, &ce) || ce.Kind != core.KindForbidden {
					t.Fatalf("got %v, want a policy deny", err)
				}
			}
		})
	}
}

// TestAttributeSchemaRefusals: a policy that references an attribute no
// mapper declares is refused by NewGuard, and so is a schema entry with an
// unknown or missing type, a default of another type, an unmapped name,
// an unknown key, or two mappers declaring one attribute differently.
func TestAttributeSchemaRefusals(t *testing.T) {
	t.Parallel()
	idp := coretest.NewIdP(t)
	for _, tc := range []struct{ name, mapper, policy, want string }{
		{"undeclared attribute in the policy", schemaMapper, abacPolicy + "p, *, tool:x, call, r.attrs.level > 1, allow\n", `attribute "level" is not declared`},
		{"attribute without a mapper", "", abacPolicy, "clearance"},
		{"unknown type", "mapper:\n  attributes: {level: level}\n  attribute_schema: {level: {type: int}}\n", abacPolicy, `attribute_schema.level.type: unknown type "int"`},
		{"missing type", "mapper:\n  attributes: {level: level}\n  attribute_schema: {level: {default: 1}}\n", abacPolicy, "attribute_schema.level.type: is required"},
		{"number default not a number", "mapper:\n  attributes: {level: level}\n  attribute_schema: {level: {type: number, default: high}}\n", abacPolicy, "attribute_schema.level.default"},
		{"strings default not strings", "mapper:\n  attributes: {level: level}\n  attribute_schema: {level: {type: strings, default: [1, 2]}}\n", abacPolicy, "attribute_schema.level.default"},
		{"bool default quoted", "mapper:\n  attributes: {level: level}\n  attribute_schema: {level: {type: bool, default: \"true\"}}\n", abacPolicy, "attribute_schema.level.default"},
		{"string default a number", "mapper:\n  attributes: {level: level}\n  attribute_schema: {level: {type: string, default: 3}}\n", abacPolicy, "attribute_schema.level.default"},
		{"not mapped", "mapper:\n  attributes: {level: level}\n  attribute_schema: {rank: {type: number}}\n", abacPolicy, "attribute_schema.rank: not a key of attributes"},
		{"unknown key", "mapper:\n  attributes: {level: level}\n  attribute_schema: {level: {typ: number}}\n", abacPolicy, "attribute_schema.level.typ: unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.NewGuard(context.Background(), writeGuard(t, idp, tc.mapper, tc.policy), config.Options{HTTPClient: idp.HTTPClient()})
			if err == nil || !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("NewGuard = %v, want ErrInvalid containing %q", err, tc.want)
			}
		})
	}
}

// TestAttributeSchemaConflict: two issuers' mappers declaring one attribute
// with different types are refused.
func TestAttributeSchemaConflict(t *testing.T) {
	t.Parallel()
	yaml := `resource: https://mcp.example.com/mcp
issuers:
  - issuer: https://a.example.com
    alias: a
    jwks_uri: https://a.example.com/jwks
    mapper: {attributes: {level: level}, attribute_schema: {level: {type: number}}}
  - issuer: https://b.example.com
    alias: b
    jwks_uri: https://b.example.com/jwks
    mapper: {attributes: {level: level}}
model: abac
policy: {files: [testdata/policy.csv]}
`
	f, err := config.Parse([]byte(yaml), config.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Build(context.Background(), "", config.Options{})
	if err == nil || !strings.Contains(err.Error(), `attribute "level" is number`) {
		t.Fatalf("Build = %v, want the conflict", err)
	}
}
