package config_test

import (
	"os"
	"strings"
	"testing"
)

// TestRootModuleHasNoOTelGlobals: the root module's requirements (kept
// tidy by CI) hold none of the modules that OpenTelemetry's global package
// go.opentelemetry.io/otel brings: a library user who never asks for
// telemetry.providers: global must not build go-logr or the
// auto-instrumentation SDK. The application passes the global getters in
// config.Options instead.
func TestRootModuleHasNoOTelGlobals(t *testing.T) {
	mod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"github.com/go-logr/", "go.opentelemetry.io/auto/sdk", "go.opentelemetry.io/otel/sdk"} {
		if strings.Contains(string(mod), m) {
			t.Errorf("the root go.mod requires %s", m)
		}
	}
}
