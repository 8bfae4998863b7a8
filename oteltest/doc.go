// Package oteltest holds the tests that check the OpenTelemetry
// instrumentation of mcpauthz (spans and metric values) with the
// OpenTelemetry SDK's in-memory span recorder and a manual metric reader.
// It is its own module so that the SDK never becomes a dependency of the
// root module, which imports only the OpenTelemetry API. It has no
// non-test code.
package oteltest
