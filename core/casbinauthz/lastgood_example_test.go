package casbinauthz_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mcpauthz/mcpauthz/casbinmodels"
	"github.com/mcpauthz/mcpauthz/core/casbinauthz"
)

// downSource is a policy database that cannot be reached.
type downSource struct{}

func (downSource) Load(context.Context) ([]byte, error) {
	return nil, errors.New("connection refused")
}

// A replica starting while its policy database is down starts from the
// last good policy an earlier run accepted, and is not ready until the
// database is reached.
func ExampleConfig_lastGood() {
	dir, _ := os.MkdirTemp("", "lastgood")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "policy.lastgood")
	model, _ := casbinmodels.Model("rbac")

	// An earlier run, with the database up, wrote the file.
	_, err := casbinauthz.New(casbinauthz.Config{Model: model, LastGoodPath: path,
		Source: casbinauthz.StringSource("p, *, tool:echo, call, allow\n")})
	fmt.Println("first run:", err)

	a, err := casbinauthz.New(casbinauthz.Config{Model: model, LastGoodPath: path, Source: downSource{}})
	fmt.Println("database down:", err)
	fmt.Println("degraded:", a.Stats().Degraded != "")
	fmt.Println("ready:", a.Ready(context.Background()) == nil)

	_, err = casbinauthz.New(casbinauthz.Config{Model: model, Source: downSource{}})
	fmt.Println("without the file:", errors.Is(err, casbinauthz.ErrReload))
	// Output:
	// first run: <nil>
	// database down: <nil>
	// degraded: true
	// ready: false
	// without the file: true
}
