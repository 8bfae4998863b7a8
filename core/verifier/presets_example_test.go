package verifier_test

import (
	"context"
	"fmt"

	"github.com/mcpauthz/mcpauthz/core/verifier"
)

func ExampleOkta() {
	okta, err := verifier.Okta(verifier.OktaConfig{Domain: "acme.okta.com", Audience: []string{"https://mcp.example.com/mcp"}})
	if err != nil {
		panic(err)
	}
	entra, err := verifier.Entra(verifier.EntraConfig{
		TenantIDs: []string{"72f988bf-86f1-41af-91ab-2d7cd011db47"},
		ClientID:  "6e74172b-be56-4843-9ff4-e66a39bb12e3",
	})
	if err != nil {
		panic(err)
	}
	// Two IdPs: each issuer entry keeps its own audiences and mapper.
	v, err := verifier.New(context.Background(), verifier.Config{Issuers: append(okta.Issuers, entra.Issuers...)})
	if err != nil {
		panic(err)
	}
	for _, is := range append(okta.Issuers, entra.Issuers...) {
		fmt.Println(is.Issuer, is.Types, is.Audience)
	}
	fmt.Println(v.Audiences())
	_ = v.Mapper() // core.Config.Mapper
	// Output:
	// https://acme.okta.com/oauth2/default [ JWT] [https://mcp.example.com/mcp]
	// https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0 [JWT] [6e74172b-be56-4843-9ff4-e66a39bb12e3]
	// [6e74172b-be56-4843-9ff4-e66a39bb12e3 https://mcp.example.com/mcp]
}
