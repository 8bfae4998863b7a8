package mcpext_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcpauthz/mcpauthz/core/mcpext"
)

func ExampleDeclare() {
	opts := &mcp.ServerOptions{}
	// No ids: both authorization extensions.
	if err := mcpext.Declare(opts); err != nil {
		panic(err)
	}
	server := mcp.NewServer(&mcp.Implementation{Name: "weather", Version: "1.0.0"}, opts)

	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		panic(err)
	}
	defer ss.Close()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "client", Version: "1.0.0"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		panic(err)
	}
	defer cs.Close()

	ids := make([]string, 0)
	for id := range cs.InitializeResult().Capabilities.Extensions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		fmt.Println(id)
	}
	// Output:
	// io.modelcontextprotocol/enterprise-managed-authorization
	// io.modelcontextprotocol/oauth-client-credentials
}

func ExampleExtensions() {
	ext, _ := mcpext.Extensions(mcpext.OAuthClientCredentials)
	fmt.Println(ext)
	// Output: map[io.modelcontextprotocol/oauth-client-credentials:map[]]
}
