package redisstore_test

import (
	"context"
	"log"

	"github.com/mcpauthz/mcpauthz/authserver"
	"github.com/mcpauthz/mcpauthz/config"
	redisstore "github.com/mcpauthz/mcpauthz/stores/redis"
)

// A program of your own that reads both files with the "redis" store kind
// registered, as the mcpauthz-redis binary does: the authorization
// server's file names stores.kind: redis, the Guard's stores.sessions:
// redis. An unregistered kind fails here; an unreachable Redis does not
// (the server starts not ready).
func ExampleRegistries() {
	guardOpts, asOpts := redisstore.Registries()
	ctx := context.Background()
	asCfg, closeStores, err := authserver.Load(ctx, "as.yaml", asOpts)
	if err != nil {
		log.Fatal(err) // e.g. stores.kind: unknown store kind "memcached" (this program registers: memory, redis)
	}
	defer closeStores.Close()
	as, err := authserver.New(asCfg)
	if err != nil {
		log.Fatal(err)
	}
	_ = as // serve as.Routes() on your mux

	f, dir, err := config.Load("guard.yaml", guardOpts)
	if err != nil {
		log.Fatal(err)
	}
	built, err := f.Build(ctx, dir, guardOpts)
	if err != nil {
		log.Fatal(err)
	}
	defer built.Close()
	// core.New(built.Config) is the Guard.
}
