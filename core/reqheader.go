package core

import (
	"net/http"

	"github.com/mcpauthz/mcpauthz/core/inspect"
)

// reqHeader is every request header field Check reads on the allowed path,
// gathered once: core/inspect's fields and the Guard's own. Each field is
// header[name] for its canonical name (the lookup http.Header.Values
// makes), nil when absent.
type reqHeader struct {
	ins           inspect.Header // Content-Type and Mcp-Session-Id included
	authorization []string
	origin        []string
	requestID     []string // X-Request-Id
	lastEventID   []string // Last-Event-Id
}

// gatherMax is the largest header walked key by key. A header map of a few
// keys is walked once, which costs less than looking up each of the ten
// names the Guard and the inspector read; a larger one is looked up.
const gatherMax = 16

// gatherFrom fills h from an adapter's header (Request.Fields): from its
// embedded HeaderFields when it has one, else one name at a time.
func (h *reqHeader) gatherFrom(f HeaderReader) {
	if fh, ok := f.(fieldsHolder); ok {
		if hf := fh.headerFields(); hf != nil { // nil: an embedded *HeaderFields never set, read through Values
			h.ins = inspect.Header{ProtocolVersion: hf.ProtocolVersion, SessionID: hf.SessionID, ContentType: hf.ContentType,
				ContentEncoding: hf.ContentEncoding, Method: hf.Method, Name: hf.Name}
			h.authorization, h.origin, h.requestID, h.lastEventID = hf.Authorization, hf.Origin, hf.RequestID, hf.LastEventID
			return
		}
	}
	h.ins = inspect.Header{
		ProtocolVersion: f.Values(inspect.HeaderProtocolVersion),
		SessionID:       f.Values(inspect.HeaderSessionID),
		ContentType:     f.Values("Content-Type"),
		ContentEncoding: f.Values("Content-Encoding"),
		Method:          f.Values(inspect.HeaderMethod),
		Name:            f.Values(inspect.HeaderName),
	}
	h.authorization, h.origin = f.Values("Authorization"), f.Values("Origin")
	h.requestID, h.lastEventID = f.Values("X-Request-Id"), f.Values("Last-Event-Id")
}

// gather fills h from header. Walking the keys and matching each against
// the canonical names finds exactly what looking each name up finds.
func (h *reqHeader) gather(header http.Header) {
	if len(header) > gatherMax {
		h.ins = inspect.Header{
			ProtocolVersion: header[inspect.HeaderProtocolVersion],
			SessionID:       header[inspect.HeaderSessionID],
			ContentType:     header["Content-Type"],
			ContentEncoding: header["Content-Encoding"],
			Method:          header[inspect.HeaderMethod],
			Name:            header[inspect.HeaderName],
		}
		h.authorization, h.origin = header["Authorization"], header["Origin"]
		h.requestID, h.lastEventID = header["X-Request-Id"], header["Last-Event-Id"]
		return
	}
	for k, vs := range header {
		switch k {
		case "Authorization":
			h.authorization = vs
		case "Origin":
			h.origin = vs
		case "X-Request-Id":
			h.requestID = vs
		case "Last-Event-Id":
			h.lastEventID = vs
		default:
			h.ins.Set(k, vs)
		}
	}
}
