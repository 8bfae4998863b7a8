package proxy_test

import (
	"fmt"
	"net/http"

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
