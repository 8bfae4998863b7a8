package jose_test

import (
	"encoding/json"
	"fmt"

	"github.com/mcpauthz/mcpauthz/internal/jose"
)

func ExampleSign() {
	key, err := jose.GenerateKey(jose.ES256)
	if err != nil {
		panic(err)
	}
	kid := jose.KeyID(key.Public())
	raw, err := jose.Sign(key, jose.Header{Alg: jose.ES256, Kid: kid, Typ: "at+jwt"}, []byte(`{"sub":"alice"}`))
	if err != nil {
		panic(err)
	}

	// The verifying side: publish the public JWK, load it with the hygiene
	// rules, pre-parse the token strictly, then verify with the pinned key.
	jwk, _ := jose.PublicJWK(key.Public(), kid, jose.ES256)
	doc, _ := json.Marshal(jose.JWKS{Keys: []jose.JWK{jwk}})
	keys, err := jose.ParseJWKS(doc, jose.KeySetOptions{})
	if err != nil {
		panic(err)
	}
	tok, err := jose.ParseCompact(raw, jose.ParseOptions{Algorithms: jose.DefaultAlgorithms()})
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Header.Alg, tok.Header.Typ, tok.Verify(keys[0]) == nil, string(tok.Payload))
	// Output: ES256 at+jwt true {"sub":"alice"}
}
