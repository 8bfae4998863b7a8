// Package demo holds what the framework examples share, so that each
// examples/<framework>/main.go shows only the framework wiring: flag and
// environment configuration, the Guard (core/verifier for JWTs from an
// issuer URL, core/casbinauthz with a casbinmodels model for policy), the
// go-sdk MCP server, and serving with graceful shutdown. An example's main
// is demo.Main(name, build): build is the framework wiring (for net/http
// handlers, demo.HTTP(routes)), and its test runs the same build through
// demo.Run.
package demo
