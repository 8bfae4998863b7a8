package jose

import (
	"context"
	"encoding/json"
	"math/big"
)

type bigInt = big.Int

func bigOne() *big.Int { return big.NewInt(1) }

var t0ctx = context.Background()

func jwksBytes(j JWK) []byte {
	b, _ := json.Marshal(JWKS{Keys: []JWK{j}})
	return b
}
