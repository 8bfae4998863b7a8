package core

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"

	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// This file holds two conformance-parity steps (issue 10 §5): the JSON-RPC
// id of refusals the Guard writes itself, and the refusal at initialize of
// a protocol version the Guard would refuse on every later request.

// echoID sets e.ID, when the refusal has a JSON-RPC body without an id, to
// the id of the request's single JSON-RPC message, so that errors found
// before the body was inspected (an unsupported MCP-Protocol-Version, a
// failing store) still echo it, as the MCP server would. It runs only for
// authenticated requests: an unauthenticated body is never parsed.
func (g *Guard) echoID(r *Request, e *Error) {
	if e.ID != nil || r.Method != http.MethodPost || len(r.Body) == 0 || r.BodyTooLarge || r.BodyErr != nil {
		return
	}
	switch e.Kind {
	case KindMessage, KindSession, KindSessionLimit, KindUnavailable, KindInternal, KindForbidden, KindInsufficientScope:
	default:
		return
	}
	// Re-inspect the body alone, under the version that accepts every
	// message shape, to find the id exactly as inspection reads it.
	h := http.Header{"Content-Type": {"application/json"}, inspect.HeaderProtocolVersion: {inspect.Version20250326}}
	opts := g.inspectOpts
	opts.SupportedVersions, opts.AllowUnknownMethods = []string{inspect.Version20250326}, true
	ir, err := inspect.Inspect(http.MethodPost, h, r.Body, opts)
	if err != nil {
		if ie := (*inspect.Error)(nil); errors.As(err, &ie) {
			e.ID = ie.ID
		}
		return
	}
	if !ir.Batch && len(ir.Messages) == 1 {
		e.ID = ir.Messages[0].ID
	}
}

// knownVersions are the MCP protocol versions an MCP SDK may negotiate at
// initialize.
var knownVersions = [...]string{"2024-11-05", inspect.Version20250326, inspect.Version20250618, inspect.Version20251125, inspect.Version20260728}

// checkInitializeVersion refuses an initialize that asks for a protocol
// version the MCP server may accept but the Guard refuses on every later
// request (2024-11-05 by default): the client would get a session it cannot
// use. Unknown version strings pass: the server answers them with a
// version of its own choice, as the spec says.
func (g *Guard) checkInitializeVersion(r *Request, ins *inspection) *Error {
	if !ins.initialize {
		return nil
	}
	supported := g.inspectOpts.SupportedVersions
	if len(supported) == 0 {
		supported = inspect.DefaultSupportedVersions()
	}
	type initMsg struct {
		ID     json.RawMessage `json:"id"`
		Method string          `json:"method"`
		Params struct {
			ProtocolVersion string `json:"protocolVersion"`
		} `json:"params"`
	}
	var msgs []initMsg
	var one initMsg
	if err := json.Unmarshal(r.Body, &one); err == nil {
		msgs = []initMsg{one}
	} else if err := json.Unmarshal(r.Body, &msgs); err != nil {
		return nil // inspection accepted the body; nothing to add
	}
	for _, m := range msgs {
		v := m.Params.ProtocolVersion
		if m.Method != "initialize" || !slices.Contains(knownVersions[:], v) || slices.Contains(supported, v) {
			continue
		}
		return &Error{Kind: KindMessage, Status: http.StatusBadRequest, Code: codeInvalidParams,
			Description: "Unsupported protocol version", ID: m.ID,
			Data: inspect.VersionData{Supported: slices.Clone(supported), Requested: v}}
	}
	return nil
}
