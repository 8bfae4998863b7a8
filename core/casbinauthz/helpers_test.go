package casbinauthz

import (
	"testing"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
)

func mustModel(t testing.TB, name string) string {
	t.Helper()
	m, err := casbinmodels.Model(name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustPolicy(t testing.TB, name string) string {
	t.Helper()
	p, err := casbinmodels.SamplePolicy(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func user(sub string, groups ...string) *core.Principal {
	return &core.Principal{Kind: core.PrincipalUser, Issuer: "https://issuer.example.com", Subject: sub, Groups: groups}
}

func tool(name string) core.Permission {
	return core.Permission{Kind: core.ObjectTool, Name: name, Action: core.ActionCall, Method: "tools/call"}
}
