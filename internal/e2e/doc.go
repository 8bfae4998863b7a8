// Package e2e holds end-to-end tests only: a real go-sdk MCP server behind
// core.Guard and the net/http adapter, driven with a hostile request corpus
// (security-test-plan J01-J17). It asserts on what the server executed, not
// only on status codes, which is what catches parser differentials.
package e2e
