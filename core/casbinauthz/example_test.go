package casbinauthz_test

import (
	"context"
	"fmt"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
)

// The quickstart policy answers "allowed?" and "which scopes?" at once.
func Example() {
	model, _ := casbinmodels.Model("quickstart")
	policy, _ := casbinmodels.SamplePolicy("quickstart")
	a, err := casbinauthz.New(casbinauthz.Config{Model: model, Source: casbinauthz.StringSource(policy)})
	if err != nil {
		fmt.Println(err)
		return
	}
	deploy := core.Permission{Kind: core.ObjectTool, Name: "deploy", Action: core.ActionCall, Method: "tools/call"}
	alice := &core.Principal{Kind: core.PrincipalUser, Subject: "alice", Groups: []string{"engineering"}}
	bob := &core.Principal{Kind: core.PrincipalUser, Subject: "bob", Groups: []string{"marketing"}}

	d, _ := a.Authorize(context.Background(), alice, deploy)
	fmt.Printf("alice: allow=%t step-up=%v (%s)\n", d.Allow, d.RequiredScopes, d.Rule)

	alice.Scopes = []string{"mcp:deploy"}
	d, _ = a.Authorize(context.Background(), alice, deploy)
	fmt.Printf("alice+mcp:deploy: allow=%t\n", d.Allow)

	d, _ = a.Authorize(context.Background(), bob, deploy)
	fmt.Printf("bob: allow=%t step-up=%v reason=%q\n", d.Allow, d.RequiredScopes, d.Reason)
	// Output:
	// alice: allow=false step-up=[mcp:deploy] (p, group:engineering, tool:deploy, call, allow)
	// alice+mcp:deploy: allow=true
	// bob: allow=false step-up=[] reason="denied by policy"
}

// Machine clients are their own subjects: client:<client_id>.
func ExampleDefaultSubjects() {
	bot := &core.Principal{Kind: core.PrincipalClient, ClientID: "ci-bot", Scopes: []string{"mcp:deploy"}}
	fmt.Println(casbinauthz.DefaultSubjects(bot))
	user := &core.Principal{Kind: core.PrincipalUser, Subject: "carol", ClientID: "web", Groups: []string{"hr", "admins"}}
	fmt.Println(casbinauthz.DefaultSubjects(user))
	// Output:
	// [* client:ci-bot scope:mcp:deploy]
	// [* user:carol group:hr group:admins]
}

// Policies hot-reload from files; a broken file keeps the last good policy.
func ExampleAuthorizer_Reload() {
	model, _ := casbinmodels.Model("rbac")
	policy := "p, *, tool:echo, call, allow\n"
	src := casbinauthz.StringSource(policy)
	a, _ := casbinauthz.New(casbinauthz.Config{Model: model, Source: &mutable{text: &src}})

	src = "p, *, tool:echo, call\n" // wrong field count
	fmt.Println(a.Reload(context.Background()) != nil, a.Version())

	src = "p, *, tool:echo, call, allow\np, *, tool:date, call, allow\n"
	fmt.Println(a.Reload(context.Background()), a.Version())
	// Output:
	// true 1
	// <nil> 2
}

type mutable struct{ text *casbinauthz.StringSource }

func (m *mutable) Load(ctx context.Context) ([]byte, error) { return m.text.Load(ctx) }
