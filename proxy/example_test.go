package proxy_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"time"

	"github.com/mcpauthz/mcpauthz/config"
	"github.com/mcpauthz/mcpauthz/core"
	"github.com/mcpauthz/mcpauthz/proxy"
)

// An upstream MCP server written in Go reads the principal the proxy
// forwarded (Config.ForwardPrincipal).
func ExamplePrincipalFromHeader() {
	h := http.Header{}
	_ = proxy.SetPrincipalHeader(h, &core.Principal{
		Kind: core.PrincipalUser, Issuer: "https://idp.example.com", Subject: "alice",
		ClientID: "agent", Groups: []string{"eng", "sre, on-call"},
	})
	fmt.Println(proxy.HeaderGroups+":", h.Get(proxy.HeaderGroups))

	p, err := proxy.PrincipalFromHeader(h)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %q\n", p.ID(), p.Groups)
	// Output:
	// X-Mcpauthz-Groups: eng,sre%2C%20on-call
	// user:https://idp.example.com||alice ["eng" "sre, on-call"]
}

// A sidecar in front of an MCP server on port 3000, from the Guard's YAML
// file (mcpauthz proxy does this, plus probes and graceful shutdown).
func ExampleNew() {
	ctx := context.Background()
	g, err := config.NewGuard(ctx, "guard.yaml", config.Options{})
	if err != nil {
		log.Fatal(err)
	}
	p, err := proxy.New(proxy.Config{Guard: g, Upstream: "http://127.0.0.1:3000/mcp", ForwardPrincipal: true})
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: "127.0.0.1:8443", Handler: p, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	log.Fatal(srv.ListenAndServe())
}
