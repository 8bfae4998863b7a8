package main

import (
	"testing"

	"github.com/mcpauthz/mcpauthz/coretest"
	"github.com/mcpauthz/mcpauthz/examples/internal/demo"
	"github.com/mcpauthz/mcpauthz/examples/internal/demotest"
)

func TestSmoke(t *testing.T) {
	idp := coretest.NewIdP(t)
	demotest.Smoke(t, demotest.Start(t, idp, "nethttp", demo.HTTP(routes)), idp)
}
