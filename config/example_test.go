package config_test

import (
	"context"
	"fmt"

	"github.com/mcpauthz/mcpauthz/config"
)

func ExampleLoad() {
	f, dir, err := config.Load("testdata/minimal.yaml", config.Options{})
	if err != nil {
		panic(err)
	}
	b, err := f.Build(context.Background(), dir, config.Options{})
	if err != nil {
		panic(err)
	}
	fmt.Println(b.Config.Resource)
	fmt.Println(b.Config.Metadata.AuthorizationServers)
	fmt.Println(b.Authorizer.Stats().Rules, "rules")
	// Output:
	// https://mcp.example.com/mcp
	// [https://acme.okta.com/oauth2/default]
	// 15 rules
}
