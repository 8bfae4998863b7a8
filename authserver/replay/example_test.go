package replay_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcpauthz/mcpauthz/authserver/replay"
)

func ExampleMemory() {
	store, err := replay.NewMemory(replay.MemoryConfig{MaxEntries: 10_000})
	if err != nil {
		panic(err)
	}
	exp := time.Now().Add(5 * time.Minute)
	fmt.Println(store.CheckAndStore(context.Background(), "idjag|https://idp.example|jti-1", exp))
	err = store.CheckAndStore(context.Background(), "idjag|https://idp.example|jti-1", exp)
	fmt.Println(errors.Is(err, replay.ErrReplay))
	// Output:
	// <nil>
	// true
}
