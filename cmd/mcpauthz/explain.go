package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
	"github.com/mcpauthz/mcpauthz/core/mapper"
	"github.com/mcpauthz/mcpauthz/internal/jsonscan"
)

const maxInput = 1 << 20

func explainCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	modelPath := fs.String("model", "", "Casbin model file (REQUIRED)")
	var policies, attrs, issuers stringList
	fs.Var(&policies, "policy", "policy CSV file (REQUIRED; repeat to concatenate several files)")
	fs.Var(&attrs, "attr", "declared ABAC attribute name:type[=default] (repeatable; as for lint)")
	fs.Var(&issuers, "issuer", "trusted issuer alias=URL[;tenant] (repeatable; as for lint)")
	claimsPath := fs.String("claims", "", "JSON file with the token claims (this or -token-file)")
	tokenPath := fs.String("token-file", "", "file with a JWT whose payload is decoded WITHOUT signature verification")
	method := fs.String("method", "", "MCP method, e.g. tools/call, resources/read, prompts/get, tools/list (REQUIRED)")
	target := fs.String("target", "", "tool name, resource URI or prompt name; for completion/complete prompt:<name> or resource:<uri>")
	scopes := fs.String("scopes", "", "space-separated scopes that replace the token's scopes")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "mcpauthz explain: "+format+"\n", a...)
		return 2
	}
	if *modelPath == "" || len(policies) == 0 || *method == "" || fs.NArg() > 0 {
		fs.Usage()
		return fail("-model, -policy and -method are required")
	}
	if (*claimsPath == "") == (*tokenPath == "") {
		return fail("exactly one of -claims and -token-file is required")
	}
	model, err := os.ReadFile(*modelPath)
	if err != nil {
		return fail("%v", err)
	}
	var raw []byte
	unverified := false
	if *claimsPath != "" {
		if raw, err = readSmall(*claimsPath); err != nil {
			return fail("%v", err)
		}
	} else {
		tok, err := readSmall(*tokenPath)
		if err != nil {
			return fail("%v", err)
		}
		if raw, err = jwtPayload(tok); err != nil {
			return fail("%s: %v", *tokenPath, err)
		}
		unverified = true
		fmt.Fprintln(stderr, "mcpauthz explain: WARNING: the token signature is NOT verified; never use this to make real decisions")
	}
	claims, err := parseClaims(raw)
	if err != nil {
		return fail("claims: %v", err)
	}
	scopesSet := false
	fs.Visit(func(f *flag.Flag) { scopesSet = scopesSet || f.Name == "scopes" })
	if scopesSet {
		claims.Raw["scope"] = *scopes
		delete(claims.Raw, "scp")
	}
	p, err := mapPrincipal(claims)
	if err != nil {
		return fail("%v", err)
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
	a, err := casbinauthz.New(casbinauthz.Config{Model: string(model), Source: casbinauthz.FileSource{Paths: policies}, CacheSize: -1, Attributes: specs, Issuers: iss})
	if err != nil {
		return fail("%v", err)
	}
	d, err := a.Authorize(context.Background(), p, perm)
	if err != nil {
		return fail("evaluation failed (the Guard answers 503): %v", err)
	}

	var b bytes.Buffer
	src := "claims file"
	if unverified {
		src = "token payload (UNVERIFIED signature)"
	}
	fmt.Fprintf(&b, "claims:          %s\n", src)
	fmt.Fprintf(&b, "principal:       %s\n", p)
	fmt.Fprintf(&b, "subjects:        %s\n", strings.Join(casbinauthz.DefaultSubjects(p), " "))
	fmt.Fprintf(&b, "granted scopes:  %s\n", orNone(p.Scopes))
	fmt.Fprintf(&b, "operation:       %s -> %s %s\n", *method, perm.Object(), perm.Action)
	switch {
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
	_, _ = stdout.Write(b.Bytes())
	if d.Allow {
		return 0
	}
	return 1
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
	if err := jsonscan.Validate(raw, jsonscan.Options{}); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, errors.New("claims must be a JSON object")
	}
	c := &core.Claims{Raw: m}
	c.Issuer, _ = c.String("iss")
	c.Subject, _ = c.String("sub")
	return c, nil
}

// mapPrincipal uses the standard mapper (sub, client_id/azp, scope/scp,
// groups, roles, tid/tenant) with department, acr and amr as attributes.
func mapPrincipal(c *core.Claims) (*core.Principal, error) {
	m, err := mapper.Standard(mapper.Config{
		AttributeClaims: map[string]string{"department": "department", "acr": "acr", "amr": "amr"},
	})
	if err != nil {
		return nil, err
	}
	return m.MapClaims(context.Background(), c)
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
