package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/core/inspect"
	"github.com/mcpauthz/mcpauthz/core/mapper"
)

const maxInput = 1 << 20

func explainCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "the Guard's YAML configuration: its issuers' mappers, model and policy are used (see docs/configuration.md)")
	modelPath := fs.String("model", "", "Casbin model: a shipped name ("+strings.Join(casbinmodels.Names(), ", ")+") or a .conf file (REQUIRED without -config; overrides the config's)")
	var policies, attrs, issuers, argDecls stringList
	fs.Var(&policies, "policy", "policy CSV file (REQUIRED without -config; repeat to concatenate several files; overrides the config's)")
	fs.Var(&attrs, "attr", "declared ABAC attribute name:type[=default] (repeatable; as for lint; without -config)")
	fs.Var(&issuers, "issuer", "trusted issuer alias=URL[;tenant] (repeatable; as for lint; without -config)")
	claimsPath := fs.String("claims", "", "JSON file with the token claims (this, -token or -token-file)")
	tokenPath := fs.String("token", "", "file with the token's claims as JSON, or a JWT whose payload is decoded WITHOUT signature verification")
	jwtPath := fs.String("token-file", "", "file with a JWT whose payload is decoded WITHOUT signature verification")
	method := fs.String("method", "", "MCP method, e.g. tools/call, resources/read, prompts/get, tools/list (REQUIRED)")
	target := fs.String("target", "", "tool name, resource URI or prompt name; for completion/complete prompt:<name> or resource:<uri>")
	name := fs.String("name", "", "same as -target")
	tools := fs.String("tools", "", "for */list methods: comma-separated item names (tools, resource URIs or prompts) to show which the caller would see")
	scopes := fs.String("scopes", "", "space-separated scopes that replace the token's scopes")
	fs.Var(&argDecls, "arg-decl", argDeclFlagHelp)
	argsJSON := fs.String("args", "", `tools/call arguments as a JSON object, e.g. '{"environment":"prod"}' (the declared ones reach the policy as r.args)`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "mcpauthz explain: "+format+"\n", a...)
		return 2
	}
	if *name != "" {
		if *target != "" && *target != *name {
			return fail("-name and -target differ")
		}
		*target = *name
	}
	if *method == "" || fs.NArg() > 0 || (*cfgPath == "" && (*modelPath == "" || len(policies) == 0)) {
		fs.Usage()
		return fail("-method and either -config or -model and -policy are required")
	}
	inputs := 0
	for _, p := range []string{*claimsPath, *tokenPath, *jwtPath} {
		if p != "" {
			inputs++
		}
	}
	if inputs != 1 {
		return fail("exactly one of -claims, -token and -token-file is required")
	}
	raw, unverified, err := readClaimsInput(*claimsPath, *tokenPath, *jwtPath)
	if err != nil {
		return fail("%v", err)
	}
	if unverified {
		fmt.Fprintln(stderr, "mcpauthz explain: WARNING: the token signature is NOT verified; never use this to make real decisions")
	}
	claims, err := parseClaims(raw)
	if err != nil {
		return fail("claims: %v", err)
	}
	scopesSet, argsSet := false, false
	fs.Visit(func(f *flag.Flag) {
		scopesSet = scopesSet || f.Name == "scopes"
		argsSet = argsSet || f.Name == "args"
	})
	if scopesSet {
		m := claims.Raw.Map()
		m["scope"] = *scopes
		delete(m, "scp")
		if claims.Raw, err = core.RawClaimsFromMap(m); err != nil {
			return fail("claims: %v", err)
		}
	}
	perm, err := permissionFor(*method, *target)
	if err != nil {
		return fail("%v", err)
	}
	specs, err := parseAttrs(attrs)
	if err != nil {
		return fail("%v", err)
	}
	iss, err := parseIssuers(issuers)
	if err != nil {
		return fail("%v", err)
	}
	decls, err := parseArgDecls(argDecls)
	if err != nil {
		return fail("%v", err)
	}
	if *cfgPath != "" && (len(specs) > 0 || len(iss) > 0 || decls != nil) {
		return fail("-attr, -issuer and -arg-decl are not combined with -config")
	}
	m, a, decls, mapperName, err := explainSetup(*cfgPath, *modelPath, policies, specs, iss, decls)
	if err != nil {
		return fail("%v", err)
	}
	argErr := explainArgs(&perm, decls, *argsJSON, argsSet)
	var refused *errArgsRefused
	if argErr != nil && !errors.As(argErr, &refused) {
		return fail("%v", argErr)
	}
	p, err := m.MapClaims(context.Background(), claims)
	if err != nil {
		return fail("%v (the Guard answers 401 invalid_token)", err)
	}
	if scopesSet {
		// Presets read other scope claims too ("scp", "permissions"):
		// -scopes replaces whatever the mapper found.
		p.Scopes = strings.Fields(*scopes)
	}
	var d core.Decision
	if refused == nil {
		if d, err = a.Authorize(context.Background(), p, perm); err != nil {
			return fail("evaluation failed (the Guard answers 503): %v", err)
		}
	}

	var b bytes.Buffer
	src := "claims file"
	if unverified {
		src = "token payload (UNVERIFIED signature)"
	}
	fmt.Fprintf(&b, "claims:          %s\n", src)
	fmt.Fprintf(&b, "mapper:          %s\n", mapperName)
	fmt.Fprintf(&b, "principal:       %s\n", p)
	fmt.Fprintf(&b, "subjects:        %s\n", strings.Join(casbinauthz.DefaultSubjects(p), " "))
	fmt.Fprintf(&b, "granted scopes:  %s\n", orNone(p.Scopes))
	fmt.Fprintf(&b, "groups:          %s\n", orNone(p.Groups))
	fmt.Fprintf(&b, "roles:           %s\n", orNone(p.Roles))
	fmt.Fprintf(&b, "attributes:      %s\n", attributes(p.Attributes))
	fmt.Fprintf(&b, "operation:       %s -> %s %s\n", *method, perm.Object(), perm.Action)
	if argsApply(perm, decls) {
		fmt.Fprintf(&b, "arguments:       %s\n", typedArgs(decls, perm.Args))
	}
	switch {
	case refused != nil:
		fmt.Fprintf(&b, "decision:        DENY before the policy (the Guard answers %s)\n", refused.msg)
		_, _ = stdout.Write(b.Bytes())
		return 1
	case d.Allow:
		fmt.Fprintf(&b, "decision:        ALLOW (%s)\n", d.Reason)
	case len(d.RequiredScopes) > 0:
		fmt.Fprintf(&b, "decision:        DENY (%s): 403 insufficient_scope, step-up\n", d.Reason)
	default:
		fmt.Fprintf(&b, "decision:        DENY (%s)\n", d.Reason)
	}
	fmt.Fprintf(&b, "rule:            %s\n", orDefault(d.Rule, "(no matching rule: deny by default)"))
	if len(d.RequiredScopes) > 0 {
		fmt.Fprintf(&b, "required scopes: %s\n", strings.Join(d.RequiredScopes, " "))
		var missing []string
		for _, s := range d.RequiredScopes {
			if !p.HasScope(s) {
				missing = append(missing, s)
			}
		}
		fmt.Fprintf(&b, "missing scopes:  %s\n", strings.Join(missing, " "))
	}
	if perm.Action == core.ActionList && d.Allow {
		if err := explainList(&b, a, p, *method, *tools); err != nil {
			return fail("%v", err)
		}
	}
	_, _ = stdout.Write(b.Bytes())
	if d.Allow {
		return 0
	}
	return 1
}

// explainSetup returns the mapper and authorizer: the config's (with
// -model/-policy overriding its model and policy files) or, without
// -config, the standard mapper and the given model and policy.
func explainSetup(cfgPath, model string, policies []string, specs []core.AttributeSpec, iss []casbinauthz.Issuer, decls *inspect.ArgDecls) (core.ClaimMapper, core.Authorizer, *inspect.ArgDecls, string, error) {
	if cfgPath == "" {
		text, err := config.ModelText(model, "")
		if err != nil {
			return nil, nil, nil, "", err
		}
		a, err := casbinauthz.New(casbinauthz.Config{Model: text, Source: casbinauthz.FileSource{Paths: policies}, CacheSize: -1, Attributes: specs, Issuers: iss, Args: decls})
		if err != nil {
			return nil, nil, nil, "", err
		}
		m, err := standardMapper()
		return m, a, decls, "standard (sub, client_id/azp, scope/scp, groups, roles, tid/tenant; no -config)", err
	}
	f, dir, err := config.Load(cfgPath, config.Options{})
	if err != nil {
		return nil, nil, nil, "", err
	}
	if f.AuthenticateOnly {
		return nil, nil, nil, "", fmt.Errorf("%s: authenticate_only has no policy to explain", cfgPath)
	}
	if model != "" {
		if !strings.HasSuffix(model, ".conf") && !strings.ContainsAny(model, `/\`) {
			f.Model = model
		} else if f.Model, err = filepath.Abs(model); err != nil {
			return nil, nil, nil, "", err
		}
	}
	if len(policies) > 0 {
		f.Policy = config.FilePolicy{CacheSize: -1}
		for _, p := range policies {
			abs, err := filepath.Abs(p)
			if err != nil {
				return nil, nil, nil, "", err
			}
			f.Policy.Files = append(f.Policy.Files, abs)
		}
	}
	f.Policy.Watch = false
	// A decision does not depend on where sessions live: a file naming
	// a store this binary does not register (stores.sessions: redis) is
	// explained all the same.
	f.Stores = config.FileStores{}
	b, err := f.Build(context.Background(), dir, config.Options{})
	if err != nil {
		return nil, nil, nil, "", err
	}
	return b.Mapper, b.Authorizer, b.Config.Inspect.Args, "the issuer's mapper from " + cfgPath, nil
}

// explainList prints which of the named items the caller would see in a
// list response: the Guard shows an item when the principal may use it
// now or could with more scopes (core.Guard's list filter).
func explainList(b *bytes.Buffer, a core.Authorizer, p *core.Principal, method, items string) error {
	kind, action, call := core.ObjectTool, core.ActionCall, "tools/call"
	switch method {
	case "resources/list", "resources/templates/list":
		kind, action, call = core.ObjectResource, core.ActionRead, "resources/read"
	case "prompts/list":
		kind, action, call = core.ObjectPrompt, core.ActionGet, "prompts/get"
	}
	if items == "" {
		fmt.Fprintf(b, "list:            pass -tools a,b,c to see which items the caller would see\n")
		return nil
	}
	var shown, hidden []string
	for _, name := range strings.Split(items, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		d, err := a.Authorize(context.Background(), p, core.Permission{Kind: kind, Name: name, Action: action, Method: call, Listing: true})
		switch {
		case err != nil:
			hidden = append(hidden, name+" (evaluation error)")
		case d.Allow:
			shown = append(shown, name)
		case len(d.RequiredScopes) > 0:
			shown = append(shown, name+" (step-up: "+strings.Join(d.RequiredScopes, " ")+")")
		default:
			hidden = append(hidden, name)
		}
	}
	fmt.Fprintf(b, "caller sees:     %s\n", orNone(shown))
	fmt.Fprintf(b, "hidden:          %s\n", orNone(hidden))
	return nil
}

// readClaimsInput reads the claims JSON (-claims, or -token holding JSON)
// or a JWT's unverified payload (-token-file, or -token holding a JWT).
func readClaimsInput(claimsPath, tokenPath, jwtPath string) ([]byte, bool, error) {
	path := claimsPath + tokenPath + jwtPath // exactly one is set
	b, err := readSmall(path)
	if err != nil {
		return nil, false, err
	}
	trimmed := bytes.TrimSpace(b)
	if claimsPath != "" || (tokenPath != "" && bytes.HasPrefix(trimmed, []byte("{"))) {
		return b, false, nil
	}
	raw, err := jwtPayload(trimmed)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %v", path, err)
	}
	return raw, true, nil
}

func attributes(m map[string]any) string {
	if len(m) == 0 {
		return "(none)"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func orNone(s []string) string { return orDefault(strings.Join(s, " "), "(none)") }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxInput+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxInput {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxInput)
	}
	return b, nil
}

// jwtPayload returns the decoded payload of a compact JWS, unverified.
func jwtPayload(tok []byte) ([]byte, error) {
	parts := strings.Split(strings.TrimSpace(string(tok)), ".")
	if len(parts) != 3 {
		return nil, errors.New("not a compact JWT (want three dot-separated parts)")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("payload is not base64url: %v", err)
	}
	return b, nil
}

// parseClaims decodes a strict JSON object of claims.
func parseClaims(raw []byte) (*core.Claims, error) {
	m, err := core.ParseRawClaims(raw)
	if errors.Is(err, core.ErrNotObject) {
		return nil, errors.New("claims must be a JSON object")
	}
	if err != nil {
		return nil, err
	}
	c := &core.Claims{Raw: m}
	c.Issuer, _ = c.String("iss")
	c.Subject, _ = c.String("sub")
	return c, nil
}

// standardMapper is the mapper without -config: the standard claim layout
// with department, acr and amr as attributes.
func standardMapper() (core.ClaimMapper, error) {
	return mapper.Standard(mapper.Config{
		AttributeClaims: map[string]string{"department": "department", "acr": "acr", "amr": "amr"},
	})
}

// permissionFor maps an MCP method and target to a permission, as the
// Guard's inspection does.
func permissionFor(method, target string) (core.Permission, error) {
	perm := core.Permission{Method: method}
	needTarget := func(k core.ObjectKind, act string) (core.Permission, error) {
		if target == "" {
			return perm, fmt.Errorf("%s needs -target", method)
		}
		perm.Kind, perm.Name, perm.Action = k, target, act
		return perm, nil
	}
	switch method {
	case "tools/call":
		return needTarget(core.ObjectTool, core.ActionCall)
	case "resources/read":
		return needTarget(core.ObjectResource, core.ActionRead)
	case "resources/subscribe", "resources/unsubscribe":
		return needTarget(core.ObjectResource, core.ActionSubscribe)
	case "prompts/get":
		return needTarget(core.ObjectPrompt, core.ActionGet)
	case "completion/complete":
		kind, name, ok := strings.Cut(target, ":")
		if !ok || (kind != "prompt" && kind != "resource") || name == "" {
			return perm, errors.New("completion/complete needs -target prompt:<name> or resource:<uri>")
		}
		perm.Kind, perm.Name, perm.Action = core.ObjectKind(kind), name, core.ActionComplete
		return perm, nil
	case "tools/list", "resources/list", "resources/templates/list", "prompts/list":
		perm.Kind, perm.Action = core.ObjectServer, core.ActionList
		return perm, nil
	case "initialize", "ping", "server/discover", "logging/setLevel", "subscriptions/listen":
		perm.Kind, perm.Action = core.ObjectServer, core.ActionConnect
		return perm, nil
	}
	if strings.HasPrefix(method, "notifications/") && len(method) > len("notifications/") {
		perm.Kind, perm.Action = core.ObjectServer, core.ActionConnect
		return perm, nil
	}
	return perm, fmt.Errorf("unknown MCP method %q (the Guard refuses it before any policy)", method)
}
