package core

import (
	"io"

	"github.com/mcpauthz/mcpauthz/core/inspect"
	"github.com/mcpauthz/mcpauthz/internal/otelx"
)

// This file binds list filtering to core/inspect. Both filters fail closed:
// a response they cannot parse is replaced by a JSON-RPC internal error.

// Filtered results are always marked cacheScope "private": the list is
// per-principal, and the go-sdk emits cacheScope "public" on every protocol
// version, which would let a shared cache serve one principal's list to
// another (MCP 2026-07-28 caching, "Choosing a Cache Scope").

func (res *Result) filterJSON(body []byte) ([]byte, error) {
	sp := res.startFilterSpan()
	out, err := inspect.FilterJSON(body, res.listName(), res.allowItem, true)
	otelx.End(sp, err)
	res.hidden.finish()
	return out, err
}

func (res *Result) newSSEFilter(w io.Writer) io.WriteCloser {
	var f io.WriteCloser = inspect.NewSSEFilter(w, res.listName(), res.allowItem, true)
	if res.hidden != nil {
		f = &hiddenCloser{WriteCloser: f, h: res.hidden}
	}
	if sp := res.startFilterSpan(); sp != nil {
		return &spanCloser{WriteCloser: f, sp: sp}
	}
	return f
}

// hiddenCloser records the hidden items of a streamed list response on
// Close.
type hiddenCloser struct {
	io.WriteCloser
	h *hiddenItems
}

func (c *hiddenCloser) Close() error {
	err := c.WriteCloser.Close()
	c.h.finish()
	return err
}

// Flush passes a flush on to the SSE filter.
func (c *hiddenCloser) Flush() error {
	if fl, ok := c.WriteCloser.(interface{ Flush() error }); ok {
		return fl.Flush()
	}
	return nil
}

// listName is the inspect list name of the request's method ("" for a
// method that is not a list).
func (res *Result) listName() string {
	switch rpcMethods[res.rpc] {
	case "tools/list":
		return inspect.ListTools
	case "resources/list":
		return inspect.ListResources
	case "resources/templates/list":
		return inspect.ListResourceTemplates
	case "prompts/list":
		return inspect.ListPrompts
	}
	return ""
}
